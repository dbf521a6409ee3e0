package websocket

import (
	"errors"
	"io"
	"net"
	"time"
)

// dropReason describes a connection that ended without a closing handshake.
func (c *Conn) dropReason(err error) string {
	if s := c.cause.Load(); s != nil {
		return *s
	}
	if c.stalled(err) {
		return "no data from the peer for " + c.opts.StallTimeout.String() + " in the middle of a frame"
	}
	var ne net.Error
	if c.isClosing() && errors.As(err, &ne) && ne.Timeout() {
		return "no close frame from the peer within " + c.opts.CloseTimeout.String()
	}
	if errors.Is(err, io.EOF) {
		return "connection closed without a close frame"
	}
	if errors.Is(err, net.ErrClosed) {
		return "connection closed by this side without a closing handshake"
	}
	return err.Error()
}

// awaitConsumer gives the application the chance to answer the messages
// queued before the connection ends, as it would with a library that reads
// only when asked: the closing frame waits until the application has taken
// every message and looked for another, unless this side is closing
// already, and at most CloseTimeout.
func (c *Conn) awaitConsumer() {
	c.mb.awaitConsumer(c.opts.CloseTimeout, c.closing)
}

// drain reads until the peer closes its side, bounded by CloseTimeout, so
// that the close frame sent is not lost to a TCP reset. With halfClose, it
// first shuts down this side's writing, telling the peer at once that
// nothing more will come.
func (c *Conn) drain(halfClose bool) {
	if cw, ok := c.nc.(interface{ CloseWrite() error }); ok && halfClose {
		cw.CloseWrite()
	}
	c.setReadDeadline(time.Now().Add(c.opts.CloseTimeout), true)
	io.Copy(io.Discard, &c.rb)
}

// end finishes the closing handshake after reading failed with err, and
// releases everything. The caller holds c.readMu.
func (c *Conn) end(err error) {
	var ce *CloseError
	switch e := err.(type) { // as readMessage returns them, never wrapped
	case *CloseError: // the peer's close frame
		ce = e
		c.awaitConsumer()
		c.sendClose(ce.Code, ce.Reason) // the reply, if we had not sent ours
		if c.client {
			// RFC 6455 §7.1.1: the server closes TCP first.
			c.drain(false)
		}
	case *protocolError: // the peer broke the protocol
		ce = &CloseError{Code: e.code, Reason: e.msg}
		c.awaitConsumer()
		c.sendClose(e.code, e.msg)
		c.drain(true)
	default:
		ce = &CloseError{Code: CloseAbnormalClosure, Reason: c.dropReason(err)}
	}
	c.finish(ce)
}

func (c *Conn) finish(ce *CloseError) {
	c.err.Store(ce)
	c.nc.Close() // also unblocks a writer stuck on a dead peer
	c.wmu.Lock()
	c.markClosing()
	c.wmu.Unlock()
	if c.keepalive != nil {
		c.keepalive.Stop()
	}
	c.mb.close()
	if c.cancelReq != nil {
		c.cancelReq()
	}
	close(c.done)
}

func (c *Conn) isClosing() bool {
	select {
	case <-c.closing:
		return true
	default:
		return false
	}
}

// markClosing records that no frame but close may be written. c.wmu is held.
func (c *Conn) markClosing() {
	if !c.closeSent {
		c.closeSent = true
		close(c.closing)
	}
}

// Close closes the connection normally: CloseWith(CloseNormalClosure, "").
func (c *Conn) Close() error { return c.CloseWith(CloseNormalClosure, "") }

// CloseWith starts the closing handshake (RFC 6455 §7) with code and
// reason, and returns once the connection is closed: when the peer has
// answered, or after CloseTimeout (5 s by default) when it has not. Messages
// already queued can still be taken, and so can those that arrive before
// the peer's answer, as far as the mailbox has room: the reader no longer
// waits for room once this side has said it is done.
//
// The code must be one that may be sent (1000-1003, 1007-1014, 3000-4999)
// and the reason at most 123 bytes of UTF-8; otherwise nothing is sent and
// an error is returned. If the connection is already closing, CloseWith
// waits for it to close and returns ErrClosed.
func (c *Conn) CloseWith(code CloseCode, reason string) error {
	if err := checkCloseArgs(code, reason); err != nil {
		return err
	}
	sent, err := c.sendClose(code, reason)
	if sent && err == nil {
		c.setReadDeadline(time.Now().Add(c.opts.CloseTimeout), true)
	}
	// The peer's answer is read here if nothing else reads the socket;
	// a streamed message being read is discarded first.
	c.abandonStream()
	if c.lockReadHere() {
		c.readToEnd()
		c.unlockRead()
	} else {
		c.startReader()
	}
	<-c.done
	if !sent {
		return ErrClosed
	}
	return err
}

// sendClose writes a close frame unless one was sent already. Its write,
// and any write it waits behind, is bounded by CloseTimeout.
func (c *Conn) sendClose(code CloseCode, reason string) (sent bool, err error) {
	c.wdMu.Lock()
	c.closeCut.Store(true)
	if !c.ctxCut.Load() { // a context's cut stands: its write must end now
		c.nc.SetWriteDeadline(time.Now().Add(c.opts.CloseTimeout))
	}
	c.wdMu.Unlock()
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if c.closeSent {
		return false, nil
	}
	c.markClosing()
	var buf [maxControlPayload]byte
	p := buf[:0]
	if code != CloseNoStatusReceived {
		if len(reason) > maxCloseReason {
			reason = reason[:maxCloseReason]
		}
		p = appendClosePayload(p, code, reason)
	}
	return true, writeFrameLocked(c, opClose, p, 0)
}
