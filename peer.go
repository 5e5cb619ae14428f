//go:build !js

package wspeer

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
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
// its zero value.
type connState struct {
	state State
	role  proto.Role
	cfg   settings
	conn  net.Conn
	tr    transport
	eng   *proto.Engine

	// opening handshake
	phase      phase
	dial       *dialing
	hs         proto.HeadReader
	request    *proto.ClientRequest
	deadline   time.Time // handshake, rejection flush, final flush or client TCP close wait
	rejectErr  error
	cancelDial context.CancelFunc

	// inbound
	rbuf       []byte  // rbuf[roff:rend] is read but not parsed
	rbufp      *[]byte // rbuf's pool entry
	roff, rend int
	readErr    error
	blocked    bool // parsing stopped for lack of room (backpressure)
	packets    []packet
	phead      int
	inBytes    int     // payload bytes of unread packets
	inbuf      []byte  // unread packets' payloads, then the message being assembled
	inbufp     *[]byte // inbuf's pool entry
	curStart   int     // offset in inbuf of the message being assembled
	curText    bool
	receiving  bool // inbuf ends with an incomplete message
	draining   bool // a packet was read since the last Poll: batch the replies
	lastString bool

	// outbound
	wbuf     []byte // wbuf[woff:] is not written yet
	woff     int
	outMsgs  []outMsg
	outBytes int
	writeErr error

	// results
	protoErr     error
	recvClose    bool
	recvCode     int
	recvReason   string
	closeCode    int
	closeReason  string
	closeErr     error
	protocol     string
	requestedURL string
	reqHeader    http.Header // from net/http (Upgrader)
	reqHead      []byte      // the request head (AcceptStream), parsed on demand
	respHeader   http.Header
	remote       *net.TCPAddr
	ext          proto.ExtensionCodec // negotiated extension (permessage-deflate), or nil
}

// phase is a step of the opening handshake while CONNECTING, or of the end of
// the connection while CLOSING.
type phase uint8

const (
	phaseNone      phase = iota
	phaseDial            // client: resolving, connecting, TLS
	phaseHandshake       // HTTP request/response in flight
	phaseReject          // server: flushing an HTTP error answer
	phaseAccept          // server: flushing the 101 response
	phaseFlush           // closing: flushing our last frames before closing TCP
	phaseAwaitEOF        // client: waiting for the server to close TCP (RFC 6455 7.1.1)
)

type packet struct {
	off, n int // payload at inbuf[off:off+n]
	text   bool
}

type outMsg struct {
	end  int // offset in wbuf just past the message's last byte
	size int
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
		connState:            connState{state: StateClosed, closeCode: -1},
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
func (p *Peer) resetLocked(s settings, role proto.Role) {
	p.connState = connState{
		cfg:       s,
		role:      role,
		state:     StateConnecting,
		closeCode: -1,
	}
	p.hs.Max = proto.DefaultMaxHandshakeSize
}

// ReadyState returns the current state.
func (p *Peer) ReadyState() State {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.state
}

// CloseCode returns the status code of the close frame that ended the
// connection: the peer's after a closing handshake (1005 when its close frame
// had no status), ours after a protocol error we detected (1002, 1007, 1009),
// and -1 when the connection ended without a close frame exchange.
func (p *Peer) CloseCode() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.closeCode
}

// CloseReason returns the reason that goes with CloseCode.
func (p *Peer) CloseReason() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.closeReason
}

// CloseError returns why the connection ended when it did not end with a clean
// closing handshake (dial, TLS or handshake failure, timeout, protocol error,
// heartbeat, connection lost), or nil. Match it with errors.Is.
func (p *Peer) CloseError() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.closeErr
}

// SelectedProtocol returns the negotiated subprotocol, or "". It survives the
// close and is reset by the next connection.
func (p *Peer) SelectedProtocol() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.protocol
}

// RequestedURL returns, on a client, the URL as given to ConnectToURL; on a
// server, the scheme (ws:// or wss://), the Host header and the request target.
func (p *Peer) RequestedURL() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.requestedURL
}

// RequestHeader returns a server peer's opening handshake request headers
// (nil before the request is read, or on a client).
func (p *Peer) RequestHeader() http.Header {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.reqHeader == nil && p.reqHead != nil {
		if req, err := proto.ParseRequest(p.reqHead); err == nil {
			return req.Header
		}
	}
	return p.reqHeader.Clone()
}

// ResponseHeader returns a client peer's opening handshake response headers
// (nil before the response is read, or on a server).
func (p *Peer) ResponseHeader() http.Header {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.respHeader.Clone()
}

// ConnectedHost returns the remote IP address of the TCP connection, or "" when
// there is none (before connecting, after CLOSED, or on a non-TCP stream).
func (p *Peer) ConnectedHost() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.remote == nil || p.state == StateClosed {
		return ""
	}
	return p.remote.IP.String()
}

// ConnectedPort returns the remote TCP port, or 0 as ConnectedHost returns "".
func (p *Peer) ConnectedPort() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.remote == nil || p.state == StateClosed {
		return 0
	}
	return p.remote.Port
}

// SetNoDelay sets TCP_NODELAY on the connection (on by default) and remembers
// the choice for later connections. It returns ErrUnsupported when the current
// connection is not TCP.
func (p *Peer) SetNoDelay(enabled bool) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.noDelay = enabled
	if p.conn == nil {
		return nil
	}
	return applyNoDelay(p.conn, enabled)
}

func applyNoDelay(c net.Conn, enabled bool) error {
	if tc, ok := c.(*tls.Conn); ok {
		c = tc.NetConn()
	}
	tcp, ok := c.(*net.TCPConn)
	if !ok {
		return fmt.Errorf("%w: no-delay needs a TCP connection", ErrUnsupported)
	}
	return tcp.SetNoDelay(enabled)
}

// tcpAddr returns the TCP address of c's remote end, looking through TLS.
func tcpAddr(c net.Conn) *net.TCPAddr {
	if tc, ok := c.(*tls.Conn); ok {
		c = tc.NetConn()
	}
	a, _ := c.RemoteAddr().(*net.TCPAddr)
	return a
}
