package wspeer

import (
	"net/http"
	"net/url"
	"sync"
	"time"
)

// Peer is one WebSocket connection, client or server side, driven by Poll: Go's
// version of Godot's WebSocketPeer. Set the exported fields before
// ConnectToURL or AcceptStream; they are read when a connection starts.
// Create peers with NewPeer: the zero value has no budgets and cannot connect. Every
// method is safe for concurrent use; the application observes state changes
// only inside Poll, the send methods, Close, ConnectToURL and AcceptStream.
//
// Compiled for the browser (GOOS=js), Peer has the same methods over the
// browser's WebSocket: a client only, with the browser's limits (see each
// field and method, and the package documentation).
type Peer struct {
	// InboundBufferSize bounds one whole inbound message and the unread inbound
	// bytes (queued packets plus the message being received). A bigger
	// message closes the connection with 1009; a full buffer stops reading
	// from the socket until the application drains packets. In the browser,
	// which cannot pause reading, a full buffer closes the connection too
	// (CloseCode 1009; 4009 goes on the wire, the nearest code a browser may
	// send).
	InboundBufferSize int
	// OutboundBufferSize bounds the payload bytes accepted by Send and not
	// yet written (in the browser, its bufferedAmount); a send beyond it
	// fails with ErrBufferFull, a message larger than it with ErrTooLarge.
	OutboundBufferSize int
	// MaxQueuedPackets bounds the messages queued in each direction (the
	// browser does not count outbound messages).
	MaxQueuedPackets int
	// SupportedProtocols are the subprotocols a client offers (in order of
	// preference) or a server accepts (the client's order decides).
	SupportedProtocols []string
	// HandshakeHeaders are extra headers for the client's request or the
	// server's 101 response. Headers the handshake manages are refused. The
	// browser's WebSocket cannot send any: there ConnectToURL returns
	// ErrUnsupported unless it is empty.
	HandshakeHeaders http.Header
	// HeartbeatInterval sends a ping after this long without one outstanding;
	// a pong missing for another interval fails the connection (1011 sent,
	// CloseCode -1, CloseError matching ErrHeartbeatTimeout). 0 disables it.
	// The browser build ignores it: the browser answers pings itself and
	// gives scripts no way to send one.
	HeartbeatInterval time.Duration
	// DialTimeout bounds name resolution and each TCP connect attempt. In
	// the browser, DialTimeout plus HandshakeTimeout bound CONNECTING as a
	// whole, since the browser does not tell the two apart.
	DialTimeout time.Duration
	// HandshakeTimeout bounds the TLS and HTTP opening handshake.
	HandshakeTimeout time.Duration
	// CloseTimeout bounds the closing handshake after a close frame is sent.
	CloseTimeout time.Duration
	// MaxHandshakeSize bounds the opening handshake's HTTP head in bytes: the
	// request a server reads (a bigger one is answered 431 Request Header
	// Fields Too Large) or the response a client reads. 0 means
	// DefaultMaxHandshakeSize (8 KiB). The Upgrader applies it to the size of
	// the request as net/http parsed it (see Upgrader.Upgrade). The browser
	// build ignores it.
	MaxHandshakeSize int
	// KeepRequestHeaders chooses the request headers a server peer keeps
	// for RequestHeader. nil keeps the whole request head (up to
	// MaxHandshakeSize bytes) for the connection's life; a list keeps only
	// the headers it names (case-insensitive) besides the handshake's own
	// (Host, Upgrade, Connection, Sec-WebSocket-Key and -Version), and an
	// empty non-nil list only those: a server holding many connections then
	// does not hold their heads. The browser build ignores it.
	KeepRequestHeaders []string
	// Compression enables permessage-deflate (RFC 7692): a client offers it and
	// a server accepts a client's offer. Off by default, as in Godot. The
	// inbound budget counts inflated bytes. The browser negotiates
	// compression by itself and ignores this field.
	Compression bool
	// CompressionThreshold is the size below which messages are sent
	// uncompressed even when compression was negotiated.
	CompressionThreshold int
	// Proxy chooses the HTTP proxy a client tunnels through with CONNECT, as
	// http.Transport.Proxy does (its request has the target's http or https
	// URL for ws or wss); nil means http.ProxyFromEnvironment, and a func
	// returning nil, nil connects directly. The browser applies its own proxy
	// settings and ignores this field.
	Proxy func(*http.Request) (*url.URL, error)
	// Variant chooses the Godot Variant binary format of PutVar and GetVar:
	// the zero value is Godot 4 (set Variant.Version to godot.Godot3 for
	// Godot 3 peers), single-precision math types, no whole Objects (Godot's
	// full_objects and allow_objects off) and the decoder's default limits.
	Variant VariantOptions
	// EncodeBufferMaxSize bounds the encoding of one PutVar value (Godot's
	// encode_buffer_max_size): 0 means 8 MiB, Godot's default; other values
	// must lie within Godot's bounds, 1 KiB to 256 MiB, and are rounded up to
	// a power of two as Godot's setter does.
	EncodeBufferMaxSize int
	// StreamDialer, when set, opens wss:// connections as streams of an
	// HTTP/2 connection (RFC 8441) with the dialer given, such as
	// h2client.Dialer from github.com/wspeer/wspeer/h2client; a server that
	// does not offer them is reached over HTTP/1.1 on a new connection. It is
	// not used for ws:// URLs, nor when Proxy names a proxy for the URL. The
	// browser ignores it (the browser picks the protocol itself).
	StreamDialer StreamDialer

	mu        sync.Mutex
	clock     func() time.Time // time.Now, or a test's clock
	noDelay   bool             // TCP_NODELAY for the next connections
	connState                  // per build: everything one connection sets
}

// NewPeer returns a CLOSED peer with Godot's defaults: 65535-byte buffers,
// 2048 queued packets, no protocols, no extra headers, no heartbeat, and
// timeouts of DefaultDialTimeout, DefaultHandshakeTimeout and DefaultCloseTimeout.
func NewPeer() *Peer {
	p := &Peer{
		InboundBufferSize:    DefaultBufferSize,
		OutboundBufferSize:   DefaultBufferSize,
		MaxQueuedPackets:     DefaultMaxQueuedPackets,
		DialTimeout:          DefaultDialTimeout,
		HandshakeTimeout:     DefaultHandshakeTimeout,
		CloseTimeout:         DefaultCloseTimeout,
		CompressionThreshold: DefaultCompressionThreshold,
		noDelay:              true,
	}
	p.state = StateClosed
	p.closeCode = -1
	return p
}

func (p *Peer) now() time.Time {
	if p.clock != nil {
		return p.clock()
	}
	return time.Now()
}
