package bench

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"slices"

	"github.com/gobwas/ws"
)

// gobwas/ws in its low-level style (the README's "Low-level example"):
// ReadHeaderBuffer, io.ReadFull into a reused buffer, Cipher to unmask;
// WriteHeaderBuffer plus the payload through a 4 KiB bufio.Writer. Broadcast
// writes one frame compiled with CompileFrame to every conn.

func init() {
	register(peer{
		name:      "gobwas",
		server:    gobwasServer,
		client:    gobwasClient,
		broadcast: gobwasBroadcast,
	})
}

var errTooBig = errors.New("bench: message over the read limit")

type gobwasEP struct {
	conn   net.Conn
	br     *bufio.Reader
	bw     *bufio.Writer
	client bool
	rh     [ws.MaxHeaderSize - 2]byte // header scratch for reads
	wh     [ws.MaxHeaderSize]byte     // header scratch for writes
	buf    []byte                     // message being read
	ctl    [125]byte                  // control frame payload
	masked []byte                     // client: the masked copy of a payload
}

func gobwasServer(w http.ResponseWriter, r *http.Request) (endpoint, error) {
	conn, rw, _, err := ws.UpgradeHTTP(r, w)
	if err != nil {
		return nil, err
	}
	return &gobwasEP{conn: conn, br: rw.Reader, bw: rw.Writer}, nil
}

func gobwasClient(ctx context.Context, url string, dial dialFunc) (endpoint, error) {
	d := ws.Dialer{NetDial: dial}
	conn, br, _, err := d.Dial(ctx, url)
	if err != nil {
		return nil, err
	}
	if br == nil { // nothing arrived after the handshake response
		br = bufio.NewReaderSize(conn, 4096)
	}
	return &gobwasEP{conn: conn, br: br, bw: bufio.NewWriterSize(conn, 4096), client: true}, nil
}

// next reads one whole data message, answering pings on the way.
func (e *gobwasEP) next() (ws.OpCode, []byte, error) {
	e.buf = e.buf[:0]
	var op ws.OpCode
	for {
		h, err := ws.ReadHeaderBuffer(e.br, e.rh[:])
		if err != nil {
			return 0, nil, err
		}
		if h.Length > readLimit || int64(len(e.buf))+h.Length > readLimit {
			return 0, nil, errTooBig
		}
		if h.OpCode.IsControl() {
			if err := e.control(h); err != nil {
				return 0, nil, err
			}
			continue
		}
		if h.OpCode != ws.OpContinuation {
			op = h.OpCode
		}
		start := len(e.buf)
		e.buf = slices.Grow(e.buf, int(h.Length))[:start+int(h.Length)]
		if _, err := io.ReadFull(e.br, e.buf[start:]); err != nil {
			return 0, nil, err
		}
		if h.Masked {
			ws.Cipher(e.buf[start:], h.Mask, 0)
		}
		if h.Fin {
			return op, e.buf, nil
		}
	}
}

func (e *gobwasEP) control(h ws.Header) error {
	if h.Length > int64(len(e.ctl)) {
		return ws.ErrProtocolControlPayloadOverflow
	}
	p := e.ctl[:h.Length]
	if _, err := io.ReadFull(e.br, p); err != nil {
		return err
	}
	switch h.OpCode {
	case ws.OpClose:
		return io.EOF
	case ws.OpPing:
		if h.Masked {
			ws.Cipher(p, h.Mask, 0)
		}
		return e.write(ws.OpPong, p)
	}
	return nil
}

func (e *gobwasEP) write(op ws.OpCode, p []byte) error {
	h := ws.Header{Fin: true, OpCode: op, Length: int64(len(p))}
	if e.client {
		h.Masked = true
		h.Mask = ws.NewMask()
		e.masked = append(e.masked[:0], p...)
		ws.Cipher(e.masked, h.Mask, 0)
		p = e.masked
	}
	if err := ws.WriteHeaderBuffer(e.bw, h, e.wh[:]); err != nil {
		return err
	}
	if _, err := e.bw.Write(p); err != nil {
		return err
	}
	return e.bw.Flush()
}

func (e *gobwasEP) recv(n int, fn func([]byte)) error {
	for range n {
		_, p, err := e.next()
		if err != nil {
			return err
		}
		if fn != nil {
			fn(p)
		}
	}
	return nil
}

func (e *gobwasEP) send(p []byte) error { return e.write(ws.OpBinary, p) }

func (e *gobwasEP) echo() error {
	for {
		op, p, err := e.next()
		if err != nil {
			return err
		}
		if err := e.write(op, p); err != nil {
			return err
		}
	}
}

func (e *gobwasEP) close() error { return e.conn.Close() }

func gobwasBroadcast(eps []endpoint, p []byte) error {
	frame, err := ws.CompileFrame(ws.NewBinaryFrame(p))
	if err != nil {
		return err
	}
	for _, ep := range eps {
		if _, err := ep.(*gobwasEP).conn.Write(frame); err != nil {
			return err
		}
	}
	return nil
}
