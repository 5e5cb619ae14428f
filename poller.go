//go:build !js

package wspeer

import (
	"context"
	"fmt"
	"net"
	"time"
)

// Poller lets one goroutine wait for many peers at once: the Godot-style
// server loop (accept, then Poll every peer) without a goroutine per
// connection and without sleeping or spinning.
//
//	for {
//		ready, err := poller.Wait(ctx, ready[:0])
//		if err != nil {
//			break
//		}
//		for _, p := range ready {
//			p.Poll()
//			// drain packets, send replies; Remove the peer once CLOSED
//		}
//	}
//
// On Linux it parks on one epoll instance: an idle peer costs no goroutine
// and no buffer. Elsewhere, and for peers whose transport is not a plain
// socket (TLS, pipes) or still dialing, readiness comes from their own
// goroutines. A Poller is safe for concurrent use; Wait is meant for one
// goroutine at a time.
type Poller struct {
	impl pollerImpl
}

// NewPoller returns an empty Poller. Close it when done.
func NewPoller() (*Poller, error) {
	impl, err := newPollerImpl()
	if err != nil {
		return nil, err
	}
	return &Poller{impl: impl}, nil
}

// Add puts p under the Poller's watch, in any state; a peer that later
// connects, reconnects or closes stays watched until Remove.
func (pl *Poller) Add(p *Peer) { pl.impl.add(p) }

// Listen makes the Poller accept ln's connections itself, inside Wait, with
// no goroutine, channel or wake-up per connection: each becomes a server
// Peer, made by newPeer (nil: NewPeer) as for AcceptStream, added to the
// Poller and returned by that same Wait, so that the application's next
// Poll reads the request and answers it (101, or the HTTP error). The
// Poller owns the connections; close ln after the Poller. On Linux, for a
// *net.TCPListener, an accepted connection is a bare descriptor: no net.Conn
// and no registration with the runtime's poller, which keeps an idle peer
// small (such peers are meant to be driven by their Poller; their own Wait
// works but holds a thread while it waits). Elsewhere a goroutine accepts and
// hands each connection to AcceptStream. A peer newPeer makes with settings
// AcceptStream refuses is closed at once.
func (pl *Poller) Listen(ln net.Listener, newPeer func() *Peer) error {
	if ln == nil {
		return fmt.Errorf("%w: nil listener", ErrInvalidParameter)
	}
	if newPeer == nil {
		newPeer = NewPeer
	}
	return pl.impl.listen(ln, newPeer)
}

// listenWithGoroutine is the portable Listen: a goroutine accepts until ln
// is closed and hands each connection to AcceptStream and Add.
func listenWithGoroutine(pl pollerImpl, ln net.Listener, newPeer func() *Peer) {
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				if ne, ok := err.(net.Error); ok && ne.Timeout() {
					continue
				}
				return
			}
			p := newPeer()
			if p.AcceptStream(c) == nil {
				pl.add(p)
			}
		}
	}()
}

// Remove stops watching p.
func (pl *Poller) Remove(p *Peer) { pl.impl.remove(p) }

// Len returns the number of peers watched.
func (pl *Poller) Len() int { return pl.impl.len() }

// Wait blocks until at least one watched peer has work for Poll (the
// conditions of Peer.Wait) or has just become CLOSED, or ctx ends, and returns
// those peers appended to dst. A CLOSED peer is reported once; Remove it.
func (pl *Poller) Wait(ctx context.Context, dst []*Peer) ([]*Peer, error) {
	return pl.impl.wait(ctx, dst)
}

// Close releases the Poller; the peers are not closed.
func (pl *Poller) Close() error { return pl.impl.close() }

// pollerImpl is the platform part of a Poller.
type pollerImpl interface {
	add(p *Peer)
	listen(ln net.Listener, newPeer func() *Peer) error
	remove(p *Peer)
	len() int
	wait(ctx context.Context, dst []*Peer) ([]*Peer, error)
	close() error
}

// peerStatus is what a Poller needs to know of a peer to wait for it.
type peerStatus struct {
	ready     bool      // Poll has work now
	closed    bool      // CLOSED
	fd        int       // the raw socket to watch, or -1
	wantRead  bool      // watch fd for reading
	wantWrite bool      // watch fd for writing
	deadline  time.Time // a timer Poll must run at, or zero
}

// status reports, for a Poller, what p is waiting for. notify is installed so
// that transports and dials that progress on goroutines of their own wake the
// Poller.
func (p *Peer) status(notify func()) peerStatus {
	p.mu.Lock()
	defer p.mu.Unlock()
	in := p.interestLocked()
	st := peerStatus{fd: -1, closed: in.closed, ready: in.ready, deadline: in.deadline}
	switch {
	case in.closed:
		return st
	case in.dial != nil:
		// The dial's goroutine wakes the Poller when it ends.
		st.ready = in.dial.watch(notify)
		return st
	}
	ready := p.tr.watch(notify, in.read, in.write)
	if fd := p.tr.sysfd(); fd >= 0 {
		// The socket's registration is kept up to date even when Poll has
		// work now.
		st.fd, st.wantRead, st.wantWrite = fd, in.read, in.write
		return st
	}
	// Another transport: its goroutines wake the Poller through notify; the
	// check also catches what happened before notify was installed.
	st.ready = st.ready || ready
	return st
}
