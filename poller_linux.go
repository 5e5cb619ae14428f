//go:build linux

package wspeer

import (
	"container/heap"
	"context"
	"os"
	"sync"
	"syscall"
	"time"
)

// epollPoller waits on one epoll instance for the sockets of all its peers,
// level-triggered, with interest updated on every Wait from what each peer
// wants (reading stops under backpressure; writing only with queued bytes).
// A pipe wakes it for everything else: dials and stream transports finishing
// work on their goroutines, Add and Remove from other goroutines, ctx ending.
type epollPoller struct {
	epfd  int
	wakeR int
	wakeW int

	mu     sync.Mutex
	peers  map[*Peer]*epollEntry
	byFD   map[int]*Peer
	dirty  map[*Peer]struct{} // to look at again: added, notified, or returned last time
	last   []*Peer            // returned by the previous Wait
	timers timerHeap

	scan   []*Peer
	events []syscall.EpollEvent
}

// A Wait looks only at the peers that may have changed: those added, those a
// notify named (their dial ended, their stream transport progressed, a send
// or Close from another goroutine woke them), those it returned last time
// (the application has polled them since), and those whose timer is due.
// Everything else waits in the epoll set, so a wake-up costs the same with ten
// peers or ten thousand.

type epollEntry struct {
	fd       int       // registered descriptor, or -1
	events   uint32    // registered interest
	closed   bool      // CLOSED already reported
	deadline time.Time // the peer's next timer, as last seen
	notify   func()    // marks this peer dirty and wakes Wait
}

// timerHeap orders peers' timers; an entry whose peer has since changed its
// deadline is stale and skipped.
type timerHeap []timerItem

type timerItem struct {
	at time.Time
	p  *Peer
}

func (h timerHeap) Len() int           { return len(h) }
func (h timerHeap) Less(i, j int) bool { return h[i].at.Before(h[j].at) }
func (h timerHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *timerHeap) Push(x any)        { *h = append(*h, x.(timerItem)) }
func (h *timerHeap) Pop() any {
	old := *h
	it := old[len(old)-1]
	*h = old[:len(old)-1]
	return it
}

func newPollerImpl() (pollerImpl, error) {
	epfd, err := syscall.EpollCreate1(syscall.EPOLL_CLOEXEC)
	if err != nil {
		return nil, os.NewSyscallError("epoll_create1", err)
	}
	var pipe [2]int
	if err := syscall.Pipe2(pipe[:], syscall.O_NONBLOCK|syscall.O_CLOEXEC); err != nil {
		syscall.Close(epfd)
		return nil, os.NewSyscallError("pipe2", err)
	}
	ev := syscall.EpollEvent{Events: syscall.EPOLLIN, Fd: int32(pipe[0])}
	if err := syscall.EpollCtl(epfd, syscall.EPOLL_CTL_ADD, pipe[0], &ev); err != nil {
		syscall.Close(epfd)
		syscall.Close(pipe[0])
		syscall.Close(pipe[1])
		return nil, os.NewSyscallError("epoll_ctl", err)
	}
	e := &epollPoller{epfd: epfd, wakeR: pipe[0], wakeW: pipe[1],
		peers: map[*Peer]*epollEntry{}, byFD: map[int]*Peer{}, dirty: map[*Peer]struct{}{},
		events: make([]syscall.EpollEvent, 256)}
	return e, nil
}

// notify wakes a Wait in progress (or makes the next one rescan at once).
func (e *epollPoller) notify() {
	var b = [1]byte{1}
	_, _ = syscall.Write(e.wakeW, b[:]) // a full pipe already means "wake up"
}

func (e *epollPoller) add(p *Peer) {
	e.mu.Lock()
	if _, ok := e.peers[p]; !ok {
		e.peers[p] = &epollEntry{fd: -1, notify: func() { e.mark(p) }}
		e.dirty[p] = struct{}{}
	}
	e.mu.Unlock()
	e.notify()
}

// mark asks the next round of Wait to look at p again.
func (e *epollPoller) mark(p *Peer) {
	e.mu.Lock()
	if _, ok := e.peers[p]; ok {
		e.dirty[p] = struct{}{}
	}
	e.mu.Unlock()
	e.notify()
}

func (e *epollPoller) remove(p *Peer) {
	e.mu.Lock()
	if ent, ok := e.peers[p]; ok {
		e.unregisterLocked(p, ent, true)
		delete(e.peers, p)
		delete(e.dirty, p)
	}
	e.mu.Unlock()
	p.status(nil) // uninstall the wake-up
}

func (e *epollPoller) len() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return len(e.peers)
}

// unregisterLocked forgets ent's descriptor. open says whether it still
// belongs to p: a closed one has left the epoll set by itself, and its number
// may already name another peer's socket, which must stay registered.
func (e *epollPoller) unregisterLocked(p *Peer, ent *epollEntry, open bool) {
	if ent.fd < 0 {
		return
	}
	if e.byFD[ent.fd] == p {
		if open {
			_ = syscall.EpollCtl(e.epfd, syscall.EPOLL_CTL_DEL, ent.fd, nil)
		}
		delete(e.byFD, ent.fd)
	}
	ent.fd, ent.events = -1, 0
}

// syncLocked brings p's registration in line with its status.
func (e *epollPoller) syncLocked(p *Peer, ent *epollEntry, st peerStatus) {
	var events uint32
	if st.wantRead {
		events |= syscall.EPOLLIN | syscall.EPOLLRDHUP
	}
	if st.wantWrite {
		events |= syscall.EPOLLOUT
	}
	if st.fd != ent.fd {
		e.unregisterLocked(p, ent, false)
		if st.fd < 0 {
			return
		}
		if old, ok := e.byFD[st.fd]; ok && old != p {
			// The number was another (closed) peer's: that peer no longer
			// owns it.
			if oe := e.peers[old]; oe != nil {
				oe.fd, oe.events = -1, 0
			}
			_ = syscall.EpollCtl(e.epfd, syscall.EPOLL_CTL_DEL, st.fd, nil)
		}
		ev := syscall.EpollEvent{Events: events, Fd: int32(st.fd)}
		if syscall.EpollCtl(e.epfd, syscall.EPOLL_CTL_ADD, st.fd, &ev) == nil {
			ent.fd, ent.events = st.fd, events
			e.byFD[st.fd] = p
		}
		return
	}
	if st.fd >= 0 && events != ent.events {
		ev := syscall.EpollEvent{Events: events, Fd: int32(st.fd)}
		if syscall.EpollCtl(e.epfd, syscall.EPOLL_CTL_MOD, st.fd, &ev) == nil {
			ent.events = events
		}
	}
}

func (e *epollPoller) wait(ctx context.Context, dst []*Peer) ([]*Peer, error) {
	if ctx.Done() != nil {
		stop := context.AfterFunc(ctx, e.notify)
		defer stop()
	}
	start := len(dst)
	e.mu.Lock()
	for _, p := range e.last {
		if _, ok := e.peers[p]; ok {
			e.dirty[p] = struct{}{}
		}
	}
	e.last = e.last[:0]
	e.mu.Unlock()
	defer func() {
		e.mu.Lock()
		e.last = append(e.last[:0], dst[start:]...)
		e.mu.Unlock()
	}()
	for {
		if err := ctx.Err(); err != nil {
			return dst, err
		}
		e.mu.Lock()
		e.scan = e.scan[:0]
		for p := range e.dirty {
			e.scan = append(e.scan, p)
		}
		clear(e.dirty)
		e.mu.Unlock()
		dst = e.scanLocked(e.scan, dst)
		if len(dst) > start {
			return dst, nil
		}
		// Timers that are due are Poll's work; the next one bounds the wait.
		var timeout int
		dst, timeout = e.dueTimers(dst, time.Now())
		if len(dst) > start {
			return dst, nil
		}
		n, err := syscall.EpollWait(e.epfd, e.events, timeout)
		if err != nil && err != syscall.EINTR {
			return dst, os.NewSyscallError("epoll_wait", err)
		}
		dst = e.readyPeers(e.events[:max(n, 0)], dst)
		if len(dst) > start {
			return dst, nil
		}
		// A wake-up or a timer: the next round finds what it means.
	}
}

// dueTimers appends the peers whose timer is due at now and returns the
// epoll timeout until the next one (-1: none).
func (e *epollPoller) dueTimers(dst []*Peer, now time.Time) ([]*Peer, int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for e.timers.Len() > 0 {
		it := e.timers[0]
		ent := e.peers[it.p]
		if ent == nil || !ent.deadline.Equal(it.at) {
			heap.Pop(&e.timers) // stale
			continue
		}
		if it.at.After(now) {
			return dst, int(it.at.Sub(now)/time.Millisecond) + 1
		}
		heap.Pop(&e.timers)
		ent.deadline = time.Time{}
		dst = append(dst, it.p)
	}
	return dst, -1
}

// readyPeers appends the peers of the epoll events, batching the wake-up
// pipe when it is among them.
func (e *epollPoller) readyPeers(events []syscall.EpollEvent, dst []*Peer) []*Peer {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, ev := range events {
		if int(ev.Fd) == e.wakeR {
			var buf [64]byte
			for {
				if m, _ := syscall.Read(e.wakeR, buf[:]); m <= 0 {
					break
				}
			}
			continue
		}
		if p := e.byFD[int(ev.Fd)]; p != nil {
			dst = append(dst, p)
		} else {
			// Not ours (a registration that raced with a close and a
			// reuse of the number): drop it rather than spin on it.
			_ = syscall.EpollCtl(e.epfd, syscall.EPOLL_CTL_DEL, int(ev.Fd), nil)
		}
	}
	return dst
}

// scanLocked looks at each peer of scan: registration, CLOSED, readiness,
// timer. Peer locks are taken outside the Poller's lock: a peer's own
// goroutines call notify, which must never wait for a scan.
func (e *epollPoller) scanLocked(scan []*Peer, dst []*Peer) []*Peer {
	for _, p := range scan {
		e.mu.Lock()
		ent := e.peers[p]
		e.mu.Unlock()
		if ent == nil {
			continue
		}
		st := p.status(ent.notify)
		e.mu.Lock()
		if e.peers[p] != ent { // removed meanwhile
			e.mu.Unlock()
			continue
		}
		if st.closed {
			e.unregisterLocked(p, ent, false)
			ent.deadline = time.Time{}
			if !ent.closed {
				ent.closed = true
				dst = append(dst, p)
			}
			e.mu.Unlock()
			continue
		}
		ent.closed = false
		e.syncLocked(p, ent, st)
		if !st.deadline.Equal(ent.deadline) {
			ent.deadline = st.deadline
			if !st.deadline.IsZero() {
				heap.Push(&e.timers, timerItem{at: st.deadline, p: p})
			}
		}
		e.mu.Unlock()
		if st.ready {
			dst = append(dst, p)
		}
	}
	return dst
}

func (e *epollPoller) close() error {
	e.mu.Lock()
	peers := make([]*Peer, 0, len(e.peers))
	for p := range e.peers {
		peers = append(peers, p)
	}
	e.peers = map[*Peer]*epollEntry{}
	e.byFD = map[int]*Peer{}
	clear(e.dirty)
	e.timers = nil
	e.mu.Unlock()
	for _, p := range peers {
		p.status(nil)
	}
	syscall.Close(e.wakeR)
	syscall.Close(e.wakeW)
	return syscall.Close(e.epfd)
}
