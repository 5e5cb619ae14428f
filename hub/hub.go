// Package hub groups wspeer peers into named rooms and broadcasts messages to
// everyone in a room but the sender: on one node, or across a cluster of nodes
// through a Backplane (in-process by default; package
// github.com/wspeer/wspeer/natsbackplane, a separate module, links nodes
// through NATS).
//
// # Delivery
//
// Broadcast hands the message to each local member with Peer.Send, which
// queues it and never waits for the network; then it publishes the message on
// the backplane, whose other nodes hand it to their own members. A node never
// receives its own publications back (the Backplane contract), so no member
// gets a message twice. Messages from one sender reach each member in the
// order they were broadcast, provided the sender broadcasts them one after
// another (one goroutine per connection does that naturally).
//
// # Backpressure
//
// A member whose outbound budget (Peer.OutboundBufferSize,
// Peer.MaxQueuedPackets) is full cannot take a message: it reads more slowly
// than the room talks. Options.Slow decides what happens to it:
//   - CloseSlow (the default) closes it with 1008 (policy violation) and
//     reason "too slow: outbound buffer full". The client sees why and can
//     reconnect; nobody silently misses messages.
//   - SkipSlow drops this message for it and keeps it connected; it misses the
//     messages that arrive while its buffer is full.
//
// Either way the other members are not delayed: no send blocks. A message
// larger than a member's whole OutboundBufferSize is skipped for that member
// under both policies (it could never be queued). Options.OnDrop reports each
// recipient that did not get a message.
//
// # Prepared messages
//
// A broadcast is one Message value handed to every recipient by a single
// function (fanout), so the encode-once step has one place to live: when the
// library gains prepared messages (frame and compress once, send the same
// bytes to many peers), fanout prepares the Message once per broadcast and
// sends the prepared form to each member; neither the API nor the Backplane
// changes. Today each Send frames the payload for its peer.
package hub

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"unicode/utf8"

	"github.com/wspeer/wspeer"
)

// Errors of the hub, matched with errors.Is.
var (
	// ErrClosed reports a Join or Broadcast on a hub after Close.
	ErrClosed = errors.New("hub: closed")
	// ErrInvalidRoom reports an empty room name, or one that is not UTF-8.
	ErrInvalidRoom = errors.New("hub: invalid room name")
	// ErrPublish reports a broadcast that reached the local members but that
	// the backplane could not publish to the other nodes; it wraps the
	// backplane's error.
	ErrPublish = errors.New("hub: delivered locally, not published to the other nodes")
)

// Message is one WebSocket message to broadcast. Data is not modified by the
// hub and not retained after Broadcast returns.
type Message struct {
	Data []byte
	Mode wspeer.WriteMode // WriteModeText (the zero value) or WriteModeBinary
}

// SlowPolicy is what a broadcast does to a member whose outbound buffer is
// full (see the package documentation).
type SlowPolicy int

const (
	// CloseSlow closes a member that cannot take a message with 1008.
	CloseSlow SlowPolicy = iota
	// SkipSlow drops the message for that member and keeps it connected.
	SkipSlow
)

// Options configure a Hub. The zero value is a single-node hub with CloseSlow.
type Options struct {
	// Backplane links this hub to the hubs of other nodes; nil keeps the
	// rooms within this process. The hub does not close it.
	Backplane Backplane
	// Slow is the policy for members whose outbound buffer is full.
	Slow SlowPolicy
	// OnDrop, if set, is called for each member that did not get a message,
	// with the Send error (ErrBufferFull or ErrTooLarge, wrapped). It runs in
	// the broadcasting goroutine, so it must not block; it must not call the
	// hub.
	OnDrop func(room string, p *wspeer.Peer, err error)
}

// Stats counts what a hub did since New.
type Stats struct {
	Delivered uint64 // messages queued on a member
	Skipped   uint64 // messages a member did not get and stayed connected
	Closed    uint64 // members closed with 1008 by CloseSlow
	Remote    uint64 // messages received from other nodes through the backplane
}

// Hub is a set of rooms of peers. All its methods are safe for concurrent use.
type Hub struct {
	opts Options

	mu     sync.RWMutex
	rooms  map[string][]*wspeer.Peer // copied on write: a broadcast reads without copying
	closed bool

	delivered, skipped, closedSlow, remote atomic.Uint64
}

// New returns an empty hub.
func New(opts Options) *Hub {
	return &Hub{opts: opts, rooms: make(map[string][]*wspeer.Peer)}
}

// Join adds p to room; joining twice does nothing. The first local member of
// a room subscribes the hub to it on the backplane; if that fails, p is not
// joined and the error says why. p's owner keeps driving it (Wait and Poll)
// and calls Leave when it is done with it.
func (h *Hub) Join(room string, p *wspeer.Peer) error {
	if err := checkRoom(room); err != nil {
		return err
	}
	if p == nil {
		return fmt.Errorf("%w: hub: Join(%q) with a nil peer", wspeer.ErrInvalidParameter, room)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return ErrClosed
	}
	members, ok := h.rooms[room]
	for _, m := range members {
		if m == p {
			return nil
		}
	}
	if !ok && h.opts.Backplane != nil {
		// Under h.mu, so that subscriptions follow the joins and leaves in
		// order; the backplane calls deliver from its own goroutines.
		if err := h.opts.Backplane.Subscribe(room, func(m Message) { h.deliverRemote(room, m) }); err != nil {
			return fmt.Errorf("hub: subscribing to room %q: %w", room, err)
		}
	}
	next := make([]*wspeer.Peer, len(members), len(members)+1)
	copy(next, members)
	h.rooms[room] = append(next, p)
	return nil
}

// Leave removes p from room; the last local member's leave unsubscribes the
// hub from the room on the backplane. Leaving a room p is not in does nothing.
func (h *Hub) Leave(room string, p *wspeer.Peer) {
	h.mu.Lock()
	defer h.mu.Unlock()
	members := h.rooms[room]
	i := 0
	for i < len(members) && members[i] != p {
		i++
	}
	if i == len(members) {
		return
	}
	if len(members) == 1 {
		delete(h.rooms, room)
		if h.opts.Backplane != nil {
			// The room is gone here either way; an error only means the
			// backplane keeps sending messages that find no member.
			_ = h.opts.Backplane.Unsubscribe(room)
		}
		return
	}
	next := make([]*wspeer.Peer, 0, len(members)-1)
	next = append(next, members[:i]...)
	h.rooms[room] = append(next, members[i+1:]...)
}

// Members returns the number of local members of room.
func (h *Hub) Members(room string) int {
	h.mu.RLock()
	defer h.mu.RUnlock()
	return len(h.rooms[room])
}

// Broadcast sends msg to every member of room except from (nil sends to all),
// on this node at once and on the others through the backplane. A text
// message must be UTF-8 (wspeer.ErrInvalidUTF8, nothing sent). The local
// members get it even when publishing fails; the error then matches
// ErrPublish and the backplane's own error.
func (h *Hub) Broadcast(room string, from *wspeer.Peer, msg Message) error {
	if err := checkRoom(room); err != nil {
		return err
	}
	switch msg.Mode {
	case wspeer.WriteModeText:
		if !utf8.Valid(msg.Data) {
			return wspeer.ErrInvalidUTF8
		}
	case wspeer.WriteModeBinary:
	default:
		return fmt.Errorf("%w: write mode %d", wspeer.ErrInvalidParameter, msg.Mode)
	}
	h.mu.RLock()
	members, closed := h.rooms[room], h.closed
	h.mu.RUnlock()
	if closed {
		return ErrClosed
	}
	h.fanout(room, members, from, msg)
	if h.opts.Backplane == nil {
		return nil
	}
	if err := h.opts.Backplane.Publish(room, msg); err != nil {
		return fmt.Errorf("%w: room %q: %w", ErrPublish, room, err)
	}
	return nil
}

// deliverRemote hands a message another node published to the local members.
func (h *Hub) deliverRemote(room string, msg Message) {
	h.remote.Add(1)
	h.mu.RLock()
	members := h.rooms[room]
	h.mu.RUnlock()
	h.fanout(room, members, nil, msg)
}

// fanout sends msg to members except from, applying the slow policy. The
// message is prepared once (wspeer.PreparedMessage): every member of the
// same kind gets the same frame bytes, so a compressed broadcast costs one
// compression.
func (h *Hub) fanout(room string, members []*wspeer.Peer, from *wspeer.Peer, msg Message) {
	if len(members) == 0 || (len(members) == 1 && members[0] == from) {
		return
	}
	pm, err := wspeer.NewPreparedMessage(msg.Data, msg.Mode)
	if err != nil {
		return // Broadcast checked the message; a remote one that fails is dropped
	}
	for _, p := range members {
		if p == from {
			continue
		}
		err := p.SendPrepared(pm)
		switch {
		case err == nil:
			h.delivered.Add(1)
		case errors.Is(err, wspeer.ErrBufferFull) && h.opts.Slow == CloseSlow:
			h.closedSlow.Add(1)
			p.Close(1008, "too slow: outbound buffer full")
			h.dropped(room, p, err)
		case errors.Is(err, wspeer.ErrBufferFull), errors.Is(err, wspeer.ErrTooLarge):
			h.skipped.Add(1)
			h.dropped(room, p, err)
		}
		// Any other error is ErrNotOpen: the member is closing, and its
		// owner will Leave.
	}
}

func (h *Hub) dropped(room string, p *wspeer.Peer, err error) {
	if h.opts.OnDrop != nil {
		h.opts.OnDrop(room, p, err)
	}
}

// Stats returns the hub's counters.
func (h *Hub) Stats() Stats {
	return Stats{
		Delivered: h.delivered.Load(),
		Skipped:   h.skipped.Load(),
		Closed:    h.closedSlow.Load(),
		Remote:    h.remote.Load(),
	}
}

// Close empties every room, unsubscribing from the backplane, and makes later
// Joins fail with ErrClosed. It does not close the peers or the backplane.
func (h *Hub) Close() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return nil
	}
	h.closed = true
	var errs []error
	for room := range h.rooms {
		if h.opts.Backplane != nil {
			errs = append(errs, h.opts.Backplane.Unsubscribe(room))
		}
		delete(h.rooms, room)
	}
	return errors.Join(errs...)
}

func checkRoom(room string) error {
	if room == "" || !utf8.ValidString(room) {
		return fmt.Errorf("%w: %q", ErrInvalidRoom, room)
	}
	return nil
}
