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
	"unsafe"
)

// rawTransport drives a socket's file descriptor directly: every read or write
// is one non-blocking system call, and an idle connection costs no goroutine.
// Waiting parks on the runtime's network poller through syscall.RawConn.
type rawTransport struct {
	c  net.Conn
	rc syscall.RawConn

	wk      waker
	mu      sync.Mutex
	waiting bool   // a wait is parked on the socket; wake interrupts it with a past deadline
	dlSet   bool   // a deadline is set on the conn (each SetDeadline costs; skip the no-ops)
	notify  func() // a Poller's wake-up: wake calls it too

	// One read and one write attempt at a time (the peer's lock serializes
	// them): their arguments and results live here, and the functions handed
	// to the RawConn are made once, so an attempt allocates nothing.
	rp, wp     []byte
	rn, wn     int
	rerr, werr error
	iov        [2]syscall.Iovec
	readFn     func(fd uintptr)
	writeFn    func(fd uintptr)
	writevFn   func(fd uintptr)
	peekFn     func(fd uintptr) bool
	fd         int // the descriptor, for a Poller; valid while the conn is open
	calls      int // read and write system calls made (counted for tests)
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
	t := &rawTransport{c: c, rc: rc, wk: newWaker(), fd: -1}
	_ = rc.Control(func(fd uintptr) { t.fd = int(fd) })
	t.readFn = func(fd uintptr) { t.rn, t.rerr = syscall.Read(int(fd), t.rp) }
	t.writeFn = func(fd uintptr) { t.wn, t.werr = syscall.Write(int(fd), t.wp) }
	t.writevFn = func(fd uintptr) {
		n, _, errno := syscall.Syscall(syscall.SYS_WRITEV, fd, uintptr(unsafe.Pointer(&t.iov[0])), 2)
		t.wn, t.werr = int(n), nil
		if errno != 0 {
			t.wn, t.werr = 0, errno
		}
	}
	t.peekFn = func(fd uintptr) bool {
		var b [1]byte
		_, _, err := syscall.Recvfrom(int(fd), b[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
		// Data, EOF or an error all make a read attempt worthwhile.
		return err != syscall.EAGAIN && err != syscall.EINTR
	}
	return t
}

// read and write make their attempt through Control, not RawConn.Read and
// Write: those hold the descriptor's read or write lock while a Wait is
// parked on it, which would block Poll until data came. The descriptor is
// non-blocking, so the system call itself never waits.
func (t *rawTransport) read(p []byte) (int, error) {
	t.rp = p
	t.calls++
	err := t.rc.Control(t.readFn)
	t.rp = nil
	return rawResult(t.rn, t.rerr, err, "read")
}

func (t *rawTransport) write(p []byte) (int, error) {
	t.wp = p
	t.calls++
	err := t.rc.Control(t.writeFn)
	t.wp = nil
	return rawResult(t.wn, t.werr, err, "write")
}

func (t *rawTransport) canWritev() bool { return true }

// writev writes a then b (both non-empty) with one system call.
func (t *rawTransport) writev(a, b []byte) (int, error) {
	t.iov[0].Base, t.iov[1].Base = &a[0], &b[0]
	t.iov[0].SetLen(len(a))
	t.iov[1].SetLen(len(b))
	t.calls++
	err := t.rc.Control(t.writevFn)
	t.iov[0].Base, t.iov[1].Base = nil, nil // keep no reference to the caller's buffers
	return rawResult(t.wn, t.werr, err, "writev")
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
	t.setDeadlineLocked(deadline)
	t.mu.Unlock()
	if ctx.Done() != nil {
		stop := context.AfterFunc(ctx, t.wake)
		defer stop()
	}

	// The write side, when wanted, waits on its own goroutine; the read side
	// (the common case: an idle connection) waits on the caller's.
	var done chan struct{}
	if flush != nil {
		done = make(chan struct{})
		go func() {
			defer close(done)
			_ = t.rc.Write(func(fd uintptr) bool {
				return flush(func(p []byte) (int, error) {
					n, err := syscall.Write(int(fd), p)
					return rawResult(n, err, nil, "write")
				})
			})
			if r {
				t.interrupt() // end the read side's wait too
			}
		}()
	}
	if r {
		_ = t.rc.Read(t.peekFn)
		if done != nil {
			t.interrupt() // end the write side's wait too
		}
	}
	if done != nil {
		<-done
	}
	t.mu.Lock()
	t.waiting = false
	t.setDeadlineLocked(time.Time{})
	select {
	case <-t.wk.ch: // a wake-up during this wait has been served
	default:
	}
	t.mu.Unlock()
	return ctx.Err()
}

// interrupt ends a wait parked on the socket.
func (t *rawTransport) interrupt() {
	t.mu.Lock()
	if t.waiting {
		t.setDeadlineLocked(longAgo)
	}
	t.mu.Unlock()
}

// setDeadlineLocked sets the conn's deadline (zero clears it), skipping the
// call when there is nothing to change.
func (t *rawTransport) setDeadlineLocked(d time.Time) {
	if d.IsZero() && !t.dlSet {
		return
	}
	_ = t.c.SetDeadline(d)
	t.dlSet = !d.IsZero()
}

func (t *rawTransport) wake() {
	t.mu.Lock()
	if t.waiting {
		t.setDeadlineLocked(longAgo)
	}
	t.wk.wake()
	notify := t.notify
	t.mu.Unlock()
	if notify != nil {
		notify() // the Poller rescans the peer: a send may now need writing
	}
}

func (t *rawTransport) close() error {
	t.wake()
	return t.c.Close()
}

func (t *rawTransport) sysfd() int { return t.fd }

// watch installs the Poller's wake-up, which wake calls; readiness itself the
// Poller sees on the descriptor.
func (t *rawTransport) watch(notify func(), _, _ bool) bool {
	t.mu.Lock()
	t.notify = notify
	t.mu.Unlock()
	return false
}
