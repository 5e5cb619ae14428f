//go:build linux

package wspeer

import (
	"container/heap"
	"context"
	"errors"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// epollPoller waits on one epoll instance for the sockets of all its peers,
// level-triggered, with interest updated from what each peer wants (reading
// stops under backpressure; writing only with queued bytes). The epoll
// descriptor itself is parked on the Go runtime's network poller, so a
// blocked Wait holds no thread and no P. A pipe wakes a blocked Wait for
// everything the sockets do not show: dials and stream transports progressing
// on their goroutines, sends and Close from other goroutines, Add, ctx ending.
//
// A Wait looks only at the peers that may have changed: those added, those a
// notify named, those it returned last time (the application has polled them
// since), and those whose timer is due. Everything else waits in the epoll
// set, so a wake-up costs the same with ten peers or ten thousand. A notify
// writes to the pipe only when a Wait is blocked and nothing else woke it
// yet: the polling goroutine's own sends never cost a system call.
type epollPoller struct {
	epfd int
	file *os.File // epfd, parked on the runtime's poller
	rc   syscall.RawConn
	pollWake
	waits int // epoll_wait system calls (counted for tests)

	mu      sync.Mutex
	peers   map[*Peer]*epollEntry
	entries []*epollEntry // by slot, the epoll data of the entry's socket
	free    []int32
	dirty   []*epollEntry // to look at again: added or notified
	last    []*epollEntry // returned by the previous Wait
	timers  timerHeap
	dlSet   time.Time // the read deadline set on file

	listeners []*pollListener // accepted from in Wait (poller_listen_linux.go)

	scan   []*epollEntry
	events []syscall.EpollEvent
	nready int
	werr   error
	readFn func(fd uintptr) bool // made once: a Wait allocates nothing

	accepting []int32 // listener slots readable in the last events

	// The context of the last Wait, whose end writes the pipe: registered
	// once, not on every Wait.
	ctxWatch
}

// pollWake is the wake-up pipe of a blocked Wait.
type pollWake struct {
	wakeR, wakeW int
	blocked      atomic.Bool  // a Wait is parked: a notify must write to the pipe
	woken        atomic.Bool  // the pipe was written since it blocked
	wakes        atomic.Int64 // pipe writes by notify (counted for tests)
}

// ctxWatch is the context whose end wakes a blocked Wait.
type ctxWatch struct {
	ctx     context.Context
	ctxStop func() bool
}

type epollEntry struct {
	p        *Peer
	slot     int32
	fd       int         // registered descriptor, or -1
	events   uint32      // registered interest
	closed   bool        // CLOSED already reported
	queued   atomic.Bool // in dirty or last: the next Wait looks at it
	deadline time.Time   // the peer's next timer, as last seen
	notify   func()      // queues this entry and wakes a blocked Wait
}

// timerHeap orders peers' timers; an entry whose peer has since changed its
// deadline is stale and skipped.
type timerHeap []timerItem

type timerItem struct {
	at  time.Time
	ent *epollEntry
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

// wakeSlot is the epoll data of the wake-up pipe.
const wakeSlot = -1

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
	fail := func(op string, err error) (pollerImpl, error) {
		syscall.Close(epfd)
		syscall.Close(pipe[0])
		syscall.Close(pipe[1])
		return nil, os.NewSyscallError(op, err)
	}
	ev := syscall.EpollEvent{Events: syscall.EPOLLIN, Fd: wakeSlot, Pad: int32(pipe[0])}
	if err := syscall.EpollCtl(epfd, syscall.EPOLL_CTL_ADD, pipe[0], &ev); err != nil {
		return fail("epoll_ctl", err)
	}
	// Non-blocking, the epoll descriptor joins the runtime's poller, which
	// reports it readable when one of its sockets is ready.
	if err := syscall.SetNonblock(epfd, true); err != nil {
		return fail("fcntl", err)
	}
	file := os.NewFile(uintptr(epfd), "epoll")
	rc, err := file.SyscallConn()
	if err != nil {
		file.Close()
		syscall.Close(pipe[0])
		syscall.Close(pipe[1])
		return nil, err
	}
	e := &epollPoller{epfd: epfd, file: file, rc: rc,
		peers: map[*Peer]*epollEntry{}, events: make([]syscall.EpollEvent, 256)}
	e.wakeR, e.wakeW = pipe[0], pipe[1]
	e.readFn = e.collect
	return e, nil
}

// collect takes the ready events without blocking; false means none, and the
// runtime parks the Wait until the epoll set is readable.
func (e *epollPoller) collect(fd uintptr) bool {
	e.waits++
	n, err := syscall.EpollWait(int(fd), e.events, 0)
	switch {
	case n > 0:
		e.nready = n
		return true
	case err != nil && err != syscall.EINTR && err != syscall.EAGAIN:
		e.werr = os.NewSyscallError("epoll_wait", err)
		return true
	}
	return false
}

// watchContext makes ctx's end wake a blocked Wait. Only the Wait goroutine
// calls it.
func (e *epollPoller) watchContext(ctx context.Context) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if ctx == e.ctx {
		return
	}
	if e.ctxStop != nil {
		e.ctxStop()
		e.ctxStop = nil
	}
	e.ctx = ctx
	if ctx.Done() != nil {
		e.ctxStop = context.AfterFunc(ctx, func() {
			e.woken.Store(true)
			var b = [1]byte{1}
			_, _ = syscall.Write(e.wakeW, b[:])
		})
	}
}

// wake wakes a blocked Wait, at most once per blocking.
func (e *epollPoller) wake() {
	if e.blocked.Load() && !e.woken.Swap(true) {
		e.wakes.Add(1)
		var b = [1]byte{1}
		_, _ = syscall.Write(e.wakeW, b[:]) // a full pipe already means "wake up"
	}
}

// queue asks the next Wait to look at ent, and wakes a blocked one.
func (e *epollPoller) queue(ent *epollEntry) {
	if ent.queued.Swap(true) {
		return // already queued: that Wait will see this change too
	}
	e.mu.Lock()
	e.dirty = append(e.dirty, ent)
	e.mu.Unlock()
	e.wake()
}

func (e *epollPoller) add(p *Peer) {
	e.mu.Lock()
	if _, ok := e.peers[p]; ok {
		e.mu.Unlock()
		return
	}
	ent := &epollEntry{p: p, fd: -1}
	ent.notify = func() { e.queue(ent) }
	if n := len(e.free); n > 0 {
		ent.slot = e.free[n-1]
		e.free = e.free[:n-1]
		e.entries[ent.slot] = ent
	} else {
		ent.slot = int32(len(e.entries))
		e.entries = append(e.entries, ent)
	}
	e.peers[p] = ent
	e.mu.Unlock()
	e.queue(ent)
}

func (e *epollPoller) remove(p *Peer) {
	e.mu.Lock()
	ent, ok := e.peers[p]
	if ok {
		delete(e.peers, p)
		e.entries[ent.slot] = nil
		e.free = append(e.free, ent.slot)
	}
	e.mu.Unlock()
	if !ok {
		return
	}
	// Uninstall the wake-up, and leave the epoll set only with a socket the
	// peer still has open: a closed one has left by itself, and its number
	// may already be another peer's.
	st := p.status(nil)
	e.mu.Lock()
	if ent.fd >= 0 && st.fd == ent.fd {
		_ = syscall.EpollCtl(e.epfd, syscall.EPOLL_CTL_DEL, ent.fd, nil)
	}
	ent.fd = -1
	e.mu.Unlock()
}

func (e *epollPoller) len() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return len(e.peers)
}

// syncLocked brings ent's registration in line with the peer's status.
func (e *epollPoller) syncLocked(ent *epollEntry, st peerStatus) {
	var events uint32
	if st.wantRead {
		events |= syscall.EPOLLIN | syscall.EPOLLRDHUP
	}
	if st.wantWrite {
		events |= syscall.EPOLLOUT
	}
	ev := syscall.EpollEvent{Events: events, Fd: ent.slot, Pad: int32(st.fd)}
	switch {
	case st.fd != ent.fd:
		// A new socket (or none): the old one, if any, was closed and left
		// the set by itself.
		ent.fd, ent.events = -1, 0
		if st.fd < 0 {
			return
		}
		err := syscall.EpollCtl(e.epfd, syscall.EPOLL_CTL_ADD, st.fd, &ev)
		if err == syscall.EEXIST {
			// Still registered (a socket this entry lost track of): take
			// it over with this entry's data.
			err = syscall.EpollCtl(e.epfd, syscall.EPOLL_CTL_MOD, st.fd, &ev)
		}
		if err == nil {
			ent.fd, ent.events = st.fd, events
		}
	case st.fd >= 0 && events != ent.events:
		if syscall.EpollCtl(e.epfd, syscall.EPOLL_CTL_MOD, st.fd, &ev) == nil {
			ent.events = events
		}
	}
}

func (e *epollPoller) wait(ctx context.Context, dst []*Peer) ([]*Peer, error) {
	e.watchContext(ctx)
	start := len(dst)
	e.mu.Lock()
	e.dirty = append(e.dirty, e.last...) // already marked queued
	e.last = e.last[:0]
	e.mu.Unlock()
	for {
		if err := ctx.Err(); err != nil {
			e.requeue(dst[start:])
			return dst, err
		}
		dst = e.scanDirty(dst)
		// Timers that are due are Poll's work; the next one bounds the wait.
		var next time.Time
		dst, next = e.dueTimers(dst, time.Now())
		if len(dst) == start {
			if err := e.block(next); err != nil {
				return dst, err
			}
			dst = e.readyPeers(dst)
			dst = e.acceptReady(dst)
		}
		if len(dst) > start {
			e.requeue(dst[start:])
			return dst, nil
		}
		// A wake-up or a timer: the next round finds what it means.
	}
}

// requeue makes the next Wait look at the peers returned now: the
// application polls them in between.
func (e *epollPoller) requeue(ready []*Peer) {
	e.mu.Lock()
	for _, p := range ready {
		if ent := e.peers[p]; ent != nil && !ent.queued.Swap(true) {
			e.last = append(e.last, ent)
		}
	}
	e.mu.Unlock()
}

// scanDirty takes the queued entries and looks at each.
func (e *epollPoller) scanDirty(dst []*Peer) []*Peer {
	e.mu.Lock()
	e.scan, e.dirty = e.dirty, e.scan[:0]
	e.mu.Unlock()
	for _, ent := range e.scan {
		ent.queued.Store(false) // changes from here on queue it again
	}
	return e.scanEntries(e.scan, dst)
}

// block parks until the epoll set has events, the pipe is written, or next
// (zero: none) passes. It collects the events into e.events[:e.nready].
func (e *epollPoller) block(next time.Time) error {
	e.nready = 0
	e.woken.Store(false)
	e.blocked.Store(true)
	defer e.blocked.Store(false)
	e.mu.Lock()
	pending := len(e.dirty) > 0
	e.mu.Unlock()
	if pending {
		return nil // queued meanwhile: scan again at once
	}
	if !next.Equal(e.dlSet) {
		_ = e.file.SetReadDeadline(next)
		e.dlSet = next
	}
	e.werr = nil
	err := e.rc.Read(e.readFn)
	switch {
	case e.werr != nil:
		return e.werr
	case err != nil && !errors.Is(err, os.ErrDeadlineExceeded):
		return err
	}
	return nil
}

// dueTimers appends the peers whose timer is due at now and returns when
// the next one is (zero: none).
func (e *epollPoller) dueTimers(dst []*Peer, now time.Time) ([]*Peer, time.Time) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for e.timers.Len() > 0 {
		it := e.timers[0]
		if e.peers[it.ent.p] != it.ent || !it.ent.deadline.Equal(it.at) {
			heap.Pop(&e.timers) // stale
			continue
		}
		if it.at.After(now) {
			return dst, it.at
		}
		heap.Pop(&e.timers)
		it.ent.deadline = time.Time{}
		dst = append(dst, it.ent.p)
	}
	return dst, time.Time{}
}

// acceptReady accepts from the listeners among the collected events.
func (e *epollPoller) acceptReady(dst []*Peer) []*Peer {
	for _, s := range e.accepting {
		dst = e.acceptFrom(s, dst)
	}
	e.accepting = e.accepting[:0]
	return dst
}

// readyPeers appends the peers of the collected epoll events, draining the
// wake-up pipe when it is among them; listeners are noted for acceptReady.
func (e *epollPoller) readyPeers(dst []*Peer) []*Peer {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, ev := range e.events[:e.nready] {
		if ev.Fd < wakeSlot {
			e.accepting = append(e.accepting, ev.Fd)
			continue
		}
		if ev.Fd == wakeSlot {
			var buf [64]byte
			for {
				if m, _ := syscall.Read(e.wakeR, buf[:]); m <= 0 {
					break
				}
			}
			continue
		}
		if s := int(ev.Fd); s < len(e.entries) && e.entries[s] != nil && e.entries[s].fd == int(ev.Pad) {
			dst = append(dst, e.entries[s].p)
		} else {
			// Not ours any more (a registration that raced with a close and
			// a reuse of the number): drop it rather than spin on it.
			_ = syscall.EpollCtl(e.epfd, syscall.EPOLL_CTL_DEL, int(ev.Pad), nil)
		}
	}
	e.nready = 0
	return dst
}

// scanEntries looks at each entry: registration, CLOSED, readiness, timer.
// Peer locks are taken outside the Poller's lock: a peer's own goroutines
// call notify, which must never wait for a scan.
func (e *epollPoller) scanEntries(scan []*epollEntry, dst []*Peer) []*Peer {
	for _, ent := range scan {
		st := ent.p.status(ent.notify)
		e.mu.Lock()
		if e.peers[ent.p] != ent { // removed meanwhile
			e.mu.Unlock()
			continue
		}
		if st.closed {
			ent.fd, ent.events = -1, 0 // a closed socket left the set by itself
			ent.deadline = time.Time{}
			if !ent.closed {
				ent.closed = true
				dst = append(dst, ent.p)
			}
			e.mu.Unlock()
			continue
		}
		ent.closed = false
		e.syncLocked(ent, st)
		if !st.deadline.Equal(ent.deadline) {
			ent.deadline = st.deadline
			if !st.deadline.IsZero() {
				heap.Push(&e.timers, timerItem{at: st.deadline, ent: ent})
			}
		}
		e.mu.Unlock()
		if st.ready {
			dst = append(dst, ent.p)
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
	e.entries, e.free, e.dirty, e.last, e.timers = nil, nil, nil, nil, nil
	for _, l := range e.listeners {
		_ = syscall.EpollCtl(e.epfd, syscall.EPOLL_CTL_DEL, l.fd, nil)
	}
	e.listeners = nil
	if e.ctxStop != nil {
		e.ctxStop()
	}
	e.mu.Unlock()
	for _, p := range peers {
		p.status(nil)
	}
	syscall.Close(e.wakeR)
	syscall.Close(e.wakeW)
	return e.file.Close()
}
