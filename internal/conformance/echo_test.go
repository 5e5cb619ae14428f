package conformance

import (
	"context"
	"errors"
	"net"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/wspeer/wspeer"
)

// Budgets of the echo peers, as the CLI's echo and autobahn modes use them.
const (
	echoBuffer  = 64 << 20
	echoPackets = 4096
)

// newEchoPeer returns a peer with the echo budgets and permessage-deflate
// on, as the suite's peers run (sections 12 and 13 need it; the other
// sections send no offer, or decline it).
func newEchoPeer() *wspeer.Peer {
	p := wspeer.NewPeer()
	p.Compression = true
	p.InboundBufferSize = echoBuffer
	p.OutboundBufferSize = echoBuffer
	p.MaxQueuedPackets = echoPackets
	return p
}

// echoLoop drives p until it is CLOSED or ctx ends, echoing every message with
// its type. A send refused with ErrBufferFull is retried after the next Poll;
// no new packet is taken while one waits, so the inbound budget applies.
func echoLoop(ctx context.Context, p *wspeer.Peer) {
	var held []byte
	var heldText, holding bool
	for p.Wait(ctx) == nil {
		p.Poll()
		for {
			if !holding {
				pk, err := p.GetPacket()
				if err != nil {
					break
				}
				held, heldText, holding = pk, p.WasStringPacket(), true
			}
			mode := wspeer.WriteModeBinary
			if heldText {
				mode = wspeer.WriteModeText
			}
			if err := p.Send(held, mode); errors.Is(err, wspeer.ErrBufferFull) {
				break
			}
			held, holding = nil, false
		}
	}
	if p.ReadyState() != wspeer.StateClosed {
		p.Close(-1, "")
	}
}

// startEchoServer serves echo peers on a loopback port until the test ends,
// built like the CLI's `wspeer echo`: net.Listen, AcceptStream, a Wait/Poll
// loop per connection.
func startEchoServer(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	t.Cleanup(func() {
		cancel()
		l.Close()
		wg.Wait()
	})
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			conn, err := l.Accept()
			if err != nil {
				return
			}
			p := newEchoPeer()
			if err := p.AcceptStream(conn); err != nil {
				t.Errorf("AcceptStream: %v", err)
				continue
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				echoLoop(ctx, p)
			}()
		}
	}()
	return "ws://" + l.Addr().String() + "/"
}

// runPeerAgent is an Autobahn test client built on the Peer API, like the
// CLI's `wspeer autobahn`: it asks the fuzzingserver at base for the case
// count, runs every case with an echo peer bounded by perCase, and asks for
// the report update.
func runPeerAgent(ctx context.Context, t *testing.T, base, agent string, perCase time.Duration) {
	count, err := fetchCaseCount(ctx, base)
	if err != nil {
		t.Fatalf("getCaseCount: %v", err)
	}
	for i := 1; i <= count && ctx.Err() == nil; i++ {
		p := newEchoPeer()
		if err := p.ConnectToURL(base+"/runCase?case="+strconv.Itoa(i)+"&agent="+agent, nil); err != nil {
			t.Fatalf("case %d: ConnectToURL: %v", i, err)
		}
		cctx, cancel := context.WithTimeout(ctx, perCase)
		echoLoop(cctx, p)
		cancel()
	}
	p := wspeer.NewPeer()
	if err := p.ConnectToURL(base+"/updateReports?agent="+agent, nil); err != nil {
		t.Fatal(err)
	}
	cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	for p.Wait(cctx) == nil {
		p.Poll()
	}
}

func fetchCaseCount(ctx context.Context, base string) (int, error) {
	p := wspeer.NewPeer()
	if err := p.ConnectToURL(base+"/getCaseCount", nil); err != nil {
		return 0, err
	}
	cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	n := -1
	for p.Wait(cctx) == nil {
		p.Poll()
		if pk, err := p.GetPacket(); err == nil {
			n, _ = strconv.Atoi(string(pk))
		}
	}
	if pk, err := p.GetPacket(); err == nil {
		n, _ = strconv.Atoi(string(pk))
	}
	if n < 0 {
		return 0, errors.New("no case count received")
	}
	return n, nil
}
