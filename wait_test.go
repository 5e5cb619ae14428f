//go:build !js

package wspeer

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestWaitParksWhenIdle(t *testing.T) {
	p, rc := openServer(t, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	rounds := 0
	for p.Wait(ctx) == nil && rounds < 1000 {
		p.Poll()
		rounds++
	}
	// An idle connection: Wait returns only at the context's end, not in a loop.
	if rounds > 2 || !errors.Is(ctx.Err(), context.DeadlineExceeded) {
		t.Fatalf("%d rounds while idle", rounds)
	}
	// Data wakes it.
	ctx2, cancel2 := context.WithTimeout(context.Background(), testTimeout)
	defer cancel2()
	go func() {
		time.Sleep(50 * time.Millisecond)
		rc.conn.Write(frame(1, true, true, []byte("wake")))
	}()
	for p.AvailablePacketCount() == 0 {
		if err := p.Wait(ctx2); err != nil {
			t.Fatal(err)
		}
		p.Poll()
	}
}

func TestWaitWokenByCloseFromAnotherGoroutine(t *testing.T) {
	p, rc := openServer(t, nil)
	go func() {
		time.Sleep(50 * time.Millisecond)
		p.Close(1000, "from elsewhere")
	}()
	go func() {
		if code, _ := rc.expectCloseNoFatal(); code == 1000 {
			rc.conn.Write(frame(8, true, true, closePayload(1000, "")))
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	var err error
	for err = p.Wait(ctx); err == nil; err = p.Wait(ctx) {
		p.Poll()
	}
	if !errors.Is(err, ErrClosed) || p.CloseCode() != 1000 {
		t.Fatalf("err %v code %d", err, p.CloseCode())
	}
}

func TestWaitDuringDial(t *testing.T) {
	s := newRawServer(t)
	p := NewPeer()
	if err := p.ConnectToURL(s.url("/"), nil); err != nil {
		t.Fatal(err)
	}
	defer p.Close(-1, "")
	go func() { s.accept(); s.respond("") }()
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	rounds := 0
	for p.ReadyState() != StateOpen {
		if err := p.Wait(ctx); err != nil {
			t.Fatal(err)
		}
		p.Poll()
		rounds++
	}
	if rounds > 10 {
		t.Fatalf("%d rounds to connect", rounds)
	}
}

func TestWaitCanceled(t *testing.T) {
	p, _ := openServer(t, nil)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := p.Wait(ctx); !errors.Is(err, context.Canceled) {
		t.Fatal(err)
	}
	// The peer still works after a canceled Wait.
	if err := p.SendText("still open"); err != nil {
		t.Fatal(err)
	}
}

func TestWaitResumesAfterDrainingAFullQueue(t *testing.T) {
	// Frames already read but held back by a full packet queue must be
	// processed once the application drains, without new socket data.
	p, rc := openServer(t, func(p *Peer) { p.MaxQueuedPackets = 4 })
	var burst []byte
	for i := 0; i < 50; i++ {
		burst = append(burst, frame(2, true, true, []byte{byte(i)})...)
	}
	rc.write(burst)
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	got := 0
	for got < 50 && p.Wait(ctx) == nil {
		p.Poll()
		for p.AvailablePacketCount() > 0 {
			if p.AvailablePacketCount() > 4 {
				t.Fatal("queue over its limit")
			}
			b, _ := p.GetPacket()
			if int(b[0]) != got {
				t.Fatalf("packet %d is %d", got, b[0])
			}
			got++
		}
	}
	if got != 50 {
		t.Fatalf("got %d of 50 packets: %v", got, ctx.Err())
	}
}
