//go:build !linux && !js

package wspeer

import (
	"context"
	"net"
	"sync"
)

// goPoller is the portable Poller: when no watched peer is ready, it waits on
// each peer's Wait in a goroutine of its own until one returns.
type goPoller struct {
	mu    sync.Mutex
	peers map[*Peer]bool // value: CLOSED already reported
	wake  chan struct{}
}

func newPollerImpl() (pollerImpl, error) {
	return &goPoller{peers: map[*Peer]bool{}, wake: make(chan struct{}, 1)}, nil
}

func (g *goPoller) add(p *Peer) {
	g.mu.Lock()
	if _, ok := g.peers[p]; !ok {
		g.peers[p] = false
	}
	g.mu.Unlock()
	signal(g.wake)
}

func (g *goPoller) remove(p *Peer) {
	g.mu.Lock()
	delete(g.peers, p)
	g.mu.Unlock()
	signal(g.wake)
}

func (g *goPoller) len() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return len(g.peers)
}

func (g *goPoller) wait(ctx context.Context, dst []*Peer) ([]*Peer, error) {
	for {
		if err := ctx.Err(); err != nil {
			return dst, err
		}
		start := len(dst)
		g.mu.Lock()
		var waiting []*Peer
		for p, reported := range g.peers {
			st := p.status(nil)
			switch {
			case st.closed:
				if !reported {
					g.peers[p] = true
					dst = append(dst, p)
				}
			case st.ready:
				g.peers[p] = false
				dst = append(dst, p)
			default:
				g.peers[p] = false
				waiting = append(waiting, p)
			}
		}
		g.mu.Unlock()
		if len(dst) > start {
			return dst, nil
		}
		wctx, cancel := context.WithCancel(ctx)
		done := make(chan struct{}, len(waiting)+1)
		for _, p := range waiting {
			go func(p *Peer) {
				if p.Wait(wctx) == nil {
					done <- struct{}{}
				}
			}(p)
		}
		select {
		case <-done:
		case <-g.wake:
		case <-ctx.Done():
		}
		cancel()
	}
}

func (g *goPoller) close() error { return nil }

func (g *goPoller) listen(ln net.Listener, newPeer func() *Peer) error {
	listenWithGoroutine(g, ln, newPeer)
	return nil
}
