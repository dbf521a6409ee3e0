package bench

import (
	"bytes"
	"context"
	"testing"
)

// TestPeers checks that every adapter really moves the bytes the
// benchmarks claim it moves: a benchmark that silently read nothing would
// be very fast.
func TestPeers(t *testing.T) {
	for _, p := range peers() {
		t.Run(p.name, func(t *testing.T) {
			t.Run("receive", func(t *testing.T) { checkReceive(t, p) })
			t.Run("send", func(t *testing.T) { checkSend(t, p) })
			t.Run("echo", func(t *testing.T) { checkEcho(t, p) })
			t.Run("broadcast", func(t *testing.T) { checkBroadcast(t, p) })
		})
	}
}

func checkReceive(t *testing.T, p peer) {
	for _, sz := range sizes {
		want := payload(sz.n)
		pat, frames := clientStream(want)
		const n = 3
		c := newStreamConn(pat, n*int64(len(pat)/frames))
		ep, err := acceptOn(p, c)
		if err != nil {
			t.Fatal(err)
		}
		c.start()
		got := 0
		err = ep.recv(n, func(b []byte) {
			if !bytes.Equal(b, want) {
				t.Errorf("size %s: message %d differs (len %d, want %d)", sz.name, got, len(b), len(want))
			}
			got++
		})
		if err != nil || got != n {
			t.Errorf("size %s: recv = %v after %d messages, want nil after %d", sz.name, err, got, n)
		}
		_ = c.Close()
		_ = ep.close()
	}
}

func checkSend(t *testing.T, p peer) {
	for _, client := range []bool{false, true} {
		if client && p.client == nil {
			continue
		}
		for _, sz := range sizes {
			s := new(sink)
			c := newSinkConn(s, client)
			var ep endpoint
			var err error
			if client {
				ep, err = p.client(context.Background(), "ws://127.0.0.1/ws", fakeDial(c))
			} else {
				ep, err = acceptOn(p, c)
			}
			if err != nil {
				t.Fatal(err)
			}
			base := s.n.Load()
			if err := ep.send(payload(sz.n)); err != nil {
				t.Fatal(err)
			}
			want := base + int64(frameLen(sz.n, client))
			if !s.waitFor(want, drainLimit) {
				t.Errorf("client=%v size %s: %d bytes written, want %d", client, sz.name, s.n.Load(), want)
			}
			_ = c.Close()
			_ = ep.close()
		}
	}
}

func checkEcho(t *testing.T, p peer) {
	if p.client == nil {
		t.Skip("no client")
	}
	srv := echoServer(p)
	defer srv.Close()
	ep, err := p.client(context.Background(), wsURL(srv), loopbackDial)
	if err != nil {
		t.Fatal(err)
	}
	defer ep.close()
	var msgs [][]byte
	for _, sz := range sizes {
		msgs = append(msgs, payload(sz.n))
	}
	go func() {
		for _, m := range msgs {
			if err := ep.send(m); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	i := 0
	err = ep.recv(len(msgs), func(b []byte) {
		if !bytes.Equal(b, msgs[i]) {
			t.Errorf("echo %d: got %d bytes, want %d equal bytes", i, len(b), len(msgs[i]))
		}
		i++
	})
	if err != nil {
		t.Fatal(err)
	}
}

func checkBroadcast(t *testing.T, p peer) {
	s := new(sink)
	var eps []endpoint
	for range 3 {
		c := newSinkConn(s, false)
		defer c.Close()
		ep, err := acceptOn(p, c)
		if err != nil {
			t.Fatal(err)
		}
		defer ep.close()
		eps = append(eps, ep)
	}
	base := s.n.Load()
	if err := p.broadcast(eps, payload(1000)); err != nil {
		t.Fatal(err)
	}
	want := base + 3*int64(frameLen(1000, false))
	if !s.waitFor(want, drainLimit) || s.n.Load() != want {
		t.Errorf("%d bytes written, want %d", s.n.Load(), want)
	}
}
