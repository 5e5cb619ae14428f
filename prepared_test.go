//go:build !js

package wspeer

import (
	"errors"
	"strings"
	"testing"
)

// pairOf returns an OPEN server and client pair, with Compression on both
// when compress.
func pairOf(t *testing.T, compress bool) (server, client *Peer) {
	setup := func(p *Peer) {
		p.Compression = compress
		p.InboundBufferSize, p.OutboundBufferSize = 1<<20, 1<<20
	}
	return peerPair(t, setup, setup)
}

// A broadcast to plain and compressed server peers and to a client peer:
// every receiver gets the message, and the servers share one frame per kind
// of connection (one compression for all the compressed ones).
func TestPreparedMessageBroadcast(t *testing.T) {
	msg := strings.Repeat("broadcast ", 500)
	pm, err := NewPreparedMessage([]byte(msg), WriteModeText)
	if err != nil {
		t.Fatal(err)
	}
	type pair struct{ from, to *Peer }
	var pairs []pair
	for _, compress := range []bool{false, false, true, true, true} {
		s, c := pairOf(t, compress)
		pairs = append(pairs, pair{s, c})
	}
	s, c := pairOf(t, true)
	pairs = append(pairs, pair{c, s}) // the client side sends: not shareable
	for _, pr := range pairs {
		if err := pr.from.SendPrepared(pm); err != nil {
			t.Fatal(err)
		}
	}
	for i, pr := range pairs {
		pollUntil(t, pr.to, "the broadcast", func() bool { pr.from.Poll(); return pr.to.AvailablePacketCount() > 0 })
		b, _ := pr.to.GetPacket()
		if string(b) != msg || !pr.to.WasStringPacket() {
			t.Fatalf("receiver %d: %d bytes, text %v", i, len(b), pr.to.WasStringPacket())
		}
	}
	pm.mu.Lock()
	kinds := len(pm.frames)
	pm.mu.Unlock()
	if kinds != 2 {
		t.Fatalf("%d frames built for 5 server peers of 2 kinds, want 2", kinds)
	}
}

func TestPreparedMessageErrors(t *testing.T) {
	if _, err := NewPreparedMessage([]byte("\xff"), WriteModeText); !errors.Is(err, ErrInvalidUTF8) {
		t.Fatalf("invalid text: %v", err)
	}
	if _, err := NewPreparedMessage(nil, WriteMode(9)); !errors.Is(err, ErrInvalidParameter) {
		t.Fatalf("bad mode: %v", err)
	}
	pm, _ := NewPreparedMessage(make([]byte, 200), WriteModeBinary)
	if err := NewPeer().SendPrepared(pm); !errors.Is(err, ErrNotOpen) {
		t.Fatalf("closed peer: %v", err)
	}
	small, _ := openServer(t, func(p *Peer) { p.OutboundBufferSize = 100 })
	if err := small.SendPrepared(pm); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("over the budget: %v", err)
	}
}
