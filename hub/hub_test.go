//go:build !js

package hub

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/wspeer/wspeer"
)

func TestBroadcastReachesRoomExceptSender(t *testing.T) {
	h := New(Options{})
	a, b, c := newMember(t, 1<<16, false), newMember(t, 1<<16, false), newMember(t, 1<<16, false)
	other := newMember(t, 1<<16, false)
	for _, m := range []*member{a, b, c} {
		if err := h.Join("lobby", m.srv); err != nil {
			t.Fatal(err)
		}
	}
	if err := h.Join("lobby", a.srv); err != nil { // twice: still one member
		t.Fatal(err)
	}
	if err := h.Join("other", other.srv); err != nil {
		t.Fatal(err)
	}
	if n := h.Members("lobby"); n != 3 {
		t.Fatalf("lobby has %d members, want 3", n)
	}
	if err := h.Broadcast("lobby", a.srv, text("hello")); err != nil {
		t.Fatal(err)
	}
	expect(t, b.got, "hello")
	expect(t, c.got, "hello")
	// Markers sent afterwards show that a and other got nothing before them.
	h.Broadcast("lobby", nil, text("marker"))
	h.Broadcast("other", nil, text("marker"))
	expect(t, a.got, "marker")     // nothing came before it
	expect(t, other.got, "marker") // nothing came before it
	expect(t, b.got, "marker")
	expect(t, c.got, "marker")

	h.Leave("lobby", b.srv)
	h.Leave("lobby", other.srv) // not a member: nothing happens
	h.Broadcast("lobby", a.srv, text("after leave"))
	h.Join("b-only", b.srv)
	h.Broadcast("b-only", nil, text("marker2"))
	expect(t, c.got, "after leave")
	expect(t, b.got, "marker2") // nothing came before it
	if n := h.Members("lobby"); n != 2 {
		t.Fatalf("lobby has %d members after a leave, want 2", n)
	}
	if st := h.Stats(); st.Delivered == 0 || st.Skipped != 0 || st.Closed != 0 {
		t.Fatalf("stats %+v", st)
	}
}

func TestBroadcastRejectsBadInput(t *testing.T) {
	h := New(Options{})
	m := newMember(t, 1<<16, false)
	if err := h.Join("", m.srv); !errors.Is(err, ErrInvalidRoom) {
		t.Fatalf("Join empty room: %v", err)
	}
	if err := h.Join("x", nil); !errors.Is(err, wspeer.ErrInvalidParameter) {
		t.Fatal("Join with a nil peer: no error")
	}
	h.Join("x", m.srv)
	if err := h.Broadcast("x", nil, Message{Data: []byte{0xff}}); !errors.Is(err, wspeer.ErrInvalidUTF8) {
		t.Fatalf("invalid UTF-8: %v", err)
	}
	if err := h.Broadcast("x", nil, Message{Data: []byte{1}, Mode: 7}); !errors.Is(err, wspeer.ErrInvalidParameter) {
		t.Fatalf("bad mode: %v", err)
	}
	h.Close()
	if err := h.Join("x", m.srv); !errors.Is(err, ErrClosed) {
		t.Fatalf("Join after Close: %v", err)
	}
	if err := h.Broadcast("x", nil, text("late")); !errors.Is(err, ErrClosed) {
		t.Fatalf("Broadcast after Close: %v", err)
	}
}

// slowRoom fills a slow reader's buffers with broadcasts until the policy
// acts on it, and checks that a fast member got every message meanwhile.
func slowRoom(t *testing.T, policy SlowPolicy) (slow *member, h *Hub, drops []error) {
	t.Helper()
	var mu sync.Mutex
	h = New(Options{Slow: policy, OnDrop: func(room string, p *wspeer.Peer, err error) {
		mu.Lock()
		drops = append(drops, err)
		mu.Unlock()
	}})
	fast := newMember(t, 64<<20, false)
	slow = newMember(t, 8<<10, true)
	h.Join("r", fast.srv)
	h.Join("r", slow.srv)
	chunk := strings.Repeat("x", 1000)
	sent := 0
	for i := 0; i < 20000; i++ { // at most 20 MB: far beyond 8 KiB plus socket buffers
		if err := h.Broadcast("r", nil, text(fmt.Sprint(i, chunk))); err != nil {
			t.Fatal(err)
		}
		sent++
		if h.Stats().Closed+h.Stats().Skipped > 0 {
			break
		}
	}
	if h.Stats().Closed+h.Stats().Skipped == 0 {
		t.Fatalf("%d broadcasts and the slow reader never filled up", sent)
	}
	for i := range sent {
		expect(t, fast.got, fmt.Sprint(i, chunk))
	}
	if fast.srv.ReadyState() != wspeer.StateOpen {
		t.Fatalf("fast member %v", fast.srv.ReadyState())
	}
	mu.Lock()
	defer mu.Unlock()
	return slow, h, drops
}

func TestSlowReaderClosedWith1008(t *testing.T) {
	slow, h, drops := slowRoom(t, CloseSlow)
	if !isClosing(slow.srv) {
		t.Fatalf("slow member %v, want closing", slow.srv.ReadyState())
	}
	if st := h.Stats(); st.Closed != 1 || st.Skipped != 0 {
		t.Fatalf("stats %+v", st)
	}
	if len(drops) != 1 || !errors.Is(drops[0], wspeer.ErrBufferFull) {
		t.Fatalf("OnDrop got %v", drops)
	}
	// Later broadcasts do not touch it again.
	h.Broadcast("r", nil, text("after"))
	if st := h.Stats(); st.Closed != 1 {
		t.Fatalf("closed again: %+v", st)
	}
}

func TestSlowReaderSkipped(t *testing.T) {
	slow, h, drops := slowRoom(t, SkipSlow)
	if slow.srv.ReadyState() != wspeer.StateOpen {
		t.Fatalf("slow member %v, want open", slow.srv.ReadyState())
	}
	if st := h.Stats(); st.Skipped != 1 || st.Closed != 0 {
		t.Fatalf("stats %+v", st)
	}
	if len(drops) != 1 || !errors.Is(drops[0], wspeer.ErrBufferFull) {
		t.Fatalf("OnDrop got %v", drops)
	}
}

func TestTooLargeSkippedUnderBothPolicies(t *testing.T) {
	for _, policy := range []SlowPolicy{CloseSlow, SkipSlow} {
		h := New(Options{Slow: policy})
		small := newMember(t, 100, false)
		h.Join("r", small.srv)
		h.Broadcast("r", nil, text(strings.Repeat("y", 101)))
		h.Broadcast("r", nil, text("fits"))
		expect(t, small.got, "fits")
		if st := h.Stats(); st.Skipped != 1 || st.Closed != 0 || small.srv.ReadyState() != wspeer.StateOpen {
			t.Fatalf("policy %d: stats %+v, member %v", policy, st, small.srv.ReadyState())
		}
	}
}
