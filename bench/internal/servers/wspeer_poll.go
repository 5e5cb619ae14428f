package servers

import (
	"context"
	"net"
	"runtime"
	"sync/atomic"

	"github.com/wspeer/wspeer"
)

// wspeerPoll is the Godot way at server scale, as the library offers it:
// net.Listen + AcceptStream, then Poll loops that own all peers, with no
// goroutine per connection. Each loop waits on a wspeer.Poller (epoll on
// Linux), which returns only the peers with work, so an idle server sleeps.
// There is one loop per GOMAXPROCS, and new connections are dealt to them in
// turn.
func wspeerPoll(newPeer func() *wspeer.Peer) Impl {
	return func(ln net.Listener) error { return serveWspeerPoll(ln, newPeer) }
}

func serveWspeerPoll(ln net.Listener, newPeer func() *wspeer.Peer) error {
	loops := make([]*wspeer.Poller, runtime.GOMAXPROCS(0))
	for i := range loops {
		pl, err := wspeer.NewPoller()
		if err != nil {
			return err
		}
		loops[i] = pl
		go runPollLoop(pl)
	}
	var next atomic.Uint64
	return acceptLoop(ln, func(c net.Conn) {
		p := newPeer()
		if p.AcceptStream(c) != nil {
			return
		}
		loops[next.Add(1)%uint64(len(loops))].Add(p)
	})
}

func runPollLoop(pl *wspeer.Poller) {
	echoers := map[*wspeer.Peer]*echoer{}
	var ready []*wspeer.Peer
	for {
		var err error
		ready, err = pl.Wait(context.Background(), ready[:0])
		if err != nil {
			return
		}
		for _, p := range ready {
			e := echoers[p]
			if e == nil {
				e = &echoer{}
				echoers[p] = e
			}
			p.Poll()
			e.pump(p)
			if p.ReadyState() == wspeer.StateClosed {
				pl.Remove(p)
				delete(echoers, p)
			}
		}
	}
}
