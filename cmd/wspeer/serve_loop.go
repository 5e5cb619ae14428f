package main

import (
	"sync"

	"github.com/wspeer/wspeer"
)

// servedConn is what the loop needs to drive one of serve's peers.
type servedConn struct {
	remote, path string
	handle       func(*wspeer.Peer) // after each Poll (chat, echo)
	done         func()             // once CLOSED, or nil
}

// peerLoop drives every open peer of serve from one goroutine waiting on a
// wspeer.Poller, rather than a goroutine (and its stack) per connection: an
// idle connection costs its peer only.
type peerLoop struct {
	pl    *wspeer.Poller
	mu    sync.Mutex
	conns map[*wspeer.Peer]*servedConn
}

// startLoop starts the loop; it ends when s.hard does, dropping the peers
// still open.
func (s *server) startLoop() error {
	pl, err := wspeer.NewPoller()
	if err != nil {
		return err
	}
	s.loop = &peerLoop{pl: pl, conns: map[*wspeer.Peer]*servedConn{}}
	go s.runLoop()
	return nil
}

// drive hands an open peer to the loop.
func (s *server) drive(p *wspeer.Peer, sc *servedConn) {
	l := s.loop
	l.mu.Lock()
	l.conns[p] = sc
	l.mu.Unlock()
	l.pl.Add(p)
}

func (s *server) runLoop() {
	l := s.loop
	defer l.pl.Close()
	var ready []*wspeer.Peer
	for {
		var err error
		ready, err = l.pl.Wait(s.hard, ready[:0])
		if err != nil {
			break
		}
		for _, p := range ready {
			l.mu.Lock()
			sc := l.conns[p]
			l.mu.Unlock()
			if sc == nil {
				continue
			}
			p.Poll()
			sc.handle(p)
			if p.ReadyState() == wspeer.StateClosed {
				s.finish(p, sc)
			}
		}
	}
	// The shutdown grace is over: drop what is left.
	l.mu.Lock()
	left := l.conns
	l.conns = map[*wspeer.Peer]*servedConn{}
	l.mu.Unlock()
	for p, sc := range left {
		p.Close(-1, "")
		l.mu.Lock()
		l.conns[p] = sc
		l.mu.Unlock()
		s.finish(p, sc)
	}
}

// finish forgets a CLOSED peer.
func (s *server) finish(p *wspeer.Peer, sc *servedConn) {
	l := s.loop
	l.pl.Remove(p)
	l.mu.Lock()
	delete(l.conns, p)
	l.mu.Unlock()
	s.remove(p)
	if sc.done != nil {
		sc.done()
	}
	s.log.Info("closed", "remote", sc.remote, "path", sc.path, "code", p.CloseCode(), "reason", p.CloseReason(), errAttr(p.CloseError()))
	s.wg.Done()
}
