package proto

import (
	"io"
	"time"
)

// Role says which end of the connection an Engine plays; it decides the masking
// direction (RFC 6455 section 5.1).
type Role uint8

// The two roles.
const (
	RoleClient Role = iota
	RoleServer
)

// Config holds an Engine's limits and options. The zero value of each limit means
// "no limit", so callers always set them: the Peer does, from its budgets.
type Config struct {
	Role Role
	// MaxMessageSize bounds a whole reassembled message; a message announced or
	// grown past it fails with 1009 before its payload is delivered.
	MaxMessageSize int64
	// MaxFragments bounds the frames of one message (1009 when exceeded), so
	// that empty continuation frames cannot spin the receiver for ever.
	MaxFragments int
	// AllowedRsv are the reserved bits a negotiated extension gives meaning to
	// on the first frame of a data message, for an extension the caller
	// handles itself: such messages are delivered as they are, text unchecked.
	// The bits of Extension are always allowed.
	AllowedRsv byte
	// Extension is the codec of the negotiated extension (permessage-deflate,
	// see internal/deflate); nil means none. Messages whose first frame has
	// one of its bits set are delivered decoded, and the MaxMessageSize limit
	// counts decoded bytes.
	Extension ExtensionCodec
	// Rand supplies masking keys; nil means crypto/rand.
	Rand io.Reader
	// HeartbeatInterval sends a ping this long after the last one was answered
	// (0 disables the heartbeat); HeartbeatTimeout is how long the pong may
	// take (0 means the interval).
	HeartbeatInterval time.Duration
	HeartbeatTimeout  time.Duration
	// CloseTimeout bounds the wait for the peer's answer to our close frame
	// (0 waits for ever).
	CloseTimeout time.Duration
}

// EventKind says what an Event carries.
type EventKind uint8

// The kinds of Event. EventNone means Parse needs more input (or was not allowed
// to deliver more data).
const (
	EventNone EventKind = iota
	EventData
	EventPing
	EventPong
	EventClose
)

// Event is what Parse extracts from the input. Data aliases the caller's input
// buffer (unmasked in place) and is valid until that buffer is reused.
type Event struct {
	Kind EventKind
	// Opcode is OpText or OpBinary for EventData (the message's type, also on
	// continuation chunks).
	Opcode Opcode
	// Rsv holds the reserved bits of the message's first frame (EventData).
	Rsv byte
	// Data is a chunk of a data message's payload or a control frame's payload.
	Data []byte
	// Fin marks the last chunk of a data message.
	Fin bool
	// Code and Reason are the received close status (CloseNoStatus when the
	// close frame had none).
	Code   int
	Reason string
}

// Engine is the RFC 6455 framing state machine of one connection after the
// opening handshake: bytes in, events and bytes out. It does no I/O, starts no
// goroutine and reads no clock: time is passed in. It is not safe for concurrent use.
type Engine struct {
	cfg  Config
	keys *KeySource

	// frame in progress
	hdr       Header
	inFrame   bool
	remaining int64
	maskPos   int

	// message in progress (msgOp == 0: none)
	msgOp     Opcode
	msgRsv    byte
	msgSize   int64
	fragments int
	utf8      UTF8Validator

	closeSent     bool
	closeReceived bool
	failed        bool
	closeDeadline time.Time

	awaitingPong bool
	nextPing     time.Time
	pongDeadline time.Time

	out    []byte // control frames produced by the engine itself, not yet taken
	keyErr error

	// extension (Config.Extension)
	extRsv   byte   // the bits the extension owns
	encoded  bool   // the message in progress is encoded by the extension
	decoding bool   // its encoded bytes are all here: deliver them decoded
	encBuf   []byte // scratch for encoding outgoing messages
}

// decodeStep is the most decoded bytes one Parse delivers when the caller sets
// no bound; it is also the largest encoding scratch buffer kept between messages.
const decodeStep = 16 << 10

// NewEngine returns an engine for a connection whose opening handshake completed at now.
func NewEngine(cfg Config, now time.Time) *Engine {
	e := &Engine{cfg: cfg}
	if cfg.Extension != nil {
		e.extRsv = cfg.Extension.Rsv()
		e.cfg.AllowedRsv |= e.extRsv
	}
	if cfg.Role == RoleClient {
		e.keys = NewKeySource(cfg.Rand)
	}
	if cfg.HeartbeatInterval > 0 {
		e.nextPing = now.Add(cfg.HeartbeatInterval)
	}
	return e
}

// CloseSent reports whether a close frame has been queued.
func (e *Engine) CloseSent() bool { return e.closeSent }

// CloseReceived reports whether the peer's close frame has been received.
func (e *Engine) CloseReceived() bool { return e.closeReceived }

// Done reports whether the closing handshake is complete in both directions, or a
// protocol error ended the connection: the caller should flush its output and
// close the transport.
func (e *Engine) Done() bool { return e.failed || (e.closeSent && e.closeReceived) }

// Failed reports whether the engine failed the connection for a protocol error or
// a heartbeat timeout.
func (e *Engine) Failed() bool { return e.failed }

// DirectPayload returns how many payload bytes of the current data frame
// are still to come when they can be delivered as they are (a plain frame
// whose header has been parsed), or 0 (for instance in a frame of an encoded
// message). A caller may then read them straight into the message's buffer
// and hand exactly that region to Parse, which unmasks it in place and
// returns it as the event's Data.
func (e *Engine) DirectPayload() int64 {
	if !e.inFrame || e.encoded || e.closeReceived || e.failed {
		return 0
	}
	return e.remaining
}

// Inflating reports whether the engine holds an encoded (compressed) message it
// is delivering decoded: Parse has events to give without more input.
func (e *Engine) Inflating() bool { return e.decoding }

// Release returns the pooled resources of the extension codec, if any; the
// caller calls it when the connection ends. The engine must not be used
// afterwards. Calling it again does nothing.
func (e *Engine) Release() {
	if e.cfg.Extension != nil {
		e.cfg.Extension.Release()
	}
}

// MessageInProgress reports whether part of a data message has been delivered
// and its last chunk has not.
func (e *Engine) MessageInProgress() bool { return e.msgOp != 0 }

// Parse consumes bytes from the start of p and returns at most one event. maxData
// bounds the payload bytes a data event may carry (a negative value means no
// bound): the caller's backpressure. n == 0 with EventNone means nothing more can
// be done with p. Bytes after a received close frame, or after a failure, are
// consumed and ignored. A protocol violation returns a *ProtocolError once and
// queues the close frame it calls for.
func (e *Engine) Parse(p []byte, maxData int) (n int, ev Event, err error) {
	if e.closeReceived || e.failed {
		return len(p), ev, nil
	}
	if e.decoding {
		ev, err = e.decodeEvent(maxData)
		return 0, ev, err
	}
	if !e.inFrame {
		h, hn, err := ParseHeader(p)
		if err != nil {
			return 0, ev, e.fail(err.(*ProtocolError))
		}
		if hn == 0 {
			return 0, ev, nil
		}
		if perr := e.checkHeader(h); perr != nil {
			return 0, ev, e.fail(perr)
		}
		if h.Opcode.IsControl() {
			end := hn + int(h.Length)
			if len(p) < end {
				return 0, ev, nil // control frames are handled whole
			}
			payload := p[hn:end]
			if h.Masked {
				Mask(h.Mask, 0, payload)
			}
			ev, err = e.control(h.Opcode, payload)
			return end, ev, err
		}
		e.startFrame(h)
		n = hn
		if h.Length == 0 && e.encoded {
			return n, ev, e.gather(nil) // may end the encoded message
		}
		if h.Length == 0 {
			ev, err = e.dataEvent(nil)
			return n, ev, err
		}
		p = p[hn:]
	}
	avail := int64(len(p))
	if avail > e.remaining {
		avail = e.remaining
	}
	if e.encoded {
		return n + int(avail), ev, e.gather(p[:avail])
	}
	if maxData >= 0 && avail > int64(maxData) {
		avail = int64(maxData)
	}
	if avail == 0 {
		return n, ev, nil
	}
	chunk := p[:avail]
	if e.hdr.Masked {
		e.maskPos = Mask(e.hdr.Mask, e.maskPos, chunk)
	}
	e.remaining -= avail
	ev, err = e.dataEvent(chunk)
	return n + int(avail), ev, err
}

// checkHeader applies the rules that depend on the connection's state and role.
func (e *Engine) checkHeader(h Header) *ProtocolError {
	switch {
	case h.Opcode.IsReserved():
		return protocolError(CloseProtocolError, "reserved "+h.Opcode.String())
	case h.Masked != (e.cfg.Role == RoleServer):
		if h.Masked {
			return protocolError(CloseProtocolError, "masked frame from a server")
		}
		return protocolError(CloseProtocolError, "unmasked frame from a client")
	case h.Rsv&^e.cfg.AllowedRsv != 0:
		return protocolError(CloseProtocolError, "reserved bits set without a negotiated extension")
	}
	if h.Opcode.IsControl() {
		switch {
		case h.Rsv != 0:
			return protocolError(CloseProtocolError, "reserved bits set on a control frame")
		case !h.Fin:
			return protocolError(CloseProtocolError, "fragmented control frame")
		case h.Length > MaxControlPayload:
			return protocolError(CloseProtocolError, "control frame payload longer than 125 bytes")
		}
		return nil
	}
	if h.Opcode == OpContinuation {
		switch {
		case e.msgOp == 0:
			return protocolError(CloseProtocolError, "continuation frame without a message to continue")
		case h.Rsv != 0:
			return protocolError(CloseProtocolError, "reserved bits set on a continuation frame")
		case e.cfg.MaxFragments > 0 && e.fragments >= e.cfg.MaxFragments:
			return protocolError(CloseMessageTooBig, "message has too many fragments")
		}
	} else if e.msgOp != 0 {
		return protocolError(CloseProtocolError, "new data frame inside a fragmented message")
	}
	size := h.Length
	if h.Opcode == OpContinuation {
		size += e.msgSize
	}
	limit := e.cfg.MaxMessageSize
	if limit > 0 && (h.Rsv&e.extRsv != 0 || (h.Opcode == OpContinuation && e.encoded)) {
		// Encoded bytes are bounded too (incompressible data grows a little).
		limit = e.cfg.Extension.MaxEncodedSize(limit)
	}
	if limit > 0 && size > limit {
		return protocolError(CloseMessageTooBig, "message too big")
	}
	return nil
}

func (e *Engine) startFrame(h Header) {
	e.hdr = h
	e.inFrame = true
	e.remaining = h.Length
	e.maskPos = 0
	if h.Opcode != OpContinuation {
		e.msgOp = h.Opcode
		e.msgRsv = h.Rsv
		e.msgSize = 0
		e.fragments = 0
		e.utf8.Reset()
		e.encoded = h.Rsv&e.extRsv != 0
	}
	e.fragments++
}

// dataEvent accounts for a chunk of the current frame and builds its event.
func (e *Engine) dataEvent(chunk []byte) (Event, error) {
	e.msgSize += int64(len(chunk))
	// Text with reserved bits set is validated by whoever decodes it.
	if e.msgOp == OpText && e.msgRsv == 0 && !e.utf8.Write(chunk) {
		return Event{}, e.fail(protocolError(CloseInvalidPayload, "invalid UTF-8 in text message"))
	}
	ev := Event{Kind: EventData, Opcode: e.msgOp, Rsv: e.msgRsv, Data: chunk}
	if e.remaining == 0 {
		e.inFrame = false
		if e.hdr.Fin {
			if e.msgOp == OpText && e.msgRsv == 0 && !e.utf8.Complete() {
				return Event{}, e.fail(protocolError(CloseInvalidPayload, "text message ends inside a UTF-8 sequence"))
			}
			ev.Fin = true
			e.msgOp = 0
		}
	}
	return ev, nil
}

func (e *Engine) control(op Opcode, payload []byte) (Event, error) {
	switch op {
	case OpPing:
		if !e.closeSent {
			e.queueControl(OpPong, payload)
		}
		return Event{Kind: EventPing, Data: payload}, nil
	case OpPong:
		e.awaitingPong = false
		return Event{Kind: EventPong, Data: payload}, nil
	}
	code, reason, err := ParseClosePayload(payload)
	if err != nil {
		return Event{}, e.fail(err.(*ProtocolError))
	}
	e.closeReceived = true
	if !e.closeSent {
		// Echo the status and reason bytes as received (RFC 6455 section 5.5.1).
		e.queueControl(OpClose, payload)
		e.closeSent = true
	}
	return Event{Kind: EventClose, Code: code, Reason: reason}, nil
}

// fail queues the close frame err calls for (unless one was sent already),
// stops the engine from reading further and releases the extension codec.
func (e *Engine) fail(err *ProtocolError) error {
	if !e.closeSent {
		e.queueClose(err.Code, err.Reason)
	}
	e.failed = true
	e.Release()
	return err
}

// queueClose queues a close frame. The engine's own reasons are short ASCII
// phrases, well within MaxCloseReason.
func (e *Engine) queueClose(code int, reason string) {
	var buf [MaxControlPayload]byte
	e.queueControl(OpClose, AppendClosePayload(buf[:0], code, reason))
	e.closeSent = true
}

// queueControl queues a control frame of the engine's own.
func (e *Engine) queueControl(op Opcode, payload []byte) {
	out, err := e.appendFrame(e.out, op, true, 0, payload)
	if err != nil {
		e.keyErr = err
		e.failed = true
		return
	}
	e.out = out
}

// Err returns the error of the masking key source, if it ever failed: the
// engine then stops, since it cannot frame without fresh keys.
func (e *Engine) Err() error { return e.keyErr }

// Close queues a close frame with code and reason (validated with CheckClose) and
// starts the close timeout at now. It fails with ErrCloseSent if a close frame
// was already queued.
func (e *Engine) Close(code int, reason string, now time.Time) error {
	if e.closeSent {
		return ErrCloseSent
	}
	if err := CheckClose(code, reason); err != nil {
		return err
	}
	e.queueClose(code, reason)
	if e.cfg.CloseTimeout > 0 {
		e.closeDeadline = now.Add(e.cfg.CloseTimeout)
	}
	return nil
}

// Tick runs the timers at time now: it sends a heartbeat ping when one is due,
// and reports ErrHeartbeatTimeout (after queuing a 1011 close) or ErrCloseTimeout
// when a deadline has passed.
func (e *Engine) Tick(now time.Time) error {
	if e.closeSent {
		if !e.closeReceived && !e.failed && !e.closeDeadline.IsZero() && !now.Before(e.closeDeadline) {
			return ErrCloseTimeout
		}
		return nil
	}
	if e.closeReceived || e.failed || e.cfg.HeartbeatInterval <= 0 {
		return nil
	}
	if e.awaitingPong {
		if !now.Before(e.pongDeadline) {
			e.queueClose(CloseInternalError, "heartbeat timeout")
			e.failed = true
			return ErrHeartbeatTimeout
		}
		return nil
	}
	if !now.Before(e.nextPing) {
		e.queueControl(OpPing, nil)
		e.awaitingPong = true
		timeout := e.cfg.HeartbeatTimeout
		if timeout <= 0 {
			timeout = e.cfg.HeartbeatInterval
		}
		e.pongDeadline = now.Add(timeout)
		e.nextPing = now.Add(e.cfg.HeartbeatInterval)
	}
	return nil
}

// NextDeadline returns when Tick next has work to do, or the zero time.
func (e *Engine) NextDeadline() time.Time {
	switch {
	case e.closeSent:
		if e.closeReceived || e.failed {
			return time.Time{}
		}
		return e.closeDeadline
	case e.closeReceived || e.failed || e.cfg.HeartbeatInterval <= 0:
		return time.Time{}
	case e.awaitingPong:
		return e.pongDeadline
	}
	return e.nextPing
}

// Ping queues a ping with payload (at most 125 bytes).
func (e *Engine) Ping(payload []byte) error {
	if e.closeSent {
		return ErrCloseSent
	}
	if len(payload) > MaxControlPayload {
		return protocolError(CloseProtocolError, "ping payload longer than 125 bytes")
	}
	e.queueControl(OpPing, payload)
	return e.keyErr
}

// Pending reports whether the engine has control frames waiting to be taken.
func (e *Engine) Pending() bool { return len(e.out) > 0 }

// AppendPending moves the control frames the engine produced (pongs, close
// frames, heartbeat pings) to dst, in order.
func (e *Engine) AppendPending(dst []byte) []byte {
	dst = append(dst, e.out...)
	e.out = e.out[:0]
	return dst
}

// AppendFrame appends one data frame carrying payload to dst: its header and,
// for a client, the payload masked with a fresh key (payload itself is not
// modified). It fails with ErrCloseSent once a close frame has been queued.
func (e *Engine) AppendFrame(dst []byte, op Opcode, fin bool, rsv byte, payload []byte) ([]byte, error) {
	if e.closeSent {
		return dst, ErrCloseSent
	}
	return e.appendFrame(dst, op, fin, rsv, payload)
}

// AppendMessage appends a whole message as one frame, encoded when an
// extension was negotiated and its codec chooses to (permessage-deflate
// compresses messages from its threshold on).
func (e *Engine) AppendMessage(dst []byte, op Opcode, payload []byte) ([]byte, error) {
	if c := e.cfg.Extension; c != nil && !e.closeSent {
		frame, rsv := c.Encode(e.encBuf[:0], op, payload)
		dst, err := e.AppendFrame(dst, op, true, rsv, frame)
		if rsv != 0 {
			e.encBuf = frame[:0]
			if cap(frame) > decodeStep {
				e.encBuf = nil // keep no burst-sized buffer on an idle connection
			}
		}
		return dst, err
	}
	return e.AppendFrame(dst, op, true, 0, payload)
}

// SharedFrameKey says which connections may share the frame bytes of a whole
// message this engine would send: only servers (a client masks each frame
// with a fresh key), and with an extension only if its codec is a
// SharedEncoder. Engines with the same key produce the same bytes.
func (e *Engine) SharedFrameKey() (string, bool) {
	switch c := e.cfg.Extension; {
	case e.cfg.Role != RoleServer:
		return "", false
	case c == nil:
		return "plain", true
	default:
		if s, ok := c.(SharedEncoder); ok {
			return "ext/" + s.SharedKey(), true
		}
	}
	return "", false
}

// AppendDirectHeader appends the header of a whole message of n bytes whose
// payload the caller writes itself, unchanged, right after it (a vectored
// write, sparing a copy). That is possible only for a server without an
// extension; otherwise, or once a close frame was queued, it appends nothing
// and reports false.
func (e *Engine) AppendDirectHeader(dst []byte, op Opcode, n int) ([]byte, bool) {
	if e.cfg.Role != RoleServer || e.cfg.Extension != nil || e.closeSent {
		return dst, false
	}
	return AppendHeader(dst, Header{Fin: true, Opcode: op, Length: int64(n)}), true
}

func (e *Engine) appendFrame(dst []byte, op Opcode, fin bool, rsv byte, payload []byte) ([]byte, error) {
	h := Header{Fin: fin, Rsv: rsv, Opcode: op, Length: int64(len(payload))}
	if e.cfg.Role == RoleClient {
		key, err := e.keys.Next()
		if err != nil {
			return dst, err
		}
		h.Masked = true
		h.Mask = key
		dst = AppendHeader(dst, h)
		start := len(dst)
		dst = append(dst, payload...)
		Mask(key, 0, dst[start:])
		return dst, nil
	}
	dst = AppendHeader(dst, h)
	return append(dst, payload...), nil
}

// EndsAt reports whether the frame whose header starts p, read at a frame
// boundary, would end the connection: a close frame, or a header Parse would
// fail. It consumes nothing and changes nothing, so that a caller can hand
// the messages received before that frame to the application, which may
// still answer them before the close frame goes out.
func (e *Engine) EndsAt(p []byte) bool {
	if e.inFrame || e.decoding || e.closeReceived || e.failed {
		return false
	}
	h, n, err := ParseHeader(p)
	switch {
	case err != nil:
		return true
	case n == 0:
		return false
	}
	return h.Opcode == OpClose || e.checkHeader(h) != nil
}
