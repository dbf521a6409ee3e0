//go:build js && wasm

package websocket

import (
	"errors"
	"io"
	"os"
	"strings"
	"syscall/js"
	"testing"
	"time"
)

// These tests run under Node.js: TestPackageUnderNode in wasm/ builds this
// package's tests for js/wasm and runs those named TestBrowser.

// newFakeBrowserSocket returns a browserSocket on a stand-in for a
// browser's WebSocket that records what is sent and how it is closed.
func newFakeBrowserSocket(o *Options) (*browserSocket, js.Value) {
	fake := js.Global().Call("eval", `({
		readyState: 1, bufferedAmount: 0, sent: [], closes: [],
		send(d) { this.sent.push(typeof d === "string" ? "text " + d : "binary " + Array.from(d).join(",")); },
		close(code, reason) { this.closes.push(code === undefined ? "no code" : code + " " + reason); },
	})`)
	return newBrowserSocket(fake, "fake", o.withDefaults()), fake
}

// maskedFrame is a frame as a client Conn writes it.
func maskedFrame(fin bool, op opcode, payload string) []byte {
	h := header{fin: fin, op: op, masked: true, key: [4]byte{1, 2, 3, 4}, length: int64(len(payload))}
	b := appendHeader(nil, h)
	start := len(b)
	b = append(b, payload...)
	maskBytes(b[start:], h.key, 0)
	return b
}

func joinJS(v js.Value) string { return v.Call("join", " | ").String() }

// TestBrowserWriteInPieces: frames written a byte at a time, a message in
// fragments with a pong between them, reach the browser whole, and the
// close frame's code and reason go to its close.
func TestBrowserWriteInPieces(t *testing.T) {
	b, fake := newFakeBrowserSocket(nil)
	var stream []byte
	for _, f := range [][]byte{
		maskedFrame(false, opText, "hé"),
		maskedFrame(false, opContinuation, ""),
		maskedFrame(true, opPong, "ignored"),
		maskedFrame(true, opContinuation, "llo"),
		maskedFrame(true, opBinary, "\x00\x01\xff"),
		maskedFrame(true, opBinary, ""),
		maskedFrame(true, opClose, string(appendClosePayload(nil, CloseNormalClosure, "bye"))),
	} {
		stream = append(stream, f...)
	}
	for i := range stream {
		if n, err := b.Write(stream[i : i+1]); n != 1 || err != nil {
			t.Fatalf("byte %d: wrote %d, %v", i, n, err)
		}
	}
	if got, want := joinJS(fake.Get("sent")), "text héllo | binary 0,1,255 | binary "; got != want {
		t.Errorf("sent %q, want %q", got, want)
	}
	if got := joinJS(fake.Get("closes")); got != "1000 bye" {
		t.Errorf("closed with %q, want 1000 bye", got)
	}
}

// TestBrowserWriteLongFrame: a frame with a 64-bit length, in one write
// and in uneven pieces.
func TestBrowserWriteLongFrame(t *testing.T) {
	payload := strings.Repeat("0123456789", 7000) // 70000 bytes: 64-bit length
	frame := maskedFrame(true, opText, payload)
	for _, piece := range []int{len(frame), 3, 4093} {
		b, fake := newFakeBrowserSocket(nil)
		for off := 0; off < len(frame); off += piece {
			if _, err := b.Write(frame[off:min(off+piece, len(frame))]); err != nil {
				t.Fatal(err)
			}
		}
		if got := joinJS(fake.Get("sent")); got != "text "+payload {
			t.Errorf("pieces of %d: sent %d bytes, want the %d of the frame", piece, len(got), len(payload)+5)
		}
	}
}

// TestBrowserReadFrames: messages from the browser read as the frames a
// server would send, the close event as a close frame then the end; a
// close the browser reports as unclean ends with no close frame.
func TestBrowserReadFrames(t *testing.T) {
	b, _ := newFakeBrowserSocket(nil)
	b.onMessage(js.ValueOf("héllo"))
	bin := js.Global().Get("Uint8Array").New(3)
	js.CopyBytesToJS(bin, []byte{7, 8, 9})
	b.onMessage(bin.Get("buffer"))
	b.onClose(4000, "done", true)
	b.onMessage(js.ValueOf("after the close"))
	got, err := io.ReadAll(b)
	if err != nil {
		t.Fatal(err)
	}
	want := appendHeader(nil, header{fin: true, op: opText, length: 6})
	want = append(want, "héllo"...)
	want = appendHeader(want, header{fin: true, op: opBinary, length: 3})
	want = append(want, 7, 8, 9)
	want = appendHeader(want, header{fin: true, op: opClose, length: 6})
	want = appendClosePayload(want, 4000, "done")
	if string(got) != string(want) {
		t.Errorf("read %q\nwant %q", got, want)
	}

	b, _ = newFakeBrowserSocket(nil)
	b.onClose(int(CloseAbnormalClosure), "", false)
	if got, err := io.ReadAll(b); len(got) != 0 || err != nil {
		t.Errorf("after an unclean close: read %q, %v; want nothing", got, err)
	}
}

// TestBrowserReadTooBig: a message over MaxMessageSize is read as its
// header alone, which the Conn fails with 1009 before reading a payload.
func TestBrowserReadTooBig(t *testing.T) {
	b, _ := newFakeBrowserSocket(&Options{MaxMessageSize: 4})
	bin := js.Global().Get("Uint8Array").New(5)
	b.onMessage(bin.Get("buffer"))
	b.onMessage(js.ValueOf("hello"))
	b.onClose(int(CloseAbnormalClosure), "", false)
	got, _ := io.ReadAll(b)
	want := appendHeader(nil, header{fin: true, op: opBinary, length: 5})
	want = appendHeader(want, header{fin: true, op: opText, length: 5})
	if string(got) != string(want) {
		t.Errorf("read %q, want the headers alone %q", got, want)
	}
	if b.bytes != 0 || b.messages != 0 {
		t.Errorf("queue accounts %d messages, %d bytes after reading all", b.messages, b.bytes)
	}
}

// TestBrowserDeadlineMovedWhileWaiting: a deadline set while a Read or a
// Write waits applies to it, as CloseWith's does to a reader already
// waiting for the peer's close.
func TestBrowserDeadlineMovedWhileWaiting(t *testing.T) {
	b, fake := newFakeBrowserSocket(nil)
	fake.Set("bufferedAmount", 2<<20) // a write waits for room
	read, write := make(chan error, 1), make(chan error, 1)
	go func() {
		_, err := b.Read(make([]byte, 1))
		read <- err
	}()
	go func() {
		_, err := b.Write([]byte{0x82})
		write <- err
	}()
	b.SetDeadline(time.Now().Add(50 * time.Millisecond))
	for name, ch := range map[string]chan error{"Read": read, "Write": write} {
		select {
		case err := <-ch:
			if !errors.Is(err, os.ErrDeadlineExceeded) {
				t.Errorf("%s: %v, want the deadline exceeded", name, err)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("%s did not see the deadline set while it waited", name)
		}
	}
	b.SetDeadline(time.Time{}) // lifted: a read waits again
	b.onMessage(js.ValueOf("x"))
	if n, err := b.Read(make([]byte, 3)); n != 3 || err != nil {
		t.Errorf("Read after the deadline was lifted: %d, %v", n, err)
	}
}
