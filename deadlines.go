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
// Setting a deadline costs a timer update, so the stall bound is set only
// when less than half of it is left, and never lifted between frames:
// a read between frames that runs into it lifts it then, and reads on.
// A stalled peer is therefore dropped after between half of StallTimeout
// and all of it.
type socket struct{ c *Conn }

func (s socket) Read(p []byte) (int, error) {
	c := s.c
	if c.opts.StallTimeout <= 0 {
		return c.nc.Read(p)
	}
	if c.inFrame || c.rb.buffered() > 0 {
		if now := time.Now(); !c.stallArmed || c.stallUntil.Sub(now) < c.opts.StallTimeout/2 {
			c.stallUntil = now.Add(c.opts.StallTimeout)
			c.stallArmed = c.setReadDeadline(c.stallUntil, false)
		}
		return c.nc.Read(p)
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

// armWrite bounds the write about to be made by WriteTimeout. Like the
// stall bound, the deadline is moved only when less than half of it is
// left, so most writes cost no timer update; a write is failed after
// between half of WriteTimeout and all of it. Once closing, the closing
// handshake's deadline governs. c.wmu is held.
func (c *Conn) armWrite() {
	if c.opts.WriteTimeout <= 0 || c.closeSent {
		return
	}
	if now := time.Now(); c.writeUntil.Sub(now) < c.opts.WriteTimeout/2 {
		c.writeUntil = now.Add(c.opts.WriteTimeout)
		c.nc.SetWriteDeadline(c.writeUntil)
	}
}
