package proto

import (
	"errors"
	"strconv"
)

// ProtocolError is a violation of the protocol by the remote endpoint, carrying the
// close code RFC 6455 assigns to it. errors.Is matches it against the sentinels
// below by code, so callers can ask "was it a 1007?" without string matching.
type ProtocolError struct {
	Code   int    // close code sent to the peer: 1002, 1007, 1009...
	Reason string // what was wrong, short enough for a close frame
}

func (e *ProtocolError) Error() string {
	return e.Reason + " (close " + strconv.Itoa(e.Code) + ")"
}

// Is reports whether target is a *ProtocolError with the same code.
func (e *ProtocolError) Is(target error) bool {
	t, ok := target.(*ProtocolError)
	return ok && t.Code == e.Code
}

func protocolError(code int, reason string) *ProtocolError {
	return &ProtocolError{Code: code, Reason: reason}
}

// Sentinels for errors.Is, one per close code the engine fails a connection with.
var (
	ErrProtocol       = protocolError(CloseProtocolError, "protocol error")
	ErrInvalidPayload = protocolError(CloseInvalidPayload, "invalid frame payload data")
	ErrMessageTooBig  = protocolError(CloseMessageTooBig, "message too big")
	ErrInternal       = protocolError(CloseInternalError, "internal error")
)

// Errors of the local side's own calls and timers.
var (
	// ErrInvalidClose is returned for a close code or reason that may not be sent.
	ErrInvalidClose = errors.New("invalid close code or reason")
	// ErrCloseSent is returned when sending after a close frame was sent: RFC 6455
	// section 5.5.1 forbids data after Close.
	ErrCloseSent = errors.New("close frame already sent")
	// ErrCloseTimeout reports that the peer did not answer our close frame in time.
	ErrCloseTimeout = errors.New("wspeer: closing handshake timed out")
	// ErrHeartbeatTimeout reports that a heartbeat ping got no pong in time.
	ErrHeartbeatTimeout = errors.New("wspeer: heartbeat timed out: no pong received")
)

type closeArgError string

func (e closeArgError) Error() string        { return string(e) }
func (e closeArgError) Is(target error) bool { return target == ErrInvalidClose }

func errCloseArg(msg string) error { return closeArgError(msg) }
