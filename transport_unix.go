//go:build unix

package wspeer

import (
	"context"
	"io"
	"net"
	"os"
	"sync"
	"syscall"
	"time"
)

// rawTransport drives a socket's file descriptor directly: every read or write
// is one non-blocking system call, and an idle connection costs no goroutine.
// Waiting parks on the runtime's network poller through syscall.RawConn.
type rawTransport struct {
	c  net.Conn
	rc syscall.RawConn

	wk      waker
	mu      sync.Mutex
	waiting bool // a wait is parked on the socket; wake interrupts it with a past deadline
}

// newRawTransport returns a raw driver for TCP and Unix sockets, or nil.
func newRawTransport(c net.Conn) transport {
	switch c.(type) {
	case *net.TCPConn, *net.UnixConn:
	default:
		return nil
	}
	rc, err := c.(syscall.Conn).SyscallConn()
	if err != nil {
		return nil
	}
	return &rawTransport{c: c, rc: rc, wk: newWaker()}
}

func (t *rawTransport) read(p []byte) (int, error) {
	var n int
	var serr error
	err := t.rc.Read(func(fd uintptr) bool {
		n, serr = syscall.Read(int(fd), p)
		return true
	})
	return rawResult(n, serr, err, "read")
}

func (t *rawTransport) write(p []byte) (int, error) {
	var n int
	var serr error
	err := t.rc.Write(func(fd uintptr) bool {
		n, serr = syscall.Write(int(fd), p)
		return true
	})
	return rawResult(n, serr, err, "write")
}

// rawResult maps a system call's outcome onto the transport contract.
func rawResult(n int, serr, err error, op string) (int, error) {
	if err != nil {
		if isTimeout(err) {
			// A concurrent wait's wake-up deadline: try again later.
			return 0, errWouldBlock
		}
		return 0, err
	}
	switch serr {
	case nil:
		if n == 0 && op == "read" {
			return 0, io.EOF
		}
		return n, nil
	case syscall.EAGAIN, syscall.EINTR:
		return 0, errWouldBlock
	}
	return 0, os.NewSyscallError(op, serr)
}

func (t *rawTransport) wait(ctx context.Context, r bool, flush flusher, deadline time.Time) error {
	if !r && flush == nil {
		return t.wk.idle(ctx, deadline, nil)
	}
	t.mu.Lock()
	select {
	case <-t.wk.ch:
		t.mu.Unlock()
		return ctx.Err()
	default:
	}
	t.waiting = true
	// A zero deadline clears any earlier one.
	_ = t.c.SetDeadline(deadline)
	t.mu.Unlock()
	stop := context.AfterFunc(ctx, t.wake)

	done := make(chan struct{}, 2)
	waiters := 0
	if flush != nil {
		waiters++
		go func() {
			_ = t.rc.Write(func(fd uintptr) bool {
				return flush(func(p []byte) (int, error) {
					n, err := syscall.Write(int(fd), p)
					return rawResult(n, err, nil, "write")
				})
			})
			done <- struct{}{}
		}()
	}
	if r {
		waiters++
		go func() {
			_ = t.rc.Read(func(fd uintptr) bool {
				var b [1]byte
				_, _, err := syscall.Recvfrom(int(fd), b[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
				// Data, EOF or an error all make a read attempt worthwhile.
				return err != syscall.EAGAIN && err != syscall.EINTR
			})
			done <- struct{}{}
		}()
	}
	<-done
	// Interrupt the other waiter, if any, and let it leave.
	t.mu.Lock()
	_ = t.c.SetDeadline(longAgo)
	t.mu.Unlock()
	for i := 1; i < waiters; i++ {
		<-done
	}
	stop()
	t.mu.Lock()
	t.waiting = false
	_ = t.c.SetDeadline(time.Time{})
	select {
	case <-t.wk.ch: // a wake-up during this wait has been served
	default:
	}
	t.mu.Unlock()
	return ctx.Err()
}

func (t *rawTransport) wake() {
	t.mu.Lock()
	if t.waiting {
		_ = t.c.SetDeadline(longAgo)
	}
	t.wk.wake()
	t.mu.Unlock()
}

func (t *rawTransport) close() error {
	t.wake()
	return t.c.Close()
}
