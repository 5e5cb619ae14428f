package proto

import (
	"errors"
	"io"
	"net/http"
	"time"
)

// Conn is one WebSocket connection's whole life without I/O: the opening
// handshake (either role, or none when it happened elsewhere, as with
// net/http's hijacking or HTTP/2), framing (an Engine), the closing handshake
// in both directions and every timer. The driver feeds it the bytes it reads
// (Parse), transport failures (ReadFailed, WriteFailed), the time (Tick) and
// the application's commands (AppendMessage, Close, Ping); it takes the bytes
// to write (AppendPending), learns from Settle when all it wrote was written,
// and closes the transport once Ended. It reads no clock and starts no
// goroutine, and it is not safe for concurrent use.
//
// One turn of a driver: Tick, then read and Parse until nothing more can be
// done, then AppendPending and write, then Settle. Repeat the turn at once
// while Step changes, unless Parse returned EventHold: the application must
// see the messages delivered first. Otherwise wait for input or NextDeadline.
type Conn struct {
	role         Role
	closeTimeout time.Duration
	step         Step
	state        ConnState
	eng          *Engine
	hs           *opening  // the opening handshake; nil once released
	deadline     time.Time // of the handshake or of the step ending the connection

	delivered bool // a whole message was delivered in this turn
	protoErr  *ProtocolError
	readErr   error
	writeErr  error
	recvClose bool
	recvCode  int
	recvRsn   string
	result    Result
}

// opening is what only the opening handshake needs: it is released once the
// connection is open and the driver has taken the outcome (ReleaseHandshake),
// so that an idle open connection keeps none of it.
type opening struct {
	cfg      ConnConfig
	head     HeadReader
	out      []byte // handshake bytes not yet taken
	rejected *HTTPError
	info     HandshakeInfo
}

// ConnConfig holds what a Conn needs for its whole life.
type ConnConfig struct {
	Role Role
	// Limits and timers of the open connection (see Config).
	MaxMessageSize    int64
	MaxFragments      int
	HeartbeatInterval time.Duration
	CloseTimeout      time.Duration
	Rand              io.Reader
	// HandshakeTimeout bounds the opening handshake from the Conn's start.
	HandshakeTimeout time.Duration
	// MaxHeadSize bounds the HTTP head read (0: DefaultMaxHandshakeSize).
	MaxHeadSize int
	// Request is the client's opening handshake request.
	Request *ClientRequest
	// Protocols are the subprotocols a server supports, Header the extra
	// headers of its 101 response.
	Protocols []string
	Header    http.Header
	// Negotiators are the extensions a client offers and a server accepts,
	// in order of preference.
	Negotiators []ExtensionNegotiator
	// Extension is the codec of an extension negotiated elsewhere
	// (NewOpenConn), or nil.
	Extension ExtensionCodec
}

// ConnState is the state the application sees.
type ConnState uint8

// The states of a Conn, as RFC 6455 and the browsers name them.
const (
	StateConnecting ConnState = iota
	StateOpen
	StateClosing
	StateClosed
)

// Step is where a Conn is within its state.
type Step uint8

// The steps of a Conn's life, in order.
const (
	StepHead     Step = iota // waiting for the remote's HTTP head
	StepAnswer               // server: writing the 101 response
	StepReject               // server: writing an HTTP error answer
	StepOpen                 // frames flow; the closing handshake may be under way
	StepFlush                // the close frames are settled: writing our last bytes
	StepAwaitEOF             // client: waiting for the server to close TCP
	StepDone                 // ended: close the transport
)

// EndKind says how a connection ended.
type EndKind uint8

// The ways a connection ends.
const (
	EndNone             EndKind = iota // not ended
	EndClean                           // closing handshake completed
	EndProtocol                        // we failed the connection for a violation of the remote's
	EndLost                            // the transport ended or failed before the closing handshake did
	EndHandshake                       // the opening handshake failed (bad request or response, rejection)
	EndHandshakeTimeout                // the opening handshake took too long
	EndCloseTimeout                    // the remote did not answer our close frame in time
	EndHeartbeat                       // the remote did not answer a heartbeat ping in time
	EndDropped                         // the application dropped the connection
)

// Result says how a connection ended.
type Result struct {
	// Code and Reason are the close frame's status that ended the connection
	// (-1 and "" when no close frame exchange decided it).
	Code   int
	Reason string
	Kind   EndKind
	// Detail says more about Kind ("connection lost", "request rejected"...).
	Detail string
	// Err is the cause: the transport's error, a *ProtocolError, an
	// *HTTPError, ErrCloseTimeout, ErrHeartbeatTimeout...
	Err error
}

// HandshakeInfo is what the opening handshake settled.
type HandshakeInfo struct {
	Protocol string // the selected subprotocol, or ""
	// Server side: the request's Host header, target and whole head.
	Host, Target string
	RequestHead  []byte
	// Client side: the response's headers.
	ResponseHeader http.Header
	// Extension is the negotiated extension's codec, or nil.
	Extension ExtensionCodec
}

// Details of Result.
const (
	DetailLost       = "connection lost"
	DetailWriting    = "writing the handshake"
	DetailRejected   = "request rejected"
	DetailKeys       = "masking keys unavailable"
	DetailConnecting = "closed while connecting"
)

// NewClientConn starts a client connection whose transport has just
// connected: the request is queued for writing, and the handshake must end
// within HandshakeTimeout of now.
func NewClientConn(cfg ConnConfig, now time.Time) *Conn {
	cfg.Role = RoleClient
	c := newConn(cfg, now)
	c.hs.out = cfg.Request.AppendTo(nil)
	return c
}

// NewServerConn starts the server side of a connection just accepted: it
// waits for the request, within HandshakeTimeout of now.
func NewServerConn(cfg ConnConfig, now time.Time) *Conn {
	cfg.Role = RoleServer
	return newConn(cfg, now)
}

// NewOpenConn starts a connection whose opening handshake happened elsewhere
// (net/http's Upgrader, an HTTP/2 stream): it is OPEN at once, with
// cfg.Extension as the negotiated extension.
func NewOpenConn(cfg ConnConfig, protocol string, now time.Time) *Conn {
	c := newConn(cfg, now)
	c.hs.info.Protocol = protocol
	c.hs.info.Extension = cfg.Extension
	c.open(now)
	return c
}

func newConn(cfg ConnConfig, now time.Time) *Conn {
	c := &Conn{role: cfg.Role, closeTimeout: cfg.CloseTimeout, result: Result{Code: -1}, hs: &opening{cfg: cfg}}
	c.hs.head.Max = cfg.MaxHeadSize
	c.deadline = now.Add(cfg.HandshakeTimeout)
	return c
}

// State returns the state the application sees.
func (c *Conn) State() ConnState { return c.state }

// Step returns where the connection is within its state.
func (c *Conn) Step() Step { return c.step }

// Ended reports whether the connection is over: the driver closes the
// transport (after one last write attempt of what is pending).
func (c *Conn) Ended() bool { return c.step == StepDone }

// Result returns how the connection ended (Kind EndNone before it has).
func (c *Conn) Result() Result { return c.result }

// Handshake returns what the opening handshake settled, or nil once
// released.
func (c *Conn) Handshake() *HandshakeInfo {
	if c.hs == nil {
		return nil
	}
	return &c.hs.info
}

// ReleaseHandshake frees what only the opening handshake needed, once the
// connection is open (or over) and the driver has kept what it wants of
// Handshake.
func (c *Conn) ReleaseHandshake() {
	if c.state != StateConnecting {
		c.hs = nil
	}
}

// Role returns the connection's role.
func (c *Conn) Role() Role { return c.role }

// CanSend reports whether data messages may be sent: OPEN, and no close
// frame queued.
func (c *Conn) CanSend() bool { return c.state == StateOpen && !c.eng.CloseSent() }

// CloseReceived reports whether the remote's close frame has arrived.
func (c *Conn) CloseReceived() bool { return c.recvClose }

// open starts framing.
func (c *Conn) open(now time.Time) {
	cfg := &c.hs.cfg
	c.eng = NewEngine(Config{
		Role:              cfg.Role,
		MaxMessageSize:    cfg.MaxMessageSize,
		MaxFragments:      cfg.MaxFragments,
		HeartbeatInterval: cfg.HeartbeatInterval,
		CloseTimeout:      cfg.CloseTimeout,
		Extension:         c.hs.info.Extension,
		Rand:              cfg.Rand,
	}, now)
	c.hs.head = HeadReader{}
	c.hs.out = nil
	c.deadline = time.Time{}
	c.step, c.state = StepOpen, StateOpen
}

// end makes the connection over with r.
func (c *Conn) end(r Result) {
	c.result = r
	c.stop()
	if c.hs != nil {
		c.hs.out = nil
		c.hs.head = HeadReader{}
	}
}

// stop makes the connection over, keeping what is pending (a timer's last
// close frame), and releases the extension's pooled resources.
func (c *Conn) stop() {
	c.step, c.state = StepDone, StateClosed
	if c.eng != nil {
		c.eng.Release()
	} else if c.hs != nil && c.hs.info.Extension != nil {
		c.hs.info.Extension.Release()
	}
}

// Drop ends the connection at once without a close frame, as the
// application's choice; the close status stays what it was.
func (c *Conn) Drop(detail string) {
	if c.step == StepDone {
		return
	}
	c.end(Result{Code: c.result.Code, Reason: c.result.Reason, Kind: EndDropped, Detail: detail})
}

// Close starts the closing handshake with code and reason (checked with
// CheckClose). While CONNECTING it drops the connection (CloseCode -1);
// once a close frame is queued, or while ending, it does nothing.
func (c *Conn) Close(code int, reason string, now time.Time) error {
	switch c.state {
	case StateConnecting:
		c.Drop(DetailConnecting)
		return nil
	case StateOpen:
		if c.eng.CloseSent() {
			return nil
		}
		if err := c.eng.Close(code, reason, now); err != nil {
			return err
		}
		c.state = StateClosing
	}
	return nil
}

// Ping queues a ping with payload (at most 125 bytes) on an open connection.
func (c *Conn) Ping(payload []byte) error {
	if c.eng == nil || c.step != StepOpen {
		return ErrCloseSent
	}
	return c.eng.Ping(payload)
}

// AppendMessage appends a data message as one frame (compressed when
// negotiated) to dst. It fails with ErrCloseSent unless CanSend.
func (c *Conn) AppendMessage(dst []byte, op Opcode, payload []byte) ([]byte, error) {
	if c.eng == nil {
		return dst, ErrCloseSent
	}
	return c.eng.AppendMessage(dst, op, payload)
}

// SharedFrameKey says which connections may share a message's frame bytes
// (see Engine.SharedFrameKey).
func (c *Conn) SharedFrameKey() (string, bool) {
	if c.eng == nil {
		return "", false
	}
	return c.eng.SharedFrameKey()
}

// AppendDirectHeader appends the header of a message whose payload the
// driver writes itself right after it (see Engine.AppendDirectHeader).
func (c *Conn) AppendDirectHeader(dst []byte, op Opcode, n int) ([]byte, bool) {
	if c.eng == nil || c.step != StepOpen {
		return dst, false
	}
	return c.eng.AppendDirectHeader(dst, op, n)
}

// Pending reports whether the Conn has bytes for the driver to write.
func (c *Conn) Pending() bool {
	return (c.hs != nil && len(c.hs.out) > 0) || (c.eng != nil && c.eng.Pending())
}

// AppendPending moves the bytes the Conn produced (handshake request or
// answer, control frames) to dst, in order.
func (c *Conn) AppendPending(dst []byte) []byte {
	if c.hs != nil && len(c.hs.out) > 0 {
		dst = append(dst, c.hs.out...)
		c.hs.out = c.hs.out[:0]
	}
	if c.eng != nil && c.eng.Pending() {
		dst = c.eng.AppendPending(dst)
	}
	return dst
}

// ReadFailed records that reading ended with err (io.EOF included).
func (c *Conn) ReadFailed(err error) {
	if c.readErr == nil {
		c.readErr = err
	}
}

// WriteFailed records that writing failed with err.
func (c *Conn) WriteFailed(err error) {
	if c.writeErr == nil {
		c.writeErr = err
	}
}

// TransportFailed reports whether a read or write failure is recorded: the
// next Settle acts on it.
func (c *Conn) TransportFailed() bool { return c.readErr != nil || c.writeErr != nil }

// Reading reports whether the driver should read: the head or frames are
// expected, or (a client at its end) the server's TCP close.
func (c *Conn) Reading() bool {
	switch c.step {
	case StepHead, StepOpen, StepAwaitEOF:
		return c.readErr == nil
	}
	return false
}

// DirectPayload, Inflating and EndsAt expose the engine's (see Engine); they
// are zero while no frames flow.
func (c *Conn) DirectPayload() int64 {
	if c.step != StepOpen {
		return 0
	}
	return c.eng.DirectPayload()
}

// Inflating reports whether Parse has inflated data to deliver without input.
func (c *Conn) Inflating() bool { return c.step == StepOpen && c.eng.Inflating() }

// MessageInProgress reports whether part of a data message was delivered and
// its end was not.
func (c *Conn) MessageInProgress() bool { return c.eng != nil && c.eng.MessageInProgress() }

// lostError is the transport failure a lost connection reports.
func (c *Conn) lostError() error {
	if errors.Is(c.readErr, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	if c.readErr != nil {
		return c.readErr
	}
	return c.writeErr
}
