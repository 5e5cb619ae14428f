package wspeer

// The browser build (GOOS=js GOARCH=wasm): the same Peer API over the
// browser's WebSocket object, reached through syscall/js. The browser does the
// TCP connection, TLS, the opening handshake, framing, pings and the closing
// handshake; this file keeps Godot's model on top of it: the JavaScript event
// handlers only queue what happened, and the application sees it in Poll.

import (
	"crypto/tls"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"syscall/js"
	"time"

	"github.com/wspeer/wspeer/internal/proto"
)

// browserLimitCode is the close code sent when an inbound budget is exceeded:
// browsers let scripts send only 1000 and 3000-4999, so 1009 cannot go on the
// wire; 4009 (private use) stands for it. Locally the peer reports 1009, as the
// native build does.
const browserLimitCode = 4009

// Peer is one WebSocket connection, driven by Poll: Go's version of Godot's
// WebSocketPeer. Set the exported fields before ConnectToURL; they are read
// when a connection starts. Create peers with NewPeer. Every method is safe for
// concurrent use; the application observes state changes only inside Poll, the
// send methods, Close and ConnectToURL.
//
// This is the browser build (GOOS=js): a client over the browser's WebSocket.
// The browser owns the connection, TLS and the protocol, so AcceptStream,
// HandshakeHeaders, HeartbeatInterval, Proxy, SetNoDelay, ConnectedHost and
// ConnectedPort have no browser equivalent (see each one). Browsers cannot
// pause reading, so an inbound budget that is exceeded closes the connection
// instead of applying backpressure.
type Peer struct {
	// InboundBufferSize bounds one whole inbound message and the unread inbound
	// bytes. In the browser a message that arrives beyond it closes the
	// connection (CloseCode 1009; 4009 goes on the wire, the nearest code a
	// browser may send), since the browser offers no way to pause reading.
	InboundBufferSize int
	// OutboundBufferSize bounds the browser's bufferedAmount (payload bytes
	// sent and not yet transmitted) plus a new message: a send beyond it fails
	// with ErrBufferFull.
	OutboundBufferSize int
	// MaxQueuedPackets bounds the inbound messages queued (a message beyond it
	// closes the connection, as for InboundBufferSize). The browser does not
	// count outbound messages, so it does not limit sends here.
	MaxQueuedPackets int
	// SupportedProtocols are the subprotocols offered, in order of preference.
	SupportedProtocols []string
	// HandshakeHeaders must be empty in the browser: its WebSocket cannot send
	// extra headers, and ConnectToURL returns ErrUnsupported rather than drop
	// them silently (Godot ignores them with a warning).
	HandshakeHeaders http.Header
	// HeartbeatInterval is ignored by the browser build: the browser answers
	// pings itself and gives scripts no way to send one. A negative value is
	// still ErrInvalidParameter.
	HeartbeatInterval time.Duration
	// DialTimeout plus HandshakeTimeout bound CONNECTING as a whole, because
	// the browser does not tell the connect and the handshake apart.
	DialTimeout time.Duration
	// HandshakeTimeout: see DialTimeout.
	HandshakeTimeout time.Duration
	// CloseTimeout bounds the closing handshake after Close.
	CloseTimeout time.Duration
	// Proxy is ignored by the browser build: the browser applies its own proxy
	// settings.
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
	// Compression is ignored by the browser build: the browser negotiates
	// permessage-deflate by itself, and compresses and inflates for the page.
	Compression bool
	// CompressionThreshold is ignored by the browser build (see Compression).
	CompressionThreshold int

	mu           sync.Mutex
	state        State
	cfg          webSettings
	sock         *webSocket // the current browser socket, nil when none
	events       []webEvent // queued by the socket's handlers, applied by Poll
	deadline     time.Time  // of CONNECTING or CLOSING, zero otherwise
	packets      []webPacket
	phead        int
	inBytes      int // unread bytes: queued packets and events not yet polled
	inCount      int // messages in events not yet polled
	lastString   bool
	closeCode    int
	closeReason  string
	closeErr     error
	protocol     string
	requestedURL string
	wakeCh       chan struct{} // closed (and replaced) to wake Wait
}

// webSettings are the exported fields a connection uses, copied when it starts.
type webSettings struct {
	inMax, outMax, maxPackets int
	closeTimeout              time.Duration
}

type webPacket struct {
	data []byte
	text bool
}

// webEvent is something the browser reported, waiting for Poll.
type webEvent struct {
	kind   webEventKind
	data   []byte // message
	text   bool   // message
	code   int    // close or failure
	reason string // close or failure
	clean  bool   // close: the browser's wasClean
	err    error  // failure
}

type webEventKind uint8

const (
	evOpen webEventKind = iota
	evMessage
	evClose
	evFail // a local failure: constructor exception, inbound budget exceeded
)

// webSocket is one browser WebSocket object and the Go functions its event
// handlers call. Handlers of a socket that is no longer the peer's current one
// do nothing.
type webSocket struct {
	ws       js.Value
	funcs    []js.Func
	detached bool
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
		state:                StateClosed,
		closeCode:            -1,
	}
}

// ConnectToURL starts connecting to a ws:// or wss:// URL and returns at once;
// the browser connects, and Poll reports the outcome. A URL without a scheme
// means ws://; the fragment is not sent; IPv6 literals keep their brackets.
// The browser does TLS with its own trust store, so tlsConfig is ignored,
// except that a server-side config is ErrInvalidParameter as in the native
// build. A URL with userinfo or non-empty HandshakeHeaders is ErrUnsupported
// (the browser cannot send them). It fails with ErrInUse while CONNECTING or
// OPEN.
//
// If the browser refuses to create the socket (its constructor throws: a
// blocked port, mixed content...), ConnectToURL still returns nil and the next
// Poll makes the peer CLOSED with CloseCode -1 and a CloseError matching
// ErrDial and holding the browser's exception, never leaving it CONNECTING.
// A connection that fails later also ends CLOSED with -1; the browser does not
// say why, so that CloseError matches both ErrDial and ErrHandshake.
func (p *Peer) ConnectToURL(rawURL string, tlsConfig *tls.Config) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	s, err := p.settingsLocked()
	if err != nil {
		return err
	}
	if p.state == StateConnecting || p.state == StateOpen {
		return ErrInUse
	}
	target, err := browserURL(rawURL)
	if err != nil {
		return err
	}
	if isServerConfig(tlsConfig) {
		return fmt.Errorf("%w: a server TLS configuration cannot connect", ErrInvalidParameter)
	}
	ctor := js.Global().Get("WebSocket")
	if ctor.Type() != js.TypeFunction {
		return fmt.Errorf("%w: this JavaScript environment has no WebSocket", ErrUnsupported)
	}
	protocols := make([]any, len(p.SupportedProtocols))
	for i, pr := range p.SupportedProtocols {
		protocols[i] = pr
	}

	p.dropLocked()
	p.state = StateConnecting
	p.cfg = s
	p.events, p.packets, p.phead, p.inBytes, p.inCount = nil, nil, 0, 0, 0
	p.lastString = false
	p.closeCode, p.closeReason, p.closeErr = -1, "", nil
	p.protocol = ""
	p.requestedURL = rawURL
	p.deadline = time.Now().Add(p.DialTimeout + p.HandshakeTimeout)

	var ws js.Value
	if err := jsTry(func() { ws = ctor.New(target, js.ValueOf(protocols)) }); err != nil {
		p.pushLocked(webEvent{kind: evFail, code: -1,
			err: newCloseError(ErrDial, "the browser refused to open the WebSocket", err)})
		return nil
	}
	ws.Set("binaryType", "arraybuffer")
	p.sock = p.listen(ws)
	return nil
}

// settingsLocked validates the exported fields as the native build does, plus
// what the browser cannot do.
func (p *Peer) settingsLocked() (webSettings, error) {
	s := webSettings{inMax: p.InboundBufferSize, outMax: p.OutboundBufferSize,
		maxPackets: p.MaxQueuedPackets, closeTimeout: p.CloseTimeout}
	switch {
	case s.inMax <= 0:
		return s, fmt.Errorf("%w: InboundBufferSize %d must be positive", ErrInvalidParameter, s.inMax)
	case s.outMax <= 0:
		return s, fmt.Errorf("%w: OutboundBufferSize %d must be positive", ErrInvalidParameter, s.outMax)
	case s.maxPackets <= 0:
		return s, fmt.Errorf("%w: MaxQueuedPackets %d must be positive", ErrInvalidParameter, s.maxPackets)
	case p.HeartbeatInterval < 0:
		return s, fmt.Errorf("%w: negative HeartbeatInterval", ErrInvalidParameter)
	case p.DialTimeout <= 0 || p.HandshakeTimeout <= 0 || p.CloseTimeout <= 0:
		return s, fmt.Errorf("%w: timeouts must be positive", ErrInvalidParameter)
	case len(p.HandshakeHeaders) > 0:
		return s, fmt.Errorf("%w: the browser's WebSocket cannot send HandshakeHeaders", ErrUnsupported)
	}
	seen := make(map[string]bool, len(p.SupportedProtocols))
	for _, pr := range p.SupportedProtocols {
		if !webToken(pr) {
			return s, fmt.Errorf("%w: subprotocol %q is not an HTTP token", ErrInvalidParameter, pr)
		}
		// The browser's constructor throws on duplicates; say so here instead.
		if seen[pr] {
			return s, fmt.Errorf("%w: subprotocol %q offered twice", ErrInvalidParameter, pr)
		}
		seen[pr] = true
	}
	return s, nil
}

// browserURL checks a client URL with the native build's rules and returns the
// string for the browser: the fragment removed, IPv6 brackets kept.
func browserURL(raw string) (string, error) {
	bad := func(why string) (string, error) {
		return "", fmt.Errorf("%w: URL %q: %s", ErrInvalidParameter, raw, why)
	}
	if raw == "" {
		return bad("empty")
	}
	s := raw
	if !strings.Contains(s, "://") {
		s = "ws://" + s
	}
	u, err := url.Parse(s)
	if err != nil {
		return bad(err.Error())
	}
	u.Scheme = strings.ToLower(u.Scheme)
	switch {
	case u.Scheme != "ws" && u.Scheme != "wss":
		return bad("scheme must be ws or wss")
	case u.Opaque != "":
		return bad("no authority")
	case u.Hostname() == "":
		return bad("empty host")
	case strings.HasSuffix(u.Host, ":"):
		return bad("empty port")
	case strings.ContainsAny(u.Hostname(), " \t\r\n/\\"):
		return bad("invalid host")
	case u.User != nil:
		return "", fmt.Errorf("%w: URL %q: the browser's WebSocket cannot send credentials", ErrUnsupported, raw)
	}
	if ps := u.Port(); ps != "" {
		if n, err := strconv.Atoi(ps); err != nil || n < 1 || n > 65535 {
			return bad("port out of range")
		}
	}
	u.Fragment, u.RawFragment = "", ""
	return u.String(), nil
}

// webToken reports whether s is an RFC 7230 token, as a subprotocol must be.
func webToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c <= ' ' || c >= 0x7F || strings.IndexByte(`"(),/:;<=>?@[\]{}`, c) >= 0 {
			return false
		}
	}
	return true
}

// jsTry runs f and returns the JavaScript exception it threw, if any.
func jsTry(f func()) (err error) {
	defer func() {
		if r := recover(); r != nil {
			jerr, ok := r.(js.Error)
			if !ok {
				panic(r)
			}
			err = jerr
		}
	}()
	f()
	return nil
}

// listen installs the event handlers on ws. They run on goroutines the
// JavaScript event loop starts, so each takes the lock briefly and only queues
// the event (plus, for messages, a copy of the data and the budget check).
func (p *Peer) listen(ws js.Value) *webSocket {
	s := &webSocket{ws: ws}
	on := func(name string, h func(ev js.Value)) {
		f := js.FuncOf(func(_ js.Value, args []js.Value) any {
			p.mu.Lock()
			defer p.mu.Unlock()
			if p.sock == s && !s.detached {
				h(args[0])
			}
			return nil
		})
		s.funcs = append(s.funcs, f)
		ws.Set(name, f)
	}
	on("onopen", func(js.Value) {
		p.pushLocked(webEvent{kind: evOpen, reason: ws.Get("protocol").String()})
	})
	on("onmessage", func(ev js.Value) { p.messageLocked(s, ev.Get("data")) })
	on("onclose", func(ev js.Value) {
		s.detach()
		p.pushLocked(webEvent{kind: evClose, code: ev.Get("code").Int(),
			reason: ev.Get("reason").String(), clean: ev.Get("wasClean").Bool()})
	})
	// onerror needs no handler: the browser always follows it with close.
	return s
}

// messageLocked copies an inbound message, enforcing the inbound budgets as
// the message arrives: the browser has already read it, so the only way to
// bound memory is to refuse it and end the connection.
func (p *Peer) messageLocked(s *webSocket, data js.Value) {
	text := data.Type() == js.TypeString
	var b []byte
	if text {
		// A JavaScript string has no cheap UTF-8 length: convert, then check.
		b = []byte(data.String())
	} else if n := data.Get("byteLength").Int(); n <= p.cfg.inMax {
		b = make([]byte, n)
		js.CopyBytesToGo(b, js.Global().Get("Uint8Array").New(data))
	} else {
		p.failLocked(s, "message too big", fmt.Sprintf("a message of %d bytes exceeds InboundBufferSize %d", n, p.cfg.inMax), true)
		return
	}
	n := len(b)
	switch {
	case n > p.cfg.inMax:
		p.failLocked(s, "message too big", fmt.Sprintf("a message of %d bytes exceeds InboundBufferSize %d", n, p.cfg.inMax), true)
		return
	case p.inBytes+n > p.cfg.inMax || len(p.packets)-p.phead+p.inCount >= p.cfg.maxPackets:
		p.failLocked(s, "inbound buffer full", fmt.Sprintf("%d unread messages (%d bytes) and no room for %d bytes more: the browser cannot pause reading", len(p.packets)-p.phead+p.inCount, p.inBytes, n), false)
		return
	}
	p.inBytes += n
	p.inCount++
	p.pushLocked(webEvent{kind: evMessage, data: b, text: text})
}

// failLocked ends the connection for an exceeded inbound budget: the browser
// sends browserLimitCode, and Poll reports 1009 as the native build would.
func (p *Peer) failLocked(s *webSocket, reason, detail string, protocol bool) {
	s.detach()
	_ = jsTry(func() { s.ws.Call("close", browserLimitCode, reason) })
	var kind, cause error = ErrMessageTooBig, nil
	if protocol {
		kind, cause = ErrProtocol, ErrMessageTooBig
	}
	p.pushLocked(webEvent{kind: evFail, code: proto.CloseMessageTooBig, reason: reason,
		err: newCloseError(kind, detail, cause)})
}

// detach removes the socket's handlers and releases their Go functions; events
// the browser has already queued then find no handler.
func (s *webSocket) detach() {
	if s.detached {
		return
	}
	s.detached = true
	for _, name := range []string{"onopen", "onmessage", "onclose"} {
		s.ws.Set(name, js.Null())
	}
	for _, f := range s.funcs {
		f.Release()
	}
	s.funcs = nil
}

// dropLocked abandons the current socket, if any: its handlers are removed and,
// if it is still CONNECTING or OPEN, it is closed without a status code (the
// remote sees 1005). Godot sends 3001 "destroyed" here, a code nobody
// registered; a browser cannot drop TCP without a close frame.
func (p *Peer) dropLocked() {
	s := p.sock
	if s == nil {
		return
	}
	p.sock = nil
	s.detach()
	if rs := s.ws.Get("readyState").Int(); rs == 0 || rs == 1 {
		_ = jsTry(func() { s.ws.Call("close") })
	}
}

// pushLocked queues an event for Poll and wakes Wait.
func (p *Peer) pushLocked(ev webEvent) {
	p.events = append(p.events, ev)
	p.wakeLocked()
}

// wakeLocked ends every Wait in progress.
func (p *Peer) wakeLocked() {
	if p.wakeCh != nil {
		close(p.wakeCh)
		p.wakeCh = nil
	}
}

// ReadyState returns the current state.
func (p *Peer) ReadyState() State {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.state
}

// CloseCode returns the status code of the close frame that ended the
// connection: the peer's after a closing handshake (1005 when its close frame
// had no status), 1009 after an inbound budget was exceeded, and -1 when the
// connection ended without a clean close (where the browser reports 1006).
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
// closing handshake, or nil. Match it with errors.Is. The browser gives no
// detail about failed connections; see ConnectToURL.
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

// RequestedURL returns the URL as given to ConnectToURL (Godot's Web build
// returns a rebuilt one).
func (p *Peer) RequestedURL() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.requestedURL
}
