package h2client_test

import (
	"context"
	"testing"
	"time"

	"github.com/wspeer/wspeer"
)

// TestH2PollerHandlerWaitsReleased: the pattern for peers driven elsewhere.
// The handler hands each HTTP/2 peer to one Poller goroutine and waits on
// Released; the echo works, the client's close is clean on both sides, and
// the handler returns only once the stream's last bytes are written.
func TestH2PollerHandlerWaitsReleased(t *testing.T) {
	pl, err := wspeer.NewPoller()
	if err != nil {
		t.Fatal(err)
	}
	defer pl.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		var ready []*wspeer.Peer
		for {
			var werr error
			if ready, werr = pl.Wait(ctx, ready[:0]); werr != nil {
				return
			}
			for _, p := range ready {
				p.Poll()
				for p.AvailablePacketCount() > 0 {
					b, _ := p.GetPacket()
					_ = p.SendText(string(b))
				}
				if p.ReadyState() == wspeer.StateClosed {
					pl.Remove(p)
				}
			}
		}
	}()
	returned := make(chan *wspeer.Peer, 1)
	s := startServer(t, true, &wspeer.Upgrader{}, func(p *wspeer.Peer) {
		pl.Add(p)
		<-p.Released()
		returned <- p
	})
	p := dialPeer(t, s.Server, "/", nil)
	if err := p.SendText("via the poller"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, p, "echo", func() bool { return p.AvailablePacketCount() == 1 })
	if b, _ := p.GetPacket(); string(b) != "via the poller" {
		t.Fatalf("echo %q", b)
	}
	select {
	case <-returned:
		t.Fatal("the handler returned while the peer was open")
	default:
	}
	_ = p.Close(1000, "")
	waitFor(t, p, "closed", func() bool { return p.ReadyState() == wspeer.StateClosed })
	if p.CloseCode() != 1000 || p.CloseError() != nil {
		t.Fatalf("client: %d %v", p.CloseCode(), p.CloseError())
	}
	select {
	case sp := <-returned:
		if sp.ReadyState() != wspeer.StateClosed || sp.CloseCode() != 1000 {
			t.Fatalf("server peer %v %d", sp.ReadyState(), sp.CloseCode())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the handler did not return")
	}
}
