package websocket

import (
	"bytes"
	"context"
	"encoding/binary"
)

// Ping sends a ping and waits for its pong, or for ctx to be done. Under
// js/wasm it fails at once: a browser's WebSocket cannot send pings.
func (c *Conn) Ping(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if t, ok := c.nc.(interface{ pingUnsupported() error }); ok {
		return t.pingUnsupported() // a browser's WebSocket (js/wasm)
	}
	c.startReader() // to read the pong
	c.pingMu.Lock()
	if c.pings == nil {
		c.pings = make(map[[8]byte]chan struct{})
	}
	c.pingID++
	var id [8]byte
	binary.BigEndian.PutUint64(id[:], c.pingID)
	pong := make(chan struct{})
	c.pings[id] = pong
	c.pingMu.Unlock()
	defer func() {
		c.pingMu.Lock()
		delete(c.pings, id)
		c.pingMu.Unlock()
	}()
	if err := writeFrame(c, opPing, id[:]); err != nil {
		return err
	}
	select {
	case <-pong:
		return nil
	case <-c.done:
		return ErrClosed
	case <-ctx.Done():
		return ctx.Err()
	}
}

// maxQueuedPongs bounds the pongs owed to a peer that pings faster than it
// reads; past it only the latest pings are answered, as RFC 6455 §5.5.3
// allows.
const maxQueuedPongs = 16

// queuePong arranges for a ping to be answered with a pong carrying the same
// data (RFC 6455 §5.5.2). The reader does not write the pong itself: a
// reader blocked on writing could deadlock with a peer whose reader is
// blocked on writing too. A short-lived goroutine writes it, unless a send
// comes first: every frame written after the ping was read goes out behind
// its pong.
func (c *Conn) queuePong(p []byte) {
	c.pongMu.Lock()
	if len(c.pongs) == maxQueuedPongs {
		c.pongs = append(c.pongs[:0], c.pongs[1:]...)
	}
	c.pongs = append(c.pongs, bytes.Clone(p))
	start := !c.pongScheduled
	c.pongScheduled = true
	c.pongPending.Store(true)
	c.pongMu.Unlock()
	if start {
		go c.writePongs()
	}
}

func (c *Conn) writePongs() {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	c.pongMu.Lock()
	c.pongScheduled = false
	c.pongMu.Unlock()
	if !c.closeSent {
		c.flushPongs()
	}
}

// flushPongs writes the pongs owed. c.wmu is held.
func (c *Conn) flushPongs() error {
	c.pongMu.Lock()
	q := c.pongs
	c.pongs = nil
	c.pongPending.Store(false)
	c.pongMu.Unlock()
	for _, p := range q {
		if err := writeFrameLocked(c, opPong, p, 0); err != nil {
			return err
		}
	}
	return nil
}

// pongArrived wakes the Ping whose payload p echoes, and reports whether
// there was one.
func (c *Conn) pongArrived(p []byte) bool {
	c.pingMu.Lock()
	defer c.pingMu.Unlock()
	pong, ok := c.pings[[8]byte(p)]
	if ok {
		close(pong)
		delete(c.pings, [8]byte(p))
	}
	return ok
}
