//go:build linux

package servers

import (
	"net"
	"runtime"
	"sync"
	"syscall"
	"time"

	"github.com/wspeer/wspeer"
)

// wspeerPoll is the Godot way at server scale: net.Listen + AcceptStream,
// then Poll loops that own all peers, with no goroutine per connection.
//
// A loop that called Poll on every peer every round would spin (each Poll of
// an idle peer is a read system call that finds nothing: with 10,000 idle
// peers that is a core). So each loop keeps its own epoll set, level
// triggered, and calls Poll only on the peers whose socket is readable (or
// writable while output is pending), plus every peer once a second for the
// timers (handshake, close and heartbeat timeouts). Between events it sleeps
// in epoll_wait: an idle server costs one wake-up a second. There is one
// loop per GOMAXPROCS, and new connections are dealt to them in turn.
func wspeerPoll(newPeer func() *wspeer.Peer) Impl {
	return func(ln net.Listener) error { return serveWspeerPoll(ln, newPeer) }
}

func serveWspeerPoll(ln net.Listener, newPeer func() *wspeer.Peer) error {
	n := runtime.GOMAXPROCS(0)
	loops := make([]*pollLoop, n)
	for i := range loops {
		epfd, err := syscall.EpollCreate1(syscall.EPOLL_CLOEXEC)
		if err != nil {
			return err
		}
		loops[i] = &pollLoop{epfd: epfd, byFD: make(map[int32]*pollConn)}
		go loops[i].run()
	}
	next := 0
	return acceptLoop(ln, func(c net.Conn) {
		tc, ok := c.(*net.TCPConn)
		if !ok {
			c.Close()
			return
		}
		rc, err := tc.SyscallConn()
		if err != nil {
			c.Close()
			return
		}
		var fd int32
		rc.Control(func(f uintptr) { fd = int32(f) })
		pc := &pollConn{p: newPeer(), fd: fd}
		if pc.p.AcceptStream(c) != nil {
			return
		}
		// acceptLoop runs this in a goroutine per connection: pick the
		// loop under the lock of the first one.
		loops[0].mu.Lock()
		l := loops[next%len(loops)]
		next++
		loops[0].mu.Unlock()
		l.add(pc)
	})
}

type pollLoop struct {
	epfd int
	mu   sync.Mutex
	byFD map[int32]*pollConn
}

type pollConn struct {
	p   *wspeer.Peer
	fd  int32
	e   echoer
	out bool // EPOLLOUT is registered
}

func (l *pollLoop) add(pc *pollConn) {
	l.mu.Lock()
	l.byFD[pc.fd] = pc
	l.mu.Unlock()
	ev := syscall.EpollEvent{Events: syscall.EPOLLIN | syscall.EPOLLRDHUP, Fd: pc.fd}
	if err := syscall.EpollCtl(l.epfd, syscall.EPOLL_CTL_ADD, int(pc.fd), &ev); err != nil {
		pc.p.Close(-1, "")
		l.remove(pc)
	}
}

func (l *pollLoop) remove(pc *pollConn) {
	l.mu.Lock()
	// The descriptor may already belong to a newer connection.
	if l.byFD[pc.fd] == pc {
		delete(l.byFD, pc.fd)
	}
	l.mu.Unlock()
}

func (l *pollLoop) run() {
	events := make([]syscall.EpollEvent, 512)
	var sweep []*pollConn
	lastSweep := time.Now()
	for {
		n, err := syscall.EpollWait(l.epfd, events, 1000)
		if err != nil && err != syscall.EINTR {
			return
		}
		for i := 0; i < n; i++ {
			l.mu.Lock()
			pc := l.byFD[events[i].Fd]
			l.mu.Unlock()
			if pc != nil {
				l.step(pc)
			}
		}
		if time.Since(lastSweep) >= time.Second {
			lastSweep = time.Now()
			sweep = sweep[:0]
			l.mu.Lock()
			for _, pc := range l.byFD {
				sweep = append(sweep, pc)
			}
			l.mu.Unlock()
			for _, pc := range sweep {
				l.step(pc)
			}
		}
	}
}

// step polls one peer, echoes what it received and keeps its epoll interest
// in step with its pending output.
func (l *pollLoop) step(pc *pollConn) {
	pc.p.Poll()
	pc.e.pump(pc.p)
	if pc.p.ReadyState() == wspeer.StateClosed {
		// The peer closed the socket, which took it out of the epoll set.
		l.remove(pc)
		return
	}
	wantOut := pc.e.held || pc.p.CurrentOutboundBufferedAmount() > 0
	if wantOut != pc.out {
		ev := syscall.EpollEvent{Events: syscall.EPOLLIN | syscall.EPOLLRDHUP, Fd: pc.fd}
		if wantOut {
			ev.Events |= syscall.EPOLLOUT
		}
		if syscall.EpollCtl(l.epfd, syscall.EPOLL_CTL_MOD, int(pc.fd), &ev) == nil {
			pc.out = wantOut
		}
	}
}
