//go:build !js

package wspeer

import (
	"context"
	"errors"
	"fmt"
	"net"
	"testing"
	"time"
)

// pollerEcho runs a Godot-style echo server on one goroutine with a Poller
// until ctx ends, and reports how many Wait rounds it took.
func pollerEcho(ctx context.Context, t *testing.T, ln net.Listener, setup func(*Peer)) <-chan int {
	pl, err := NewPoller()
	if err != nil {
		t.Fatal(err)
	}
	// Connections are accepted on their own goroutine; Add is safe from any
	// goroutine and wakes a parked Wait.
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			p := NewPeer()
			if setup != nil {
				setup(p)
			}
			p.AcceptStream(c)
			pl.Add(p)
		}
	}()
	rounds := make(chan int, 1)
	go func() {
		defer pl.Close()
		n := 0
		var ready []*Peer
		for ctx.Err() == nil {
			var err error
			ready, err = pl.Wait(ctx, ready[:0])
			if err != nil {
				break
			}
			n++
			for _, p := range ready {
				p.Poll()
				for {
					b, err := p.GetPacket()
					if err != nil {
						break
					}
					if p.WasStringPacket() {
						p.SendText(string(b))
					} else {
						p.PutPacket(b)
					}
				}
				if p.ReadyState() == StateClosed {
					pl.Remove(p)
				}
			}
		}
		rounds <- n
	}()
	return rounds
}

func TestPollerEchoManyClients(t *testing.T) {
	ln := listen(t)
	ctx, cancel := context.WithCancel(context.Background())
	rounds := pollerEcho(ctx, t, ln, nil)
	const clients, msgs = 20, 50
	errs := make(chan error, clients)
	for i := 0; i < clients; i++ {
		go func(i int) {
			c := NewPeer()
			if err := c.ConnectToURL("ws://"+ln.Addr().String()+"/", nil); err != nil {
				errs <- err
				return
			}
			defer c.Close(-1, "")
			cctx, ccancel := context.WithTimeout(context.Background(), testTimeout)
			defer ccancel()
			sent, got := false, 0
			for got < msgs && c.Wait(cctx) == nil {
				c.Poll()
				if c.ReadyState() == StateOpen && !sent {
					for j := 0; j < msgs; j++ {
						c.SendText(fmt.Sprintf("%d-%d", i, j))
					}
					sent = true
				}
				for {
					b, err := c.GetPacket()
					if err != nil {
						break
					}
					if want := fmt.Sprintf("%d-%d", i, got); string(b) != want {
						errs <- fmt.Errorf("client %d: got %q, want %q", i, b, want)
						return
					}
					got++
				}
			}
			if got != msgs {
				errs <- fmt.Errorf("client %d: %d of %d echoes (%v)", i, got, msgs, c.CloseError())
				return
			}
			errs <- nil
		}(i)
	}
	for i := 0; i < clients; i++ {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	cancel()
	<-rounds
}

func TestPollerParksWhenIdle(t *testing.T) {
	pl, err := NewPoller()
	if err != nil {
		t.Fatal(err)
	}
	defer pl.Close()
	for i := 0; i < 3; i++ {
		p, _ := openServer(t, nil)
		pl.Add(p)
	}
	if pl.Len() != 3 {
		t.Fatal(pl.Len())
	}
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	rounds := 0
	for {
		ready, err := pl.Wait(ctx, nil)
		if err != nil {
			break
		}
		rounds++
		for _, p := range ready {
			p.Poll()
		}
		if rounds > 10 {
			t.Fatalf("Wait keeps returning on idle peers: %d", len(ready))
		}
	}
	if !errors.Is(ctx.Err(), context.DeadlineExceeded) {
		t.Fatal(ctx.Err())
	}
}

func TestPollerTimersDialsAndClosed(t *testing.T) {
	pl, err := NewPoller()
	if err != nil {
		t.Fatal(err)
	}
	defer pl.Close()
	// A server peer whose client never sends a request: its handshake
	// timeout must wake the Poller.
	stalled, _ := serverPeer(t, func(p *Peer) { p.HandshakeTimeout = 150 * time.Millisecond })
	pl.Add(stalled)
	// A client peer that dials through the Poller.
	s := newRawServer(t)
	dialer := NewPeer()
	if err := dialer.ConnectToURL(s.url("/"), nil); err != nil {
		t.Fatal(err)
	}
	defer dialer.Close(-1, "")
	pl.Add(dialer)
	go func() { s.accept(); s.respond("") }()
	// A peer over net.Pipe (stream transport).
	a, b := net.Pipe()
	defer b.Close()
	piped := NewPeer()
	piped.AcceptStream(a)
	pl.Add(piped)
	rc := &rawClient{t: t, conn: b, br: newBufReader(b), key: testKey}
	go rc.handshake("")

	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	closedSeen := 0
	var ready []*Peer
	for ctx.Err() == nil && (stalled.ReadyState() != StateClosed || dialer.ReadyState() != StateOpen || piped.ReadyState() != StateOpen) {
		ready, err = pl.Wait(ctx, ready[:0])
		if err != nil {
			t.Fatalf("Wait: %v (stalled %v, dialer %v, piped %v)", err, stalled.ReadyState(), dialer.ReadyState(), piped.ReadyState())
		}
		for _, p := range ready {
			if p.ReadyState() == StateClosed {
				closedSeen++
				continue
			}
			p.Poll()
		}
	}
	if !errors.Is(stalled.CloseError(), ErrHandshakeTimeout) {
		t.Fatalf("stalled: %v", stalled.CloseError())
	}
	// The CLOSED peer is reported once, then not again.
	ready, _ = pl.Wait(ctx, ready[:0])
	for _, p := range ready {
		if p == stalled {
			closedSeen++
		}
	}
	short, cancel2 := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel2()
	for {
		r, err := pl.Wait(short, nil)
		if err != nil {
			break
		}
		for _, p := range r {
			if p == stalled {
				closedSeen++
			}
			p.Poll()
		}
	}
	if closedSeen != 1 {
		t.Fatalf("CLOSED reported %d times", closedSeen)
	}
	pl.Remove(stalled)
	if pl.Len() != 2 {
		t.Fatal(pl.Len())
	}
}

func TestPollerFlushesASendFromAnotherGoroutine(t *testing.T) {
	// A message larger than the socket buffers, sent by another goroutine:
	// the rest of it must be written by the Poller's loop alone, with no
	// inbound traffic to wake it.
	pl, err := NewPoller()
	if err != nil {
		t.Fatal(err)
	}
	defer pl.Close()
	p, rc := openServer(t, func(p *Peer) { p.OutboundBufferSize = 16 << 20 })
	pl.Add(p)
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	go func() {
		var ready []*Peer
		for {
			var err error
			if ready, err = pl.Wait(ctx, ready[:0]); err != nil {
				return
			}
			for _, q := range ready {
				q.Poll()
			}
		}
	}()
	msg := make([]byte, 8<<20)
	for i := range msg {
		msg[i] = byte(i)
	}
	time.Sleep(20 * time.Millisecond) // let the loop park in Wait
	if err := p.PutPacket(msg); err != nil {
		t.Fatal(err)
	}
	f := rc.readFrame()
	if len(f.payload) != len(msg) || f.payload[12345] != msg[12345] {
		t.Fatalf("got %d bytes", len(f.payload))
	}
}

// Messages delivered over several Polls (a huge compressed one) make the
// Poller return the peer while it has work without losing the socket's
// registration: the next messages still wake it (a peer reported ready used
// to lose its epoll registration, and the second message never arrived).
func TestPollerHugeMessagesInARow(t *testing.T) {
	ln := listen(t)
	pl, err := NewPoller()
	if err != nil {
		t.Fatal(err)
	}
	defer pl.Close()
	setup := func(p *Peer) *Peer {
		p.Compression = true
		p.InboundBufferSize, p.OutboundBufferSize = 8<<20, 8<<20
		return p
	}
	if err := pl.Listen(ln, func() *Peer { return setup(NewPeer()) }); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	batchEchoLoop(ctx, pl)
	c := setup(NewPeer())
	defer c.Close(-1, "")
	if err := c.ConnectToURL("ws://"+ln.Addr().String()+"/", nil); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		if i == 0 {
			pollUntil(t, c, "OPEN", stateIs(c, StateOpen))
		}
		if err := c.PutPacket(make([]byte, 4<<20)); err != nil {
			t.Fatal(err)
		}
		pollUntil(t, c, fmt.Sprintf("echo %d", i), func() bool { return c.AvailablePacketCount() > 0 })
		if b, _ := c.GetPacket(); len(b) != 4<<20 {
			t.Fatalf("echo %d: %d bytes", i, len(b))
		}
	}
}
