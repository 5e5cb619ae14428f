package servers

import (
	"context"
	"errors"
	"net"
	"net/http"

	"github.com/wspeer/wspeer"
)

// newPeer returns a server peer whose budgets let 1 MiB messages through with
// several in flight each way.
func newPeer() *wspeer.Peer {
	p := wspeer.NewPeer()
	p.InboundBufferSize = MaxMessage
	p.OutboundBufferSize = MaxMessage
	p.MaxQueuedPackets = 4096
	return p
}

// newDeflatePeer is newPeer with permessage-deflate (Peer.Compression; the
// default threshold of 128 bytes; a server always answers
// server_no_context_takeover).
func newDeflatePeer() *wspeer.Peer {
	p := newPeer()
	p.Compression = true
	return p
}

// echoer sends every received message back with its type and never drops
// one: a message that does not fit the outbound budget is held and retried
// after the next Poll, and the peer's queue is not read meanwhile, so its
// inbound budget fills and TCP pushes back on the client.
type echoer struct {
	pending []byte
	mode    wspeer.WriteMode
	held    bool
}

// pump echoes queued packets until the queue is empty or the outbound budget
// is full; it reports whether it did anything.
func (e *echoer) pump(p *wspeer.Peer) bool {
	did := false
	for {
		if !e.held {
			msg, err := p.GetPacket()
			if err != nil {
				return did
			}
			e.pending, e.held = msg, true
			e.mode = wspeer.WriteModeBinary
			if p.WasStringPacket() {
				e.mode = wspeer.WriteModeText
			}
		}
		if err := p.Send(e.pending, e.mode); errors.Is(err, wspeer.ErrBufferFull) {
			return did
		}
		e.pending, e.held = nil, false
		did = true
	}
}

// waitLoop is the complete connection loop of the Wait style.
func waitLoop(p *wspeer.Peer) {
	var e echoer
	ctx := context.Background()
	for p.Wait(ctx) == nil {
		p.Poll()
		e.pump(p)
	}
}

// wspeerWait: net.Listen + AcceptStream, one goroutine per connection
// running the Wait loop.
func wspeerWait(newPeer func() *wspeer.Peer) Impl {
	return func(ln net.Listener) error {
		return acceptLoop(ln, func(c net.Conn) {
			p := newPeer()
			if p.AcceptStream(c) != nil {
				return
			}
			waitLoop(p)
		})
	}
}

// wspeerHTTPHandler: net/http + wspeer.Upgrader, the handler running the Wait
// loop.
func wspeerHTTPHandler(newPeer func() *wspeer.Peer) http.Handler {
	up := &wspeer.Upgrader{InsecureSkipOriginCheck: true, NewPeer: newPeer}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, err := up.Upgrade(w, r)
		if err != nil {
			return
		}
		waitLoop(p)
	})
}
