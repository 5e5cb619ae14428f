package wspeer

// This file holds the declarations both builds share: the native Peer
// (peer.go and its companions, built for every GOOS but js) and the browser
// Peer (peer_js.go) use the same states, write modes and defaults, so that a
// program compiles unchanged for either.

import (
	"fmt"
	"time"
)

// State is a peer's ready state, Godot's WebSocketPeer.State.
type State int

// The four ready states. A new Peer is CLOSED.
const (
	StateConnecting State = iota // handshake in progress
	StateOpen                    // messages flow
	StateClosing                 // a close frame was sent or received
	StateClosed                  // the initial and the final state
)

// String returns the state's name.
func (s State) String() string {
	switch s {
	case StateConnecting:
		return "CONNECTING"
	case StateOpen:
		return "OPEN"
	case StateClosing:
		return "CLOSING"
	case StateClosed:
		return "CLOSED"
	}
	return fmt.Sprintf("State(%d)", int(s))
}

// WriteMode selects the frame type of a sent message.
type WriteMode int

// The write modes, with Godot's values.
const (
	WriteModeText   WriteMode = 0 // opcode 0x1, payload must be UTF-8
	WriteModeBinary WriteMode = 1 // opcode 0x2
)

// Defaults applied by NewPeer.
const (
	DefaultBufferSize       = 65535 // InboundBufferSize and OutboundBufferSize, as in Godot
	DefaultMaxQueuedPackets = 2048
	DefaultDialTimeout      = 10 * time.Second
	DefaultHandshakeTimeout = 5 * time.Second
	DefaultCloseTimeout     = 5 * time.Second
	// DefaultCompressionThreshold: below this many bytes, deflate's framing
	// costs more than it saves.
	DefaultCompressionThreshold = 128
	// DefaultMaxHandshakeSize bounds an opening handshake's HTTP head when
	// MaxHandshakeSize is 0: what most servers allow, far more than a
	// WebSocket handshake needs.
	DefaultMaxHandshakeSize = 8192
)
