//go:build !js

package wspeer

import (
	"fmt"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/wspeer/wspeer/internal/proto"
)

// Peer is one WebSocket connection, client or server side, driven by Poll: Go's
// version of Godot's WebSocketPeer. Set the exported fields before
// ConnectToURL or AcceptStream; they are read when a connection starts.
// Create peers with NewPeer: the zero value has no budgets and cannot connect. Every
// method is safe for concurrent use; the application observes state changes
// only inside Poll, the send methods, Close, ConnectToURL and AcceptStream.
type Peer struct {
	// InboundBufferSize bounds one whole inbound message and the unread inbound
	// bytes (queued packets plus the message being received). A bigger
	// message closes the connection with 1009; a full buffer stops reading
	// from the socket until the application drains packets.
	InboundBufferSize int
	// OutboundBufferSize bounds the payload bytes accepted by Send and not
	// yet written; a send beyond it fails with ErrBufferFull.
	OutboundBufferSize int
	// MaxQueuedPackets bounds the messages queued in each direction.
	MaxQueuedPackets int
	// SupportedProtocols are the subprotocols a client offers (in order of
	// preference) or a server accepts (the client's order decides).
	SupportedProtocols []string
	// HandshakeHeaders are extra headers for the client's request or the
	// server's 101 response. Headers the handshake manages are refused.
	HandshakeHeaders http.Header
	// HeartbeatInterval sends a ping after this long without one outstanding;
	// a pong missing for another interval fails the connection (1011 sent,
	// CloseCode -1, CloseError matching ErrHeartbeatTimeout). 0 disables it.
	HeartbeatInterval time.Duration
	// DialTimeout bounds name resolution and each TCP connect attempt.
	DialTimeout time.Duration
	// HandshakeTimeout bounds the TLS and HTTP opening handshake.
	HandshakeTimeout time.Duration
	// CloseTimeout bounds the closing handshake after a close frame is sent.
	CloseTimeout time.Duration
	// Compression enables permessage-deflate (RFC 7692): a client offers it and
	// a server accepts a client's offer. Off by default, as in Godot. The
	// inbound budget counts inflated bytes.
	Compression bool
	// CompressionThreshold is the size below which messages are sent
	// uncompressed even when compression was negotiated.
	CompressionThreshold int
	// Proxy chooses the HTTP proxy a client tunnels through with CONNECT, as
	// http.Transport.Proxy does (its request has the target's http or https
	// URL for ws or wss); nil means http.ProxyFromEnvironment, and a func
	// returning nil, nil connects directly.
	Proxy func(*http.Request) (*url.URL, error)

	mu      sync.Mutex
	clock   func() time.Time // time.Now, or a test's clock
	noDelay bool
	connState
}

// connState is everything one connection sets; a new connection starts from
// its zero value. Each part owns its rules in a file of its own: the core
// (internal/proto.Conn: handshake, framing, closing, timers), the link to the
// remote (link.go), the inbound queue (inbound.go), the outbound queue
// (outbound.go) and the outcome (outcome.go).
type connState struct {
	state State
	cfg   settings
	core  *proto.Conn // nil while dialing and once CLOSED
	link
	inbound
	outbound
	outcome
}

// settings are the exported fields, validated and copied when a connection starts.
type settings struct {
	inMax, outMax, maxPackets int
	protocols                 []string
	header                    http.Header
	heartbeat                 time.Duration
	dialTimeout               time.Duration
	handshakeTimeout          time.Duration
	closeTimeout              time.Duration
	compression               bool
	threshold                 int
	proxy                     func(*http.Request) (*url.URL, error)
}

// NewPeer returns a CLOSED peer with Godot's defaults: 65535-byte buffers,
// 2048 queued packets, no protocols, no extra headers, no heartbeat, and
// timeouts of DefaultDialTimeout, DefaultHandshakeTimeout and DefaultCloseTimeout.
func NewPeer() *Peer {
	return &Peer{
		InboundBufferSize:    DefaultBufferSize,
		OutboundBufferSize:   DefaultBufferSize,
		MaxQueuedPackets:     DefaultMaxQueuedPackets,
		DialTimeout:          DefaultDialTimeout,
		HandshakeTimeout:     DefaultHandshakeTimeout,
		CloseTimeout:         DefaultCloseTimeout,
		CompressionThreshold: DefaultCompressionThreshold,
		noDelay:              true,
		connState:            connState{state: StateClosed, outcome: outcome{closeCode: -1}},
	}
}

func (p *Peer) now() time.Time {
	if p.clock != nil {
		return p.clock()
	}
	return time.Now()
}

// settingsLocked validates the exported fields and copies them.
func (p *Peer) settingsLocked() (settings, error) {
	s := settings{
		inMax:            p.InboundBufferSize,
		outMax:           p.OutboundBufferSize,
		maxPackets:       p.MaxQueuedPackets,
		protocols:        append([]string(nil), p.SupportedProtocols...),
		header:           p.HandshakeHeaders.Clone(),
		heartbeat:        p.HeartbeatInterval,
		dialTimeout:      p.DialTimeout,
		handshakeTimeout: p.HandshakeTimeout,
		closeTimeout:     p.CloseTimeout,
		compression:      p.Compression,
		threshold:        p.CompressionThreshold,
		proxy:            p.Proxy,
	}
	switch {
	case s.inMax <= 0:
		return s, fmt.Errorf("%w: InboundBufferSize %d must be positive", ErrInvalidParameter, s.inMax)
	case s.outMax <= 0:
		return s, fmt.Errorf("%w: OutboundBufferSize %d must be positive", ErrInvalidParameter, s.outMax)
	case s.maxPackets <= 0:
		return s, fmt.Errorf("%w: MaxQueuedPackets %d must be positive", ErrInvalidParameter, s.maxPackets)
	case s.heartbeat < 0:
		return s, fmt.Errorf("%w: negative HeartbeatInterval", ErrInvalidParameter)
	case s.dialTimeout <= 0 || s.handshakeTimeout <= 0 || s.closeTimeout <= 0:
		return s, fmt.Errorf("%w: timeouts must be positive", ErrInvalidParameter)
	case s.threshold < 0:
		return s, fmt.Errorf("%w: negative CompressionThreshold", ErrInvalidParameter)
	}
	for _, proto := range s.protocols {
		if !isToken(proto) {
			return s, fmt.Errorf("%w: subprotocol %q is not an HTTP token", ErrInvalidParameter, proto)
		}
	}
	if err := proto.CheckHeader(s.header); err != nil {
		return s, fmt.Errorf("%w: %w", ErrInvalidParameter, err)
	}
	return s, nil
}

// isToken reports whether s is an RFC 7230 token, as a subprotocol name must be.
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c >= 0x7F || containsByte(`"(),/:;<=>?@[\]{}`, c) {
			return false
		}
	}
	return true
}

func containsByte(s string, c byte) bool {
	for i := 0; i < len(s); i++ {
		if s[i] == c {
			return true
		}
	}
	return false
}

// resetLocked clears what a previous connection left, as a new ConnectToURL or
// AcceptStream does in Godot; unread packets of the old connection are dropped.
func (p *Peer) resetLocked(s settings) {
	p.connState = connState{
		cfg:     s,
		state:   StateConnecting,
		outcome: outcome{closeCode: -1},
	}
}
