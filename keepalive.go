package websocket

// keepaliveTick runs on the keepalive timer: it alternates between sending
// a ping and, PongTimeout later, checking that a pong came back. It starts
// no reader goroutine while pongs come back: an application blocked in
// Wait reads them itself.
func (c *Conn) keepaliveTick() {
	if !c.kaWaiting {
		c.pongSeen.Store(false)
		if writeFrame(c, opPing, []byte(nil)) != nil {
			return // closing or closed
		}
		c.kaWaiting, c.kaGrace = true, false
		c.keepalive.Reset(c.opts.PongTimeout)
		return
	}
	if !c.pongSeen.Load() && !c.readerStarted.Load() && !c.kaGrace {
		// Only Wait reads this connection, and the application may not
		// have been waiting: the pong may be unread. The reader goroutine
		// reads from now on, and has one more PongTimeout to find it.
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
