package hub

import (
	"fmt"
	"sync"
)

// Backplane carries broadcasts between the hubs of a cluster's nodes: each
// hub publishes its rooms' messages and receives the other nodes' for the
// rooms it has members in. Implementations must be safe for concurrent use
// and keep these promises:
//   - a node never gets its own publications back (no message twice);
//   - messages one node publishes to a room reach each other node in the
//     order they were published;
//   - Subscribe, Unsubscribe and Publish do not wait for the network for
//     long (the hub calls Subscribe and Unsubscribe with its lock held) and
//     never call deliver themselves;
//   - deliver may be called from any goroutine, one message at a time per
//     room, and its Message is not used after it returns.
type Backplane interface {
	// Subscribe starts passing the messages other nodes publish to room to
	// deliver, until Unsubscribe. The hub subscribes once per room.
	Subscribe(room string, deliver func(Message)) error
	// Unsubscribe stops the deliveries of room.
	Unsubscribe(room string) error
	// Publish sends msg to the other nodes' subscribers of room.
	Publish(room string, msg Message) error
}

// MemoryBus links hubs in one process, as a broker links nodes: each
// Backplane it returns is one node. It serves tests and programs that run
// several hubs side by side; a single hub needs no backplane at all.
// Publish delivers in the publisher's goroutine, so order per sender holds.
type MemoryBus struct {
	mu   sync.Mutex
	subs map[string]map[*memoryNode]func(Message)
}

// NewMemoryBus returns a bus with no nodes.
func NewMemoryBus() *MemoryBus {
	return &MemoryBus{subs: make(map[string]map[*memoryNode]func(Message))}
}

// Backplane returns a new node of the bus, for one hub.
func (b *MemoryBus) Backplane() Backplane { return &memoryNode{bus: b} }

// Subscribers returns how many nodes are subscribed to room.
func (b *MemoryBus) Subscribers(room string) int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.subs[room])
}

type memoryNode struct{ bus *MemoryBus }

func (n *memoryNode) Subscribe(room string, deliver func(Message)) error {
	b := n.bus
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.subs[room] == nil {
		b.subs[room] = make(map[*memoryNode]func(Message))
	}
	if _, ok := b.subs[room][n]; ok {
		return fmt.Errorf("hub: memory bus: room %q subscribed twice by one node", room)
	}
	b.subs[room][n] = deliver
	return nil
}

func (n *memoryNode) Unsubscribe(room string) error {
	b := n.bus
	b.mu.Lock()
	defer b.mu.Unlock()
	delete(b.subs[room], n)
	if len(b.subs[room]) == 0 {
		delete(b.subs, room)
	}
	return nil
}

func (n *memoryNode) Publish(room string, msg Message) error {
	b := n.bus
	b.mu.Lock()
	deliver := make([]func(Message), 0, len(b.subs[room]))
	for node, d := range b.subs[room] {
		if node != n {
			deliver = append(deliver, d)
		}
	}
	b.mu.Unlock()
	// Outside the lock: deliver takes the receiving hub's lock, which may be
	// held by a Join waiting for b.mu.
	for _, d := range deliver {
		d(msg)
	}
	return nil
}
