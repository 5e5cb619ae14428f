package wspeer

import (
	"errors"

	"github.com/wspeer/wspeer/internal/proto"
)

// Sentinel errors, matched with errors.Is. Errors returned by the package wrap
// them with context.
var (
	// ErrInvalidParameter reports an invalid argument or setting (Godot's
	// ERR_INVALID_PARAMETER): a bad URL, close code or budget.
	ErrInvalidParameter = errors.New("wspeer: invalid parameter")
	// ErrInUse reports a connect or accept on a peer that is CONNECTING or OPEN
	// (Godot's ERR_ALREADY_IN_USE).
	ErrInUse = errors.New("wspeer: peer already in use")
	// ErrNotOpen reports a send on a peer that is not OPEN (Godot's FAILED).
	ErrNotOpen = errors.New("wspeer: peer is not open")
	// ErrBufferFull reports a send that would exceed OutboundBufferSize or
	// MaxQueuedPackets; nothing was queued (Godot's ERR_OUT_OF_MEMORY).
	ErrBufferFull = errors.New("wspeer: outbound buffer full")
	// ErrTooLarge reports a send of a message larger than OutboundBufferSize:
	// unlike ErrBufferFull, waiting does not help, it can never be queued.
	ErrTooLarge = errors.New("wspeer: message larger than the outbound buffer")
	// ErrNoPacket reports GetPacket with no packet queued (Godot's ERR_UNAVAILABLE).
	ErrNoPacket = errors.New("wspeer: no packet available")
	// ErrInvalidUTF8 reports a text message that is not valid UTF-8.
	ErrInvalidUTF8 = errors.New("wspeer: text is not valid UTF-8")
	// ErrUnsupported reports an operation the platform or transport cannot do.
	ErrUnsupported = errors.New("wspeer: not supported")
	// ErrClosed is returned by Wait once the peer is CLOSED, ending a Wait loop.
	ErrClosed = errors.New("wspeer: peer is closed")
)

// Reasons a connection ended without a clean closing handshake, reported by
// CloseError (wrapped with detail, and with the underlying error where there is one).
var (
	// ErrDial reports a failed name resolution or TCP connection.
	ErrDial = errors.New("wspeer: dial failed")
	// ErrHandshake reports a failed opening handshake: a bad request or
	// response, a rejected status (see HandshakeStatus), or a TLS failure.
	ErrHandshake = errors.New("wspeer: opening handshake failed")
	// ErrHandshakeTimeout reports an opening handshake that did not finish in time.
	ErrHandshakeTimeout = errors.New("wspeer: opening handshake timed out")
	// ErrConnectionLost reports a transport that failed or ended (EOF, reset)
	// before the closing handshake.
	ErrConnectionLost = errors.New("wspeer: connection lost")
	// ErrProtocol reports a protocol violation by the remote endpoint; the
	// error also matches the close code's sentinel (ErrProtocolViolation,
	// ErrInvalidPayload, ErrMessageTooBig).
	ErrProtocol = errors.New("wspeer: protocol violation by the peer")
	// ErrCloseTimeout reports a closing handshake the peer did not finish in time.
	ErrCloseTimeout = proto.ErrCloseTimeout
	// ErrHeartbeatTimeout reports a heartbeat ping that got no pong in time.
	ErrHeartbeatTimeout = proto.ErrHeartbeatTimeout
	// ErrDropped reports a connection dropped locally: Close with a negative
	// code, or Close while CONNECTING.
	ErrDropped = errors.New("wspeer: connection dropped locally")
)

// Sentinels for the close code of a protocol violation, matching the
// *proto.ProtocolError inside a CloseError.
var (
	ErrProtocolViolation = proto.ErrProtocol       // 1002
	ErrInvalidPayload    = proto.ErrInvalidPayload // 1007
	ErrMessageTooBig     = proto.ErrMessageTooBig  // 1009
)

// closeError joins a sentinel with the underlying cause and a detail message,
// so that errors.Is finds both.
type closeError struct {
	kind   error
	detail string
	cause  error
}

func (e *closeError) Error() string {
	s := e.kind.Error()
	if e.detail != "" {
		s += ": " + e.detail
	}
	if e.cause != nil {
		s += ": " + e.cause.Error()
	}
	return s
}

func (e *closeError) Unwrap() []error {
	if e.cause == nil {
		return []error{e.kind}
	}
	return []error{e.kind, e.cause}
}

func newCloseError(kind error, detail string, cause error) error {
	return &closeError{kind: kind, detail: detail, cause: cause}
}

// Failures of wss://, proxies and net/http upgrades (issue 4).
var (
	// ErrProxy reports a client connection through an HTTP proxy that failed:
	// the Proxy func's error, an unsupported proxy scheme, the proxy
	// unreachable (also ErrDial), or its CONNECT answer not 2xx (407 when the
	// credentials in the proxy URL are missing or wrong).
	ErrProxy = errors.New("wspeer: proxy failed")
	// ErrForbiddenOrigin reports an upgrade refused with 403 because its
	// Origin is neither the request's host nor allowed by
	// Upgrader.OriginPatterns (cross-site WebSocket hijacking protection).
	ErrForbiddenOrigin = errors.New("wspeer: origin not allowed")
	// ErrForbiddenHost reports an upgrade refused with 403 because its host
	// is not allowed by Upgrader.AllowedHosts (DNS rebinding protection).
	ErrForbiddenHost = errors.New("wspeer: host not allowed")
	// ErrBadRequest reports an opening handshake request that is not a valid
	// WebSocket upgrade; it was answered with 400, 405, 426, 431 or 505.
	ErrBadRequest = proto.ErrBadRequest
)
