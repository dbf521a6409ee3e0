package websocket

import (
	"net"
	"time"
)

// This file holds the deadlines that keep a connection from waiting on a
// peer forever: the stall bound on a frame that has begun, the write bound,
// and the closing handshake's, which takes over from both once set.

// socket is the reader's view of the network connection: a read in the
// middle of a frame is bounded by StallTimeout, a read between frames is
// not.
//
// As with writes (below), the stall deadline is set StallTimeout/2 ahead
// and moved only when a read runs into it: a read in the middle of a frame
// that times out gets one new deadline and reads on, so a stalled peer is
// dropped after between half of StallTimeout and all of it, and reading
// costs no clock read. The deadline is not lifted between frames: a read
// between frames that runs into it lifts it then, and reads on.
type socket struct{ c *Conn }

func (s socket) Read(p []byte) (int, error) {
	c := s.c
	if c.opts.StallTimeout <= 0 {
		return c.nc.Read(p)
	}
	if c.inFrame || c.rb.buffered() > 0 {
		if !c.stallArmed {
			c.stallArmed = c.setReadDeadline(time.Now().Add(c.opts.StallTimeout/2), false)
		}
		n, err := c.nc.Read(p)
		if n == 0 && c.stallArmed && isTimeout(err) && c.setReadDeadline(time.Now().Add(c.opts.StallTimeout/2), false) {
			return c.nc.Read(p)
		}
		return n, err
	}
	for {
		n, err := c.nc.Read(p)
		if n == 0 && c.stallArmed && isTimeout(err) && c.setReadDeadline(time.Time{}, false) {
			c.stallArmed = false
			continue // idle between frames: not a stall
		}
		return n, err
	}
}

// frameDone records that a frame has been read whole. The caller holds
// readMu.
func (c *Conn) frameDone() { c.inFrame = false }

// stalled reports whether err is the stall bound expiring.
func (c *Conn) stalled(err error) bool { return c.stallArmed && isTimeout(err) }

func isTimeout(err error) bool {
	ne, ok := err.(net.Error)
	return ok && ne.Timeout()
}

// setReadDeadline sets the read deadline and reports true, unless the
// closing handshake's has been set: that one, set with closing, stays
// until the end.
func (c *Conn) setReadDeadline(t time.Time, closing bool) bool {
	c.dlMu.Lock()
	defer c.dlMu.Unlock()
	if c.closeDeadline && !closing {
		return false
	}
	c.closeDeadline = c.closeDeadline || closing
	c.nc.SetReadDeadline(t)
	return true
}

// Writes are bounded by a write deadline that is set WriteTimeout/2 ahead
// when the connection is made, and then only moved when a write runs into
// it: a write that times out gets one new deadline, WriteTimeout/2 ahead,
// and goes on from where it stopped. A write to a peer that reads nothing
// so fails after between half of WriteTimeout and all of it, and a send
// costs neither a clock read nor a timer update (a deadline that passed
// while no write was under way fails the next write at once, before any
// system call, and is moved then; bench/README.md, "What the bounds on
// slow peers cost", measures it). The closing handshake's deadline, and
// SendContext's, are never moved.

// armWrites sets the first write deadline; nc is not shared yet.
func armWrites(nc net.Conn, o *Options) {
	if o.WriteTimeout > 0 {
		nc.SetWriteDeadline(time.Now().Add(o.WriteTimeout / 2))
	}
}

// writeSocket writes b whole. c.wmu is held.
func (c *Conn) writeSocket(b []byte) error {
	n, err := c.nc.Write(b)
	if err != nil && c.rearmWrite(err) {
		_, err = c.nc.Write(b[n:])
	}
	return err
}

// writeBuffers writes v whole, as one writev where it can. c.wmu is held.
func (c *Conn) writeBuffers(v *net.Buffers) error {
	_, err := v.WriteTo(c.nc)
	if err != nil && c.rearmWrite(err) {
		_, err = v.WriteTo(c.nc) // WriteTo consumed what it wrote
	}
	return err
}

// rearmWrite reports whether a write that failed with err may go on under
// a new deadline, and sets it.
func (c *Conn) rearmWrite(err error) bool {
	if c.opts.WriteTimeout <= 0 || !isTimeout(err) || c.closeCut.Load() || c.ctxCut.Load() {
		return false
	}
	c.nc.SetWriteDeadline(time.Now().Add(c.opts.WriteTimeout / 2))
	return true
}
