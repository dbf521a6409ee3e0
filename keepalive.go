package websocket

import "encoding/binary"

// keepaliveTick runs on the keepalive timer: it alternates between sending
// a ping and, PongTimeout later, checking that its pong came back. It never
// waits for the write lock or on the socket, so a send blocked on a peer
// that does not read cannot hold keepalive up: the ping waits its turn on
// a goroutine of its own, and the pong check runs on time. It starts no reader goroutine
// while pongs come back: an application blocked in Wait reads them itself.
func (c *Conn) keepaliveTick() {
	if !c.kaWaiting {
		if c.isClosing() {
			return
		}
		// A fresh, unguessable payload: only the pong that echoes it
		// counts, not one the peer sends unasked while reading nothing.
		k1, k2 := maskKeys.next(), maskKeys.next()
		var ping [8]byte
		copy(ping[:4], k1[:])
		copy(ping[4:], k2[:])
		c.kaPing.Store(binary.BigEndian.Uint64(ping[:]))
		c.pongSeen.Store(false)
		c.kaPingSent.Store(false)
		go func() {
			if writeFrame(c, opPing, ping[:]) == nil {
				c.kaPingSent.Store(true)
			}
		}()
		c.kaWaiting, c.kaGrace = true, false
		c.keepalive.Reset(c.opts.PongTimeout)
		return
	}
	if !c.pongSeen.Load() && c.kaPingSent.Load() && !c.readerStarted.Load() && !c.kaGrace {
		// Only Wait reads this connection, and the application may not
		// have been waiting: the pong may be unread. The reader goroutine
		// reads from now on, and has one more PongTimeout to find it. (A
		// ping still unsent, behind a write the peer does not read, gets
		// no such grace.)
		c.kaGrace = true
		c.startReader()
		c.keepalive.Reset(c.opts.PongTimeout)
		return
	}
	c.kaWaiting = false
	if !c.pongSeen.Load() {
		reason := "no pong within " + c.opts.PongTimeout.String()
		c.cause.Store(&reason)
		c.nc.Close()
		return
	}
	c.keepalive.Reset(max(c.opts.PingInterval-c.opts.PongTimeout, 0))
}

// pongReceived records a pong with payload p: it proves the peer alive only
// if it answers the keepalive ping or a Ping in progress.
func (c *Conn) pongReceived(p []byte) {
	if len(p) != 8 {
		return
	}
	if c.pongArrived(p) || binary.BigEndian.Uint64(p) == c.kaPing.Load() {
		c.pongSeen.Store(true)
	}
}
