package servers

import (
	"context"
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
// one. It takes the whole queue at once (TakePackets: lent, not copied) and
// sends it back at once (SendBatch: one lock, one write). Messages that do
// not fit the outbound budget are copied and retried after the next Poll,
// and the peer's queue is not read meanwhile, so its inbound budget fills
// and TCP pushes back on the client.
type echoer struct {
	pks  []wspeer.Packet
	held []wspeer.Packet // owned copies waiting for room
}

// pump echoes what is held, then the queued packets, until the queue is
// empty or the outbound budget is full; it reports whether it did anything.
func (e *echoer) pump(p *wspeer.Peer) bool {
	if len(e.held) > 0 {
		n, err := p.SendBatch(e.held)
		e.held = e.held[n:]
		if err != nil || len(e.held) > 0 {
			return n > 0
		}
	}
	e.pks = p.TakePackets(e.pks[:0])
	if len(e.pks) == 0 {
		return false
	}
	n, _ := p.SendBatch(e.pks)
	for _, pk := range e.pks[n:] {
		// Lent until the next Poll: keep a copy of what has to wait.
		e.held = append(e.held, wspeer.Packet{Data: append([]byte(nil), pk.Data...), Text: pk.Text})
	}
	return true
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
