package servers

import (
	"context"
	"net"
	"runtime"
	"sync"

	"github.com/wspeer/wspeer"
)

// wspeerPoll is the Godot way at server scale, as the library offers it:
// Poll loops that own all peers, with no goroutine per connection. Each loop
// waits on a wspeer.Poller (epoll on Linux), which also accepts the
// listener's connections itself (Poller.Listen) and returns only the peers
// with work, so an idle server sleeps. There is one loop per GOMAXPROCS,
// each accepting from the same listener.
func wspeerPoll(newPeer func() *wspeer.Peer) Impl {
	return func(ln net.Listener) error { return serveWspeerPoll(ln, newPeer) }
}

func serveWspeerPoll(ln net.Listener, newPeer func() *wspeer.Peer) error {
	done := make(chan struct{})
	var once sync.Once
	for range runtime.GOMAXPROCS(0) {
		pl, err := wspeer.NewPoller()
		if err != nil {
			return err
		}
		if err := pl.Listen(ln, newPeer); err != nil {
			return err
		}
		go func() {
			runPollLoop(pl)
			once.Do(func() { close(done) })
		}()
	}
	<-done
	return nil
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
