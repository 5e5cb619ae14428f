//go:build linux

package wspeer

import (
	"fmt"
	"net"
	"syscall"

	"github.com/wspeer/wspeer/internal/proto"
)

// pollListener is a listener a Poller accepts from: its descriptor is in the
// epoll set (with a negative slot), and Wait accepts when it is readable.
type pollListener struct {
	ln      net.Listener
	fd      int
	newPeer func() *Peer
}

// acceptBatch bounds the connections one Wait accepts from a listener, so
// that a connection storm does not starve the peers already there.
const acceptBatch = 64

// listenSlot is the epoll data of listener i: below wakeSlot.
func listenSlot(i int) int32 { return wakeSlot - 1 - int32(i) }

func (e *epollPoller) listen(ln net.Listener, newPeer func() *Peer) error {
	tl, ok := ln.(*net.TCPListener)
	if !ok {
		listenWithGoroutine(e, ln, newPeer)
		return nil
	}
	rc, err := tl.SyscallConn()
	if err != nil {
		return err
	}
	fd := -1
	if err := rc.Control(func(s uintptr) { fd = int(s) }); err != nil {
		return err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	i := len(e.listeners)
	ev := syscall.EpollEvent{Events: syscall.EPOLLIN, Fd: listenSlot(i), Pad: int32(fd)}
	if err := syscall.EpollCtl(e.epfd, syscall.EPOLL_CTL_ADD, fd, &ev); err != nil {
		return fmt.Errorf("%w: %w", ErrUnsupported, err)
	}
	e.listeners = append(e.listeners, &pollListener{ln: ln, fd: fd, newPeer: newPeer})
	return nil
}

// acceptFrom accepts up to acceptBatch connections of listener slot s, makes
// each a peer under the Poller's watch, and appends them to dst.
func (e *epollPoller) acceptFrom(s int32, dst []*Peer) []*Peer {
	e.mu.Lock()
	i := int(wakeSlot - 1 - s)
	var l *pollListener
	if i >= 0 && i < len(e.listeners) {
		l = e.listeners[i]
	}
	e.mu.Unlock()
	if l == nil {
		return dst
	}
	for range acceptBatch {
		fd, sa, err := syscall.Accept4(l.fd, syscall.SOCK_NONBLOCK|syscall.SOCK_CLOEXEC)
		if err != nil {
			// EAGAIN: all taken; anything else (EMFILE, a closed
			// listener...) is left for the next readiness.
			return dst
		}
		p := l.newPeer()
		if p == nil || p.acceptFD(fd, sockaddrTCP(sa)) != nil {
			continue // acceptFD closed fd
		}
		e.add(p)
		dst = append(dst, p)
	}
	return dst
}

// sockaddrTCP converts an accepted peer's address.
func sockaddrTCP(sa syscall.Sockaddr) *net.TCPAddr {
	switch a := sa.(type) {
	case *syscall.SockaddrInet4:
		return &net.TCPAddr{IP: append(net.IP(nil), a.Addr[:]...), Port: a.Port}
	case *syscall.SockaddrInet6:
		return &net.TCPAddr{IP: append(net.IP(nil), a.Addr[:]...), Port: a.Port}
	}
	return nil
}

// acceptFD starts the server side of a connection a Poller accepted as a
// bare descriptor, as AcceptStream does for a net.Conn. On error fd is
// closed.
func (p *Peer) acceptFD(fd int, remote *net.TCPAddr) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	s, err := p.settingsLocked()
	if err == nil && (p.state == StateConnecting || p.state == StateOpen) {
		err = ErrInUse
	}
	if err != nil {
		syscall.Close(fd)
		return err
	}
	p.finishLocked(p.closeCode, p.closeReason, nil)
	p.resetLocked(s)
	tr := newFDTransport(fd)
	p.tr, p.remote = tr, remote
	if p.noDelay {
		// Unlike net's, a bare accepted socket starts without TCP_NODELAY.
		_ = tr.setNoDelay(true)
	}
	p.core = proto.NewServerConn(p.coreConfigLocked(), p.now())
	return nil
}
