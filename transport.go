//go:build !js

package wspeer

import (
	"context"
	"errors"
	"net"
	"os"
	"time"
)

// errWouldBlock is a transport's "no progress possible now": nothing to read,
// or no room to write.
var errWouldBlock = errors.New("wspeer: operation would block")

// transport is one connection's non-blocking I/O. Each read or write is a single
// attempt that never blocks; wait parks the caller until an attempt could make
// progress. Two drivers implement it: rawTransport for sockets (a system call
// per attempt, nothing running while idle) and streamTransport for any other
// net.Conn (a goroutine per direction doing the blocking calls).
type transport interface {
	// read copies available bytes into p: n > 0, or an error (errWouldBlock,
	// io.EOF, or the connection's error).
	read(p []byte) (int, error)
	// write takes as many bytes of p as the transport can accept now.
	write(p []byte) (int, error)
	// writev writes a then b in one attempt, as write does (only when
	// canWritev).
	writev(a, b []byte) (int, error)
	// canWritev reports whether writev saves a copy on this transport.
	canWritev() bool
	// wait blocks until a read could progress (if r), flush made progress
	// (if not nil), the deadline passes (zero: none), wake is called, or ctx
	// ends. It returns ctx's error if ctx ended, else nil.
	wait(ctx context.Context, r bool, flush flusher, deadline time.Time) error
	// wake interrupts a wait in progress (or the next one).
	wake()
	// close closes the connection and ends the driver's goroutines.
	close() error
	// sysfd returns the socket a Poller can watch directly, or -1.
	sysfd() int
	// watch installs a Poller's notify, called on wake and, for transports a
	// Poller cannot watch by descriptor, when a read (if r) or write (if w)
	// attempt could progress; it reports whether one can progress already.
	watch(notify func(), r, w bool) bool
}

// flusher writes queued bytes with write (a direct, non-blocking attempt) and
// reports whether the wait should end: progress was made, nothing is left, or
// the outcome is unknown. Waiting for writability must attempt a real write,
// because the runtime's poller is edge-triggered: an edge that came before the
// wait began is not seen again.
type flusher func(write func([]byte) (int, error)) bool

// newTransport picks the raw driver for sockets whose file descriptor the
// runtime exposes, and the stream driver for everything else (TLS, pipes...).
func newTransport(c net.Conn) transport {
	if t := newRawTransport(c); t != nil {
		return t
	}
	return newStreamTransport(c)
}

// longAgo is a deadline in the past, used to interrupt a blocked call.
var longAgo = time.Unix(1, 0)

// isTimeout reports a deadline error, which our own wake-ups cause.
func isTimeout(err error) bool {
	return errors.Is(err, os.ErrDeadlineExceeded)
}

// waker is a wake-up signal that is kept until consumed, so a wake that comes
// just before a wait still ends it.
type waker struct{ ch chan struct{} }

func newWaker() waker { return waker{ch: make(chan struct{}, 1)} }

func (w waker) wake() {
	select {
	case w.ch <- struct{}{}:
	default:
	}
}

// idle blocks until a wake-up, the deadline (zero: none), ctx's end, or a
// receive from ready (nil: never).
func (w waker) idle(ctx context.Context, deadline time.Time, ready <-chan struct{}) error {
	return idleUntil(ctx, deadline, w.ch, ready)
}
