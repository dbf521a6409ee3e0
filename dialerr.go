package websocket

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"time"
)

// fail describes a failed step; if the handshake's time is up or its
// context has ended, that is the failure, whatever error it caused.
func (d *dialer) fail(step string, err error) error {
	if d.expired(err) {
		err = d.ctxErr()
	}
	return fmt.Errorf("websocket: dial %s: %s: %w", d.u, step, err)
}

// expired reports whether the handshake has ended by its deadline or its
// context, given err, the error of the step that failed.
func (d *dialer) expired(err error) bool {
	return d.ctx.Err() != nil || errors.Is(err, os.ErrDeadlineExceeded) || !time.Now().Before(d.deadline)
}

// readFailed describes a response that could not be read: an I/O error
// (EOF becomes io.ErrUnexpectedEOF) or a malformed or oversized response,
// which is a *HandshakeError. from says whose response it was, if not the
// server's.
func (d *dialer) readFailed(lr *limitedReader, step, from string, err error) error {
	switch {
	case d.expired(lr.err):
		return d.fail(step, err)
	case lr.err == errResponseTooLarge:
		return &HandshakeError{Reason: "response headers" + from + " longer than " + strconv.Itoa(maxResponseHeaderBytes) + " bytes"}
	case lr.err == io.EOF:
		return d.fail(step, fmt.Errorf("connection closed before the response ended: %w", io.ErrUnexpectedEOF))
	case lr.err != nil:
		return d.fail(step, err)
	}
	return &HandshakeError{Reason: "malformed response" + from + ": " + err.Error()}
}

// ctxErr is the error of a handshake whose time is up or whose context
// ended: the context's error, or else the handshake timeout.
func (d *dialer) ctxErr() error {
	if err := d.ctx.Err(); err != nil {
		return err
	}
	if d.ctxFirst {
		return context.DeadlineExceeded // the context's timer has yet to fire
	}
	return &timeoutError{d.o.HandshakeTimeout}
}

// timeoutError is a handshake that did not finish within HandshakeTimeout.
type timeoutError struct{ d time.Duration }

func (e *timeoutError) Error() string   { return "handshake not done within " + e.d.String() }
func (e *timeoutError) Timeout() bool   { return true }
func (e *timeoutError) Temporary() bool { return true }

// Is makes the error match context.DeadlineExceeded, as a deadline on the
// caller's context would.
func (e *timeoutError) Is(target error) bool { return target == context.DeadlineExceeded }
