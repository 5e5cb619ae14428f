//go:build !js

package hub

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"
)

func TestMemoryBusLinksHubs(t *testing.T) {
	bus := NewMemoryBus()
	h1, h2 := New(Options{Backplane: bus.Backplane()}), New(Options{Backplane: bus.Backplane()})
	a, b := newMember(t, 1<<20, false), newMember(t, 1<<20, false) // on h1
	c := newMember(t, 1<<20, false)                                // on h2
	h1.Join("lobby", a.srv)
	h1.Join("lobby", b.srv)
	h2.Join("lobby", c.srv)
	if n := bus.Subscribers("lobby"); n != 2 {
		t.Fatalf("%d nodes subscribed, want 2 (one per hub)", n)
	}
	const n = 200
	for i := range n {
		if err := h1.Broadcast("lobby", a.srv, text(fmt.Sprint("a", i))); err != nil {
			t.Fatal(err)
		}
	}
	h2.Broadcast("lobby", c.srv, text("from c"))
	for _, m := range []*member{b, c} { // in order, once each
		for i := range n {
			expect(t, m.got, fmt.Sprint("a", i))
		}
	}
	expect(t, a.got, "from c")
	expect(t, b.got, "from c")
	h1.Broadcast("lobby", nil, text("end"))
	expect(t, c.got, "end") // c never got its own message back, nor any twice
	if st := h2.Stats(); st.Remote != n+1 {
		t.Fatalf("h2 received %d remote messages, want %d", st.Remote, n+1)
	}

	h2.Leave("lobby", c.srv)
	if n := bus.Subscribers("lobby"); n != 1 {
		t.Fatalf("%d nodes subscribed after h2's last member left, want 1", n)
	}
	h1.Close()
	if n := bus.Subscribers("lobby"); n != 0 {
		t.Fatalf("%d nodes subscribed after Close, want 0", n)
	}
}

// failingBackplane refuses every call.
type failingBackplane struct{}

var errBackplaneDown = errors.New("backplane down")

func (failingBackplane) Subscribe(string, func(Message)) error { return errBackplaneDown }
func (failingBackplane) Unsubscribe(string) error              { return errBackplaneDown }
func (failingBackplane) Publish(string, Message) error         { return errBackplaneDown }

// publishFails subscribes but cannot publish, like NATS past its reconnect
// buffer.
type publishFails struct{ Backplane }

func (publishFails) Publish(string, Message) error { return errBackplaneDown }

func TestBackplaneErrors(t *testing.T) {
	h := New(Options{Backplane: failingBackplane{}})
	m := newMember(t, 1<<16, false)
	if err := h.Join("r", m.srv); !errors.Is(err, errBackplaneDown) || h.Members("r") != 0 {
		t.Fatalf("Join with a failing subscribe: %v, %d members", err, h.Members("r"))
	}
	// A publish failure still delivers locally, and says so.
	h = New(Options{Backplane: publishFails{NewMemoryBus().Backplane()}})
	other := newMember(t, 1<<16, false)
	h.Join("r", m.srv)
	h.Join("r", other.srv)
	err := h.Broadcast("r", other.srv, text("local"))
	if !errors.Is(err, ErrPublish) || !errors.Is(err, errBackplaneDown) {
		t.Fatalf("Broadcast with a failing publish: %v", err)
	}
	expect(t, m.got, "local")
}

// TestConcurrentUse joins, leaves and broadcasts from many goroutines (run
// with -race); every member that stays in the room gets every message of
// each sender, in that sender's order.
func TestConcurrentUse(t *testing.T) {
	bus := NewMemoryBus()
	h1, h2 := New(Options{Backplane: bus.Backplane()}), New(Options{Backplane: bus.Backplane()})
	stay := newMember(t, 1<<20, false)
	h2.Join("r", stay.srv)
	churn := []*member{newMember(t, 1<<20, false), newMember(t, 1<<20, false)}
	const senders, msgs = 4, 50
	var wg sync.WaitGroup
	for s := range senders {
		wg.Go(func() {
			for i := range msgs {
				h1.Broadcast("r", nil, text(fmt.Sprintf("%d-%d", s, i)))
			}
		})
	}
	for _, m := range churn {
		wg.Go(func() {
			for range msgs {
				h1.Join("r", m.srv)
				h1.Leave("r", m.srv)
			}
		})
	}
	wg.Wait()
	next := make([]int, senders)
	for range senders * msgs {
		var s, i int
		select {
		case got := <-stay.got:
			if _, err := fmt.Sscanf(got, "%d-%d", &s, &i); err != nil || s >= senders {
				t.Fatalf("unexpected message %q", got)
			}
		case <-time.After(testTimeout):
			t.Fatalf("messages missing after %v: next %v", testTimeout, next)
		}
		if i != next[s] {
			t.Fatalf("sender %d: message %d, want %d", s, i, next[s])
		}
		next[s]++
	}
}
