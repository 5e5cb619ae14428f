package proto

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
)

// Request is a parsed and validated client opening handshake (server side).
type Request struct {
	Method, Target, Proto string
	Host                  string      // Host header (required)
	Header                http.Header // all request headers, canonical names
	Key                   string      // Sec-WebSocket-Key (validated: base64 of exactly 16 bytes)
	Protocols             []string    // offered subprotocols, client's order, trimmed, empty entries dropped
	Extensions            []Extension // parsed Sec-WebSocket-Extensions offers, in order
}

// HTTPError is a rejected opening handshake together with the HTTP status the server
// must answer with (RFC 6455 section 4.2.1 and 4.4). Answer it with
// AppendErrorResponse(dst, e.Status, e.Msg, nil) and close the connection.
type HTTPError struct {
	Status int    // 400, 405, 426, 431, 505...
	Msg    string // short fixed cause, safe as the response body: it never echoes the input
	Detail string // diagnostics for logs, possibly quoting (truncated) input; may be ""
	Err    error  // sentinel (ErrBadRequest, ErrHeadTooLarge) or cause, for errors.Is
}

func (e *HTTPError) Error() string {
	s := "handshake rejected with " + strconv.Itoa(e.Status) + " " + http.StatusText(e.Status) + ": " + e.Msg
	if e.Detail != "" {
		s += ": " + e.Detail
	}
	return s
}

// Unwrap returns the wrapped sentinel or cause.
func (e *HTTPError) Unwrap() error { return e.Err }

// AsHTTPError maps an error met while reading a request head to the answer it calls
// for: a *HTTPError in the chain is returned as is, ErrHeadTooLarge (from HeadReader)
// becomes 431 Request Header Fields Too Large, anything else 400.
func AsHTTPError(err error) *HTTPError {
	var he *HTTPError
	switch {
	case errors.As(err, &he):
		return he
	case errors.Is(err, ErrHeadTooLarge):
		return &HTTPError{Status: http.StatusRequestHeaderFieldsTooLarge, Msg: "request head too large", Err: fmt.Errorf("%w: %w", ErrBadRequest, err)}
	default:
		return &HTTPError{Status: http.StatusBadRequest, Msg: "bad request", Err: err}
	}
}

func hsBadRequest(msg, detail string) *HTTPError {
	return &HTTPError{Status: http.StatusBadRequest, Msg: msg, Detail: detail, Err: ErrBadRequest}
}

// ParseRequest parses and validates a complete request head (from HeadReader). Every
// failure is an *HTTPError wrapping ErrBadRequest (or a more precise cause wrapping it)
// and giving the status to answer with: 400 for bad syntax, a missing Host, a missing
// websocket/upgrade token, a missing or invalid key or bad extension syntax; 405 for a
// method other than GET; 400 for HTTP/1.0 (the major version is ours, the request is
// not one we can upgrade) and 505 for another major version; 400 for a body (a
// Content-Length other than 0, conflicting Content-Length headers, any
// Transfer-Encoding), since the bytes after the head are frames; 426 for a missing or
// unsupported Sec-WebSocket-Version. Obsolete line folding is replaced with SP, as
// net/http does. For an absolute-form target ("GET http://host/path"), Host is the
// target's authority, which replaces the Host header (RFC 9112 section 3.2.2), again
// as net/http does. Subprotocol names are not validated as tokens: SelectProtocol
// only ever echoes one the server itself supports.
func ParseRequest(head []byte) (*Request, error) {
	start, hdr, err := hsParseHead(head)
	if err != nil {
		return nil, hsBadRequest("malformed HTTP head", err.Error())
	}
	// request-line = method SP request-target SP HTTP-version, exactly three parts;
	// anything else (Godot aborts on "GET /") is a plain 400.
	parts := strings.Split(start, " ")
	if len(parts) != 3 || !hsIsToken(parts[0]) || !hsValidTarget(parts[1]) {
		return nil, hsBadRequest("malformed request line", hsQuote(start))
	}
	r := &Request{Method: parts[0], Target: parts[1], Proto: parts[2], Header: hdr}
	major, minor, ok := hsParseVersion(r.Proto)
	if !ok {
		return nil, hsBadRequest("malformed HTTP version", hsQuote(r.Proto))
	}
	if major != 1 {
		return nil, &HTTPError{Status: http.StatusHTTPVersionNotSupported, Err: ErrBadRequest,
			Msg: "WebSocket requires HTTP/1.1"}
	}
	if minor < 1 {
		return nil, hsBadRequest("WebSocket requires HTTP/1.1", "")
	}
	if r.Method != http.MethodGet {
		return nil, &HTTPError{Status: http.StatusMethodNotAllowed, Err: ErrBadRequest,
			Msg: "WebSocket handshakes use GET", Detail: "method " + hsQuote(r.Method)}
	}
	// RFC 9112 section 3.2: exactly one Host, else 400.
	if hs := hdr.Values("Host"); len(hs) != 1 || !hsValidHost(hs[0]) {
		return nil, hsBadRequest("missing, repeated or invalid Host header", "")
	}
	r.Host = hdr.Get("Host")
	if authority, ok := hsAuthority(r.Target); !ok || authority != "" {
		if !ok || !hsValidHost(authority) {
			return nil, hsBadRequest("invalid authority in the request target", "")
		}
		r.Host = authority
	}
	if err := hsNoBody(hdr); err != nil {
		return nil, err
	}
	if !hsHasToken(hdr, "Upgrade", "websocket") {
		return nil, hsBadRequest("Upgrade header lacks \"websocket\"", "")
	}
	if !hsHasToken(hdr, "Connection", "upgrade") {
		return nil, hsBadRequest("Connection header lacks \"upgrade\"", "")
	}
	// Checked before the key so that a client of another protocol version learns which
	// one we speak (RFC 6455 section 4.4).
	if vs := hdr.Values("Sec-WebSocket-Version"); len(vs) != 1 || vs[0] != "13" {
		return nil, &HTTPError{Status: http.StatusUpgradeRequired, Err: ErrBadRequest,
			Msg: "unsupported Sec-WebSocket-Version: this server speaks 13"}
	}
	if ks := hdr.Values("Sec-WebSocket-Key"); len(ks) != 1 || !hsValidKey(ks[0]) {
		return nil, hsBadRequest("missing or invalid Sec-WebSocket-Key", "")
	}
	r.Key = hdr.Get("Sec-WebSocket-Key")
	r.Protocols = hsListElems(hdr.Values("Sec-WebSocket-Protocol"))
	if es := hdr.Values("Sec-WebSocket-Extensions"); len(es) > 0 {
		if r.Extensions, err = ParseExtensions(es); err != nil {
			return nil, &HTTPError{Status: http.StatusBadRequest, Msg: "malformed Sec-WebSocket-Extensions",
				Detail: err.Error(), Err: fmt.Errorf("%w: %w", ErrBadRequest, err)}
		}
	}
	return r, nil
}

// hsValidTarget accepts the origin form ("/path?query") and the absolute form
// ("http://host/path"), the two RFC 6455 section 4.2.1 allows, made of visible ASCII
// and parsable by url.ParseRequestURI (which net/http applies too: bad
// percent-encoding is refused on both server paths).
func hsValidTarget(s string) bool {
	if s == "" || !hsVisibleASCII(s) {
		return false
	}
	if _, err := url.ParseRequestURI(s); err != nil {
		return false
	}
	if s[0] == '/' {
		return true
	}
	scheme, _, ok := strings.Cut(s, "://")
	return ok && scheme != "" && strings.Trim(strings.ToLower(scheme), "abcdefghijklmnopqrstuvwxyz0123456789+-.") == ""
}

// hsAuthority returns the authority of an absolute-form target, "" for the
// origin form (including "//x", a path). Userinfo is refused (ok false):
// RFC 9110 section 4.2.4 has recipients treat it as an error.
func hsAuthority(target string) (host string, ok bool) {
	if strings.HasPrefix(target, "/") {
		return "", true
	}
	u, err := url.ParseRequestURI(target)
	if err != nil || u.User != nil {
		return "", false
	}
	return u.Host, true
}

// hsNoBody refuses a request with a body: a Content-Length other than 0,
// conflicting Content-Length values, or any Transfer-Encoding. After a
// WebSocket request the bytes are frames, so a body would be parsed as
// frames, and two parsers disagreeing on where the head's message ends is
// how requests are smuggled.
func hsNoBody(h http.Header) *HTTPError {
	if len(h.Values("Transfer-Encoding")) > 0 {
		return hsBadRequest("a WebSocket request has no body", "Transfer-Encoding present")
	}
	cls := h.Values("Content-Length")
	for _, cl := range cls {
		if cl != cls[0] {
			return hsBadRequest("conflicting Content-Length headers", "")
		}
	}
	if len(cls) > 0 {
		if n, err := strconv.ParseUint(cls[0], 10, 63); err != nil || n != 0 || !hsDigits(cls[0]) {
			return hsBadRequest("a WebSocket request has no body", "Content-Length "+hsQuote(cls[0]))
		}
	}
	return nil
}

// RequestURL returns the URL a request asked for, built from its parsed
// target, never by pasting strings: the scheme (ws or wss), host (the Host
// header, or the absolute-form target's authority, as ParseRequest settles
// it) and the target's path and query. A "//x" target is a path, not an
// authority. An unparsable target gives the host's root.
func RequestURL(secure bool, host, target string) string {
	u := url.URL{Scheme: "ws", Host: host, Path: "/"}
	if secure {
		u.Scheme = "wss"
	}
	if t, err := url.ParseRequestURI(target); err == nil {
		u.Path, u.RawPath, u.RawQuery, u.ForceQuery = t.Path, t.RawPath, t.RawQuery, t.ForceQuery
		if u.Path == "" {
			u.Path = "/"
		}
	}
	return u.String()
}

// hsValidHost accepts uri-host [":" port] characters (RFC 3986 reg-name, IP literals,
// percent-encoding); userinfo and whitespace are not allowed in Host.
func hsValidHost(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		alnum := c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
		if !alnum && strings.IndexByte("-._~%!$&'()*+,;=:[]", c) < 0 {
			return false
		}
	}
	return true
}

// SelectProtocol returns the first of the client's offers (client order) that the
// server supports, or "" when none is: RFC 6455 lets the handshake go on without a
// subprotocol, so no match is not an error.
func SelectProtocol(offered, supported []string) string {
	for _, p := range offered {
		if hsIndex(supported, p) >= 0 {
			return p
		}
	}
	return ""
}

// AppendResponse appends the 101 answer: "HTTP/1.1 101 Switching Protocols", Upgrade:
// websocket, Connection: Upgrade, Sec-WebSocket-Accept, Sec-WebSocket-Protocol (if
// protocol != ""), Sec-WebSocket-Extensions (if != ""), the extra headers (sorted, and
// validated with CheckHeader beforehand), then the empty line.
func AppendResponse(dst []byte, key, protocol, extensions string, header http.Header) []byte {
	dst = append(dst, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"...)
	dst = hsAppendField(dst, "Sec-WebSocket-Accept", AcceptKey(key))
	if protocol != "" {
		dst = hsAppendField(dst, "Sec-WebSocket-Protocol", protocol)
	}
	if extensions != "" {
		dst = hsAppendField(dst, "Sec-WebSocket-Extensions", extensions)
	}
	dst = hsAppendHeader(dst, header)
	return append(dst, "\r\n"...)
}

// AppendErrorResponse appends a complete HTTP/1.1 error response for status with a
// short text/plain body (msg plus a newline), Content-Length and Connection: close,
// since the connection cannot be reused after a failed upgrade. 426 adds
// Sec-WebSocket-Version: 13 (RFC 6455 section 4.4) and Upgrade: websocket (RFC 9110
// section 15.5.22); 405 adds Allow: GET. A status outside 100-999 becomes 500. Extra
// headers (validated with CheckHeader) come last, sorted.
func AppendErrorResponse(dst []byte, status int, msg string, header http.Header) []byte {
	if status < 100 || status > 999 {
		status = http.StatusInternalServerError
	}
	text := http.StatusText(status)
	if text == "" {
		text = "Error"
	}
	dst = append(dst, "HTTP/1.1 "...)
	dst = strconv.AppendInt(dst, int64(status), 10)
	dst = append(dst, ' ')
	dst = append(dst, text...)
	dst = append(dst, "\r\n"...)
	switch status {
	case http.StatusUpgradeRequired:
		dst = append(dst, "Connection: Upgrade, close\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\n"...)
	case http.StatusMethodNotAllowed:
		dst = append(dst, "Allow: GET\r\nConnection: close\r\n"...)
	default:
		dst = append(dst, "Connection: close\r\n"...)
	}
	dst = append(dst, "Content-Type: text/plain; charset=utf-8\r\nContent-Length: "...)
	dst = strconv.AppendInt(dst, int64(len(msg)+1), 10)
	dst = append(dst, "\r\n"...)
	dst = hsAppendHeader(dst, header)
	dst = append(dst, "\r\n"...)
	dst = append(dst, msg...)
	return append(dst, '\n')
}

// CheckHeader validates application-supplied extra handshake headers: names must be
// tokens and values free of control bytes other than HTAB (so no CR, LF or NUL can
// split or end the head), and none of the headers the handshake manages may appear
// (Host, Upgrade, Connection, Content-Length, Transfer-Encoding, any Sec-WebSocket-*),
// because a duplicate would make the handshake ambiguous. Errors wrap ErrInvalidHeader.
func CheckHeader(h http.Header) error {
	for name, values := range h {
		if !hsIsToken(name) {
			return fmt.Errorf("%w: name %q is not a token", ErrInvalidHeader, name)
		}
		switch lower := strings.ToLower(name); {
		case lower == "host", lower == "upgrade", lower == "connection",
			lower == "content-length", lower == "transfer-encoding",
			strings.HasPrefix(lower, "sec-websocket-"):
			return fmt.Errorf("%w: %s is managed by the handshake", ErrInvalidHeader, name)
		}
		for _, v := range values {
			if !hsValidValue(v) {
				return fmt.Errorf("%w: value of %s contains a control character", ErrInvalidHeader, name)
			}
		}
	}
	return nil
}

// hsListElems splits all lines of a header into trimmed, non-empty list elements.
func hsListElems(values []string) []string {
	var out []string
	for _, v := range values {
		for elem := range strings.SplitSeq(v, ",") {
			if elem = strings.Trim(elem, " \t"); elem != "" {
				out = append(out, elem)
			}
		}
	}
	return out
}

func hsAppendField(dst []byte, name, value string) []byte {
	dst = append(dst, name...)
	dst = append(dst, ": "...)
	dst = append(dst, value...)
	return append(dst, "\r\n"...)
}

// hsAppendHeader appends h sorted by name, so that output is deterministic (map order
// is not); the values of one name keep their order.
func hsAppendHeader(dst []byte, h http.Header) []byte {
	names := make([]string, 0, len(h))
	for k := range h {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		for _, v := range h[k] {
			dst = hsAppendField(dst, k, v)
		}
	}
	return dst
}
