//go:build linux

package wspeer

import (
	"context"
	"os"
	"sync"
	"syscall"
	"time"
	"unsafe"
)

// fdTransport drives a socket that a Poller accepted itself: a bare
// non-blocking descriptor, with no net.Conn and no registration with the
// runtime's poller, so an idle connection costs only the descriptor. Its
// Poller watches it; a Wait of the peer's own polls the descriptor with
// ppoll(2) in short steps (a thread while it waits: such peers are meant
// for their Poller).
type fdTransport struct {
	fd    int
	calls int // read and write system calls made (counted for tests)
	iov   [2]syscall.Iovec

	mu     sync.Mutex
	closed bool
	notify func() // the Poller's wake-up
	woken  bool   // wake was called since the last wait
}

func newFDTransport(fd int) *fdTransport { return &fdTransport{fd: fd} }

func (t *fdTransport) read(p []byte) (int, error) {
	t.calls++
	n, err := syscall.Read(t.fd, p)
	return rawResult(n, err, nil, "read")
}

func (t *fdTransport) write(p []byte) (int, error) {
	t.calls++
	n, err := syscall.Write(t.fd, p)
	return rawResult(n, err, nil, "write")
}

func (t *fdTransport) canWritev() bool { return true }

func (t *fdTransport) writev(a, b []byte) (int, error) {
	t.iov[0].Base, t.iov[1].Base = &a[0], &b[0]
	t.iov[0].SetLen(len(a))
	t.iov[1].SetLen(len(b))
	t.calls++
	n, _, errno := syscall.Syscall(syscall.SYS_WRITEV, uintptr(t.fd), uintptr(unsafe.Pointer(&t.iov[0])), 2)
	t.iov[0].Base, t.iov[1].Base = nil, nil
	if errno != 0 {
		return rawResult(0, errno, nil, "writev")
	}
	return rawResult(int(n), nil, nil, "writev")
}

// fdWaitStep bounds each ppoll of a Wait, so that wake-ups and ctx are seen.
const fdWaitStep = 10 * time.Millisecond

func (t *fdTransport) wait(ctx context.Context, r bool, flush flusher, deadline time.Time) error {
	var events int16
	if r {
		events |= 0x1 // POLLIN
	}
	if flush != nil {
		events |= 0x4 // POLLOUT
	}
	for ctx.Err() == nil {
		t.mu.Lock()
		woken, closed := t.woken, t.closed
		t.woken = false
		t.mu.Unlock()
		if woken || closed {
			return nil
		}
		step := fdWaitStep
		if !deadline.IsZero() {
			if left := time.Until(deadline); left <= 0 {
				return nil
			} else if left < step {
				step = left
			}
		}
		fds := [1]struct {
			fd              int32
			events, revents int16
		}{{fd: int32(t.fd), events: events}}
		ts := syscall.NsecToTimespec(int64(step))
		n, _, _ := syscall.Syscall6(syscall.SYS_PPOLL, uintptr(unsafe.Pointer(&fds[0])), 1, uintptr(unsafe.Pointer(&ts)), 0, 0, 0)
		if int(n) > 0 {
			if fds[0].revents&0x4 != 0 && flush != nil && !flush(t.write) {
				continue
			}
			return nil
		}
	}
	return ctx.Err()
}

func (t *fdTransport) wake() {
	t.mu.Lock()
	t.woken = true
	notify := t.notify
	t.mu.Unlock()
	if notify != nil {
		notify()
	}
}

func (t *fdTransport) close() error {
	t.mu.Lock()
	if t.closed {
		t.mu.Unlock()
		return nil
	}
	t.closed = true
	t.mu.Unlock()
	return os.NewSyscallError("close", syscall.Close(t.fd))
}

func (t *fdTransport) sysfd() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return -1
	}
	return t.fd
}

func (t *fdTransport) watch(notify func(), _, _ bool) bool {
	t.mu.Lock()
	t.notify = notify
	t.mu.Unlock()
	return false
}

// setNoDelay sets TCP_NODELAY on the descriptor.
func (t *fdTransport) setNoDelay(enabled bool) error {
	v := 0
	if enabled {
		v = 1
	}
	return os.NewSyscallError("setsockopt", syscall.SetsockoptInt(t.fd, syscall.IPPROTO_TCP, syscall.TCP_NODELAY, v))
}
