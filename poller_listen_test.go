//go:build !js

package wspeer

import (
	"context"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"
)

// A Poller that accepts by itself: every client is answered and echoed from
// the one Wait loop, a bad request gets its HTTP answer, and the peers have
// their remote address and URL.
func TestPollerListen(t *testing.T) {
	ln := listen(t)
	pl, err := NewPoller()
	if err != nil {
		t.Fatal(err)
	}
	defer pl.Close()
	var made []*Peer
	if err := pl.Listen(ln, func() *Peer {
		p := NewPeer()
		p.SupportedProtocols = []string{"echo"}
		made = append(made, p) // only the Wait goroutine calls it
		return p
	}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	loopDone := batchEchoLoop(ctx, pl)

	const clients = 20
	url := "ws://" + ln.Addr().String() + "/room?x=1"
	for i := range clients {
		c := NewPeer()
		c.SupportedProtocols = []string{"echo"}
		if err := c.ConnectToURL(url, nil); err != nil {
			t.Fatal(err)
		}
		pollUntil(t, c, "OPEN", stateIs(c, StateOpen))
		msg := fmt.Sprintf("hello %d", i)
		c.SendText(msg)
		pollUntil(t, c, "echo", func() bool { return c.AvailablePacketCount() > 0 })
		if b, _ := c.GetPacket(); string(b) != msg || c.SelectedProtocol() != "echo" {
			t.Fatalf("client %d: %q, protocol %q", i, b, c.SelectedProtocol())
		}
		c.Close(1000, "")
		pollUntil(t, c, "CLOSED", stateIs(c, StateClosed))
	}
	// A request that is not a WebSocket upgrade gets its HTTP answer.
	raw, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	raw.SetDeadline(time.Now().Add(testTimeout))
	raw.Write([]byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n"))
	buf := make([]byte, 512)
	n, _ := raw.Read(buf)
	if !strings.HasPrefix(string(buf[:n]), "HTTP/1.1 400 ") && !strings.HasPrefix(string(buf[:n]), "HTTP/1.1 426 ") {
		t.Fatalf("bad request answered %q", buf[:n])
	}
	cancel()
	<-loopDone
	if len(made) != clients+1 {
		t.Fatalf("%d peers made for %d connections", len(made), clients+1)
	}
	p := made[0]
	if p.RequestedURL() != url || p.CloseCode() != 1000 {
		t.Fatalf("server peer: URL %q, close %d", p.RequestedURL(), p.CloseCode())
	}
}

// batchEchoLoop echoes every peer of pl with the batch calls until ctx ends,
// removing the CLOSED ones; the channel closes when it has stopped.
func batchEchoLoop(ctx context.Context, pl *Poller) <-chan struct{} {
	done := make(chan struct{})
	go func() {
		defer close(done)
		var ready []*Peer
		var pks []Packet
		for ctx.Err() == nil {
			ready, _ = pl.Wait(ctx, ready[:0])
			for _, p := range ready {
				p.Poll()
				pks = p.TakePackets(pks[:0])
				p.SendBatch(pks)
				if p.ReadyState() == StateClosed {
					pl.Remove(p)
				}
			}
		}
	}()
	return done
}
