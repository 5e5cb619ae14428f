package wspeer

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"time"
)

// settings are the exported fields, validated and copied when a connection starts.
type settings struct {
	inMax, outMax, maxPackets int
	protocols                 []string
	header                    http.Header
	heartbeat                 time.Duration
	dialTimeout               time.Duration
	handshakeTimeout          time.Duration
	closeTimeout              time.Duration
	maxHead                   int
	keepHeaders               []string // nil: all
	compression               bool
	threshold                 int
	proxy                     func(*http.Request) (*url.URL, error)
	streamDialer              StreamDialer
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
		maxHead:          p.MaxHandshakeSize,
		keepHeaders:      slices.Clone(p.KeepRequestHeaders),
		compression:      p.Compression,
		threshold:        p.CompressionThreshold,
		proxy:            p.Proxy,
		streamDialer:     p.StreamDialer,
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
	case s.maxHead < 0:
		return s, fmt.Errorf("%w: negative MaxHandshakeSize", ErrInvalidParameter)
	case s.threshold < 0:
		return s, fmt.Errorf("%w: negative CompressionThreshold", ErrInvalidParameter)
	}
	for i, pr := range s.protocols {
		if !isToken(pr) {
			return s, fmt.Errorf("%w: subprotocol %q is not an HTTP token", ErrInvalidParameter, pr)
		}
		// A browser's WebSocket constructor throws on duplicates; refuse them
		// the same way in both builds.
		if slices.Contains(s.protocols[:i], pr) {
			return s, fmt.Errorf("%w: subprotocol %q offered twice", ErrInvalidParameter, pr)
		}
	}
	if s.maxHead == 0 {
		s.maxHead = DefaultMaxHandshakeSize
	}
	return s, checkHandshakeHeaders(s.header)
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
