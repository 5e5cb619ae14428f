//go:build !js

package wspeer

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/wspeer/wspeer/internal/proto"
)

// Upgrader turns net/http requests into server peers: any http.Handler can
// take over its request with Upgrade. The zero value accepts same-origin and
// Origin-less requests, with no subprotocol and NewPeer's settings. An
// Upgrader may be used by many handlers at once; do not change it meanwhile.
type Upgrader struct {
	// Protocols are the subprotocols the server supports. The first one the
	// client offers (in the client's order) that is listed here is selected;
	// with no match the connection is accepted without a subprotocol, as
	// RFC 6455 allows. nil means the new peer's SupportedProtocols.
	Protocols []string
	// Header holds extra headers for the 101 response (Set-Cookie, for
	// example), sent with the new peer's HandshakeHeaders. Headers the
	// handshake manages (Upgrade, Connection, Sec-WebSocket-*...) are refused.
	Header http.Header
	// OriginPatterns allows more Origin hosts besides the request's own
	// host (its Host header, or the authority of an absolute-form target,
	// which replaces it: the same host RequestedURL and AllowedHosts see):
	// path.Match patterns matched against the Origin's host[:port],
	// case-insensitively, such as "example.com", "*.example.com" or
	// "localhost:*".
	OriginPatterns []string
	// InsecureSkipOriginCheck accepts every Origin. Browsers send a site's
	// cookies with WebSocket requests made by any other site, so without the
	// check any web page could talk to the server with its visitor's
	// credentials (cross-site WebSocket hijacking). Set it only when requests
	// are authenticated by other means, or check Origin in Accept.
	InsecureSkipOriginCheck bool
	// AllowedHosts, when not empty, lists the hosts the server answers to:
	// path.Match patterns matched case-insensitively against the request's
	// host name (without port; an IPv6 literal without brackets) and against
	// its host:port, such as "localhost", "127.0.0.1", "::1" or
	// "*.example.com". Other hosts get 403 Forbidden and an error matching
	// ErrForbiddenHost. A server on a loopback address should list its
	// loopback names: the Origin check compares Origin with the client's Host,
	// so a page whose name was rebound to 127.0.0.1 (DNS rebinding) passes it.
	AllowedHosts []string
	// Accept, when set, decides about a request that passed the protocol and
	// Origin checks, before anything is written: it can read the headers
	// (cookies, Authorization), the URL and the remote address. nil accepts;
	// an error from Reject answers its status and message; any other error
	// answers 403 Forbidden. Headers set on the ResponseWriter before Upgrade
	// (WWW-Authenticate, say) go with any refusal.
	Accept func(r *http.Request) error
	// NewPeer returns the peer to accept into, a new one on each call: its
	// budgets, timeouts, heartbeat, SupportedProtocols, HandshakeHeaders,
	// MaxHandshakeSize and KeepRequestHeaders apply. It is called before the
	// request is checked (the head limit is the peer's), so also for requests
	// that are then refused. nil means NewPeer.
	NewPeer func() *Peer
}

// Upgrade upgrades a request with a zero Upgrader: same-origin or
// Origin-less requests only, no subprotocol, NewPeer's settings.
func Upgrade(w http.ResponseWriter, r *http.Request) (*Peer, error) {
	var u Upgrader
	return u.Upgrade(w, r)
}

// Upgrade takes over the connection of a WebSocket request from any
// http.Handler and returns an OPEN server peer, which the caller then drives
// with Poll or Wait like any other. The request is checked first (method GET,
// Upgrade and Connection tokens, Sec-WebSocket-Version 13, the key, Origin,
// then the Accept hook); a request that fails gets an HTTP answer through w
// (400, 403, 405, 426 with Sec-WebSocket-Version: 13, the hook's status...)
// and an error matching ErrHandshake, with a *RejectError giving the status
// (ErrBadRequest and ErrForbiddenOrigin tell the checks apart). Otherwise the
// connection is hijacked and the 101 response written, bounded by the peer's
// HandshakeTimeout. Bytes the client sent after its request are kept as the
// first frames. The caller must not use w after a nil error.
//
// The peer's RequestHeader has the request's headers, and RequestedURL is
// ws:// (wss:// over TLS) with the request's host and the target's path and
// query. The peer keeps the request only as the head rebuilt from what
// net/http parsed (parsed again on demand), never the *http.Request.
//
// The new peer's MaxHandshakeSize bounds that rebuilt head: the request line,
// "Host: " and the host, and each header as "Name: value" with its CRLF,
// plus the final CRLF. It is what the client sent minus the whitespace
// net/http trims around values and joins folded lines with, so the bytes on
// the wire may exceed it by that whitespace. A bigger head is answered 431.
// net/http reads the head before the handler runs, bounded by the
// http.Server's MaxHeaderBytes (1 MiB by default): set it near the same
// limit, so that such heads are refused before they are read whole.
//
// The peer outlives the handler. Drive it in the handler itself (net/http
// gives each request its own goroutine) or on a context of the server's
// lifetime, not on r.Context() in another goroutine: that context ends when
// the handler returns, Wait then returns at once, and the peer is left OPEN
// with nothing driving it.
//
// An HTTP/2 request (RFC 8441: CONNECT with :protocol websocket) is answered
// 200 and the peer runs on its stream, with the same checks; a request
// without :protocol websocket or Sec-WebSocket-Version 13 gets 400. net/http
// serves it only with GODEBUG=http2xconnect=1 (see package xconnect). The
// stream ends when the handler returns: keep the handler until the peer is
// CLOSED (a Wait loop in the handler does) or until Released is closed.
func (u *Upgrader) Upgrade(w http.ResponseWriter, r *http.Request) (*Peer, error) {
	if r.ProtoMajor == 2 {
		return u.upgradeH2(w, r) // RFC 8441: upgrade_h2.go
	}
	a, err := u.accept(w, r)
	if err != nil {
		return nil, err
	}
	resp := proto.AppendResponse(nil, a.req.Key, a.protocol, a.ext, a.header)
	conn, buffered, err := hijack(w, resp, a.s.handshakeTimeout)
	if err != nil {
		a.release()
		return nil, err
	}
	requested := proto.RequestURL(r.TLS != nil, a.req.Host, a.req.Target)
	if err := a.p.attachOpen(conn, buffered, a.protocol, requested, a.head, a.codec); err != nil {
		return nil, err
	}
	return a.p, nil
}

// accepted is a request that passed every check, with what its answer and
// its peer need: the same for HTTP/1.1 and HTTP/2.
type accepted struct {
	p        *Peer
	s        settings
	req      *proto.Request
	head     []byte
	protocol string
	header   http.Header
	ext      string               // the Sec-WebSocket-Extensions answer
	codec    proto.ExtensionCodec // its codec, or nil
}

// accept makes the peer (from the NewPeer template), checks the request and
// chooses the subprotocol, headers and extensions of the answer. A refused
// request is answered through w.
func (u *Upgrader) accept(w http.ResponseWriter, r *http.Request) (*accepted, error) {
	p, s, err := u.peer()
	if err != nil {
		return nil, internalError(w, err)
	}
	req, head, err := u.check(w, r, s.maxHead)
	if err != nil {
		return nil, err
	}
	protocol, header, err := u.answer(req, s)
	if err != nil {
		return nil, internalError(w, err)
	}
	ext, codec := proto.AcceptExtensions(s.negotiators(), req.Extensions)
	return &accepted{p: p, s: s, req: req, head: head, protocol: protocol, header: header, ext: ext, codec: codec}, nil
}

// release gives back the codec of an upgrade that failed after accept.
func (a *accepted) release() {
	if a.codec != nil {
		a.codec.Release()
	}
}

// check applies the head limit, the request grammar, the host and Origin
// policies and the Accept hook; a refused request is answered through w. It
// returns the parsed request and its head.
func (u *Upgrader) check(w http.ResponseWriter, r *http.Request, maxHead int) (*proto.Request, []byte, error) {
	req, head, err := parseUpgradeRequest(r, maxHead)
	if err != nil {
		he := proto.AsHTTPError(err)
		return nil, nil, refuse(w, &RejectError{Status: he.Status, Msg: he.Msg, Err: he})
	}
	if ok, err := u.hostAllowed(req.Host); err != nil {
		return nil, nil, internalError(w, err)
	} else if !ok {
		return nil, nil, refuse(w, &RejectError{Status: http.StatusForbidden, Msg: "host not allowed", Err: ErrForbiddenHost})
	}
	if ok, err := u.originAllowed(r, req.Host); err != nil {
		return nil, nil, internalError(w, err)
	} else if !ok {
		return nil, nil, refuse(w, &RejectError{Status: http.StatusForbidden, Msg: "origin not allowed", Err: ErrForbiddenOrigin})
	}
	if u.Accept != nil {
		if err := u.Accept(r); err != nil {
			var re *RejectError
			if !errors.As(err, &re) {
				return nil, nil, refuse(w, &RejectError{Status: http.StatusForbidden, Err: err})
			}
			return nil, nil, refuse(w, re)
		}
	}
	return req, head, nil
}

// peer returns the peer to upgrade to (from the NewPeer template) and its
// validated settings.
func (u *Upgrader) peer() (*Peer, settings, error) {
	p := NewPeer()
	if u.NewPeer != nil {
		if p = u.NewPeer(); p == nil {
			return nil, settings{}, fmt.Errorf("%w: Upgrader.NewPeer returned nil", ErrInvalidParameter)
		}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	s, err := p.settingsLocked()
	if err != nil {
		return nil, s, err
	}
	if p.state == StateConnecting || p.state == StateOpen {
		return nil, s, ErrInUse
	}
	return p, s, nil
}

// answer chooses the subprotocol and gathers the response's extra headers.
func (u *Upgrader) answer(req *proto.Request, s settings) (string, http.Header, error) {
	protocols := u.Protocols
	if protocols == nil {
		protocols = s.protocols
	}
	for _, pr := range protocols {
		if !isToken(pr) {
			return "", nil, fmt.Errorf("%w: subprotocol %q is not an HTTP token", ErrInvalidParameter, pr)
		}
	}
	header := s.header
	if len(u.Header) > 0 {
		if header == nil {
			header = make(http.Header)
		}
		for k, vs := range u.Header {
			k = http.CanonicalHeaderKey(k)
			header[k] = append(header[k], vs...)
		}
	}
	if err := proto.CheckHeader(header); err != nil {
		return "", nil, fmt.Errorf("%w: Upgrader.Header: %w", ErrInvalidParameter, err)
	}
	return proto.SelectProtocol(req.Protocols, protocols), header, nil
}

// hijack takes the connection over and writes resp within timeout. It
// returns the bytes the client sent after its request: the first frames.
func hijack(w http.ResponseWriter, resp []byte, timeout time.Duration) (net.Conn, []byte, error) {
	conn, brw, err := http.NewResponseController(w).Hijack()
	if err != nil {
		return nil, nil, internalError(w, fmt.Errorf("%w: cannot take over the connection: %w", ErrUnsupported, err))
	}
	// The server's read and write timeouts must not reach the WebSocket.
	_ = conn.SetDeadline(time.Time{})
	var buffered []byte
	if n := brw.Reader.Buffered(); n > 0 {
		buffered, _ = brw.Reader.Peek(n)
	}
	_ = conn.SetWriteDeadline(time.Now().Add(timeout))
	if _, err := conn.Write(resp); err != nil {
		conn.Close()
		return nil, nil, newCloseError(ErrHandshake, "writing the 101 response", err)
	}
	_ = conn.SetWriteDeadline(time.Time{})
	return conn, buffered, nil
}

// parseUpgradeRequest checks r with the same parser AcceptStream uses, so
// that both server paths accept and refuse exactly the same requests: it
// rebuilds the request head from what net/http parsed, refuses it with 431
// when it is larger than maxHead, and returns it (exactly sized) with the
// parsed request.
func parseUpgradeRequest(r *http.Request, maxHead int) (*proto.Request, []byte, error) {
	target := r.RequestURI
	if target == "" && r.URL != nil {
		target = r.URL.RequestURI()
	}
	b := make([]byte, 0, 512)
	b = append(b, r.Method...)
	b = append(b, ' ')
	b = append(b, target...)
	b = append(b, " HTTP/"...)
	b = strconv.AppendInt(b, int64(r.ProtoMajor), 10)
	b = append(b, '.')
	b = strconv.AppendInt(b, int64(r.ProtoMinor), 10)
	b = append(b, "\r\nHost: "...)
	b = append(b, r.Host...)
	b = append(b, "\r\n"...)
	for _, te := range r.TransferEncoding {
		// net/http moves Transfer-Encoding out of the header map.
		b = appendHeaderLine(b, "Transfer-Encoding", te, maxHead)
	}
	for k, vs := range r.Header {
		if http.CanonicalHeaderKey(k) == "Host" {
			continue // net/http keeps it in r.Host
		}
		for _, v := range vs {
			b = appendHeaderLine(b, k, v, maxHead)
		}
	}
	b = append(b, "\r\n"...)
	if len(b) > maxHead {
		return nil, nil, proto.ErrHeadTooLarge
	}
	var req *proto.Request
	var err error
	if r.ProtoMajor == 2 {
		// RFC 8441: CONNECT with :protocol websocket, no key; the head is
		// kept in HTTP/1.1 form for RequestHeader.
		req, err = proto.ParseH2Request(r.Method, r.URL.RequestURI(), r.Host, r.Header)
	} else {
		req, err = proto.ParseRequest(b)
	}
	if err != nil {
		return nil, nil, err
	}
	return req, append([]byte(nil), b...), nil
}

// appendHeaderLine appends "name: value\r\n", unless b already holds more
// than limit bytes: a head that is refused anyway is not copied further.
func appendHeaderLine(b []byte, name, value string, limit int) []byte {
	if len(b) > limit {
		return b
	}
	b = append(b, name...)
	b = append(b, ": "...)
	b = append(b, value...)
	return append(b, "\r\n"...)
}

// originAllowed applies the Origin policy: no Origin (not a browser), the
// request's own host (as ParseRequest settled it), or a host matching
// OriginPatterns. A malformed pattern is the server's error.
func (u *Upgrader) originAllowed(r *http.Request, reqHost string) (bool, error) {
	for _, pat := range u.OriginPatterns {
		if _, err := path.Match(pat, ""); err != nil {
			return false, fmt.Errorf("%w: origin pattern %q: %w", ErrInvalidParameter, pat, err)
		}
	}
	if u.InsecureSkipOriginCheck {
		return true, nil
	}
	origins := r.Header.Values("Origin")
	if len(origins) == 0 {
		return true, nil
	}
	if len(origins) > 1 {
		return false, nil
	}
	o, err := url.Parse(origins[0])
	if err != nil || o.Host == "" {
		return false, nil // includes "null", the opaque origin of sandboxed pages and files
	}
	host := strings.ToLower(o.Host)
	if host == strings.ToLower(reqHost) {
		return true, nil
	}
	for _, pat := range u.OriginPatterns {
		if ok, _ := path.Match(strings.ToLower(pat), host); ok {
			return true, nil
		}
	}
	return false, nil
}

// RejectError is an opening handshake the server refused with an HTTP
// status. Reject makes one for Upgrader.Accept; every refusal by Upgrade
// returns an error wrapping one, so errors.As tells the status answered.
type RejectError struct {
	Status int    // HTTP status answered, 300-599
	Msg    string // response body ("" means the status text)
	Err    error  // the cause, or nil
}

// Reject returns an error for Upgrader.Accept that refuses the request with
// status (300-599; anything else answers 500) and msg as the text/plain body
// ("" means the status text). msg is sent to the client as is: do not put
// secrets in it.
func Reject(status int, msg string) error {
	return &RejectError{Status: status, Msg: msg}
}

// Error describes the refusal: status, message and cause.
func (e *RejectError) Error() string {
	s := "refused with HTTP " + strconv.Itoa(e.Status) + " " + http.StatusText(e.Status)
	if e.Msg != "" {
		s += ": " + e.Msg
	}
	// The cause is added unless it only repeats the message (a sentinel
	// such as ErrForbiddenOrigin, whose text ends with Msg).
	if e.Err != nil && (e.Msg == "" || !strings.HasSuffix(e.Err.Error(), e.Msg)) {
		s += ": " + e.Err.Error()
	}
	return s
}

// Unwrap returns the cause.
func (e *RejectError) Unwrap() error { return e.Err }

// refuse answers a refused upgrade through w and returns the error for
// Upgrade's caller.
func refuse(w http.ResponseWriter, re *RejectError) error {
	if re.Status < 300 || re.Status > 599 {
		re.Status = http.StatusInternalServerError
	}
	msg := re.Msg
	if msg == "" {
		msg = http.StatusText(re.Status)
	}
	switch re.Status {
	case http.StatusUpgradeRequired:
		// RFC 6455 section 4.4: tell the client which version we speak.
		w.Header().Set("Sec-WebSocket-Version", "13")
		w.Header().Set("Upgrade", "websocket")
	case http.StatusMethodNotAllowed:
		w.Header().Set("Allow", http.MethodGet)
	}
	http.Error(w, msg, re.Status)
	return newCloseError(ErrHandshake, "", re)
}

// internalError answers 500 for a server-side problem (bad settings,
// a ResponseWriter that cannot be hijacked) and returns err.
func internalError(w http.ResponseWriter, err error) error {
	http.Error(w, http.StatusText(http.StatusInternalServerError), http.StatusInternalServerError)
	return err
}

// attachOpen makes p an OPEN server peer on conn, whose opening handshake was
// done elsewhere (Upgrade wrote the 101 response). buffered are bytes already
// read from conn after the request: the first frames.
func (p *Peer) attachOpen(conn net.Conn, buffered []byte, protocol, requestedURL string, reqHead []byte, codec proto.ExtensionCodec) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if err := p.startServerLocked(conn); err != nil {
		return err
	}
	p.protocol, p.requestedURL, p.reqHead = protocol, requestedURL, keptHead(reqHead, p.cfg.keepHeaders)
	cfg := p.coreConfigLocked()
	cfg.Role, cfg.Extension = proto.RoleServer, codec
	if len(buffered) > 0 {
		if len(buffered) <= readBufSize {
			p.rbufp = getBuf()
			p.rbuf = *p.rbufp
		} else {
			p.rbuf = make([]byte, len(buffered))
		}
		p.roff, p.rend = 0, copy(p.rbuf, buffered)
		// These bytes are not on the socket, so a Wait parked on it would
		// not see them: marked as waiting for the parser, they make the
		// first Wait return at once and the next Poll parse them.
		p.parsePaused = true
	}
	p.core = proto.NewOpenConn(cfg, protocol, p.now())
	p.core.ReleaseHandshake() // what it settled is kept above
	p.state = StateOpen
	return nil
}
