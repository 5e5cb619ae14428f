package proto

import (
	"bytes"
	"crypto/rand"
	"crypto/sha1"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/textproto"
	"strconv"
	"strings"
)

// DefaultMaxHandshakeSize is the default bound on an HTTP head, in bytes, including
// the final empty line. 8 KiB is what most servers allow and far more than a
// WebSocket handshake needs, yet small enough that a peer cannot make us buffer much.
const DefaultMaxHandshakeSize = 8192

// acceptGUID is the fixed GUID of RFC 6455 section 1.3.
const acceptGUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

// Handshake errors. The parsers and validators wrap these, so callers can tell the
// cause apart with errors.Is while the messages carry the detail.
var (
	// ErrHeadTooLarge is returned by HeadReader.Feed when the head exceeds its bound.
	ErrHeadTooLarge = errors.New("HTTP head too large")
	// ErrBadRequest is wrapped by every *HTTPError of ParseRequest.
	ErrBadRequest = errors.New("wspeer: bad handshake request")
	// ErrBadResponse is matched by every error of ParseResponse and ClientRequest.Check,
	// including *StatusError.
	ErrBadResponse = errors.New("bad handshake response")
	// ErrInvalidHeader is wrapped by CheckHeader and ClientRequest.Validate errors:
	// the application asked us to send something that is not valid HTTP.
	ErrInvalidHeader = errors.New("invalid handshake header")
	// ErrBadExtension is wrapped by ParseExtensions syntax errors.
	ErrBadExtension = errors.New("malformed Sec-WebSocket-Extensions")
)

// StatusError reports a server that answered the opening handshake with a status
// other than 101. It matches ErrBadResponse with errors.Is; the header is kept so
// callers can follow a redirect (Location) or an authentication challenge.
type StatusError struct {
	Status int
	Reason string
	Header http.Header
}

func (e *StatusError) Error() string {
	return "server answered HTTP " + strconv.Itoa(e.Status) + " " + e.Reason
}

// Is makes a *StatusError match ErrBadResponse.
func (e *StatusError) Is(target error) bool { return target == ErrBadResponse }

// AcceptKey returns base64(SHA-1(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11")),
// the Sec-WebSocket-Accept value for a Sec-WebSocket-Key (RFC 6455 section 4.2.2).
func AcceptKey(key string) string {
	h := sha1.New()
	io.WriteString(h, key)
	io.WriteString(h, acceptGUID)
	return base64.StdEncoding.EncodeToString(h.Sum(nil))
}

// NewClientKey returns a Sec-WebSocket-Key: base64 of 16 bytes read from r
// (crypto/rand.Reader when r is nil). RFC 6455 section 4.1 wants the nonce random.
func NewClientKey(r io.Reader) (string, error) {
	if r == nil {
		r = rand.Reader
	}
	var b [16]byte
	if _, err := io.ReadFull(r, b[:]); err != nil {
		return "", fmt.Errorf("generating Sec-WebSocket-Key: %w", err)
	}
	return base64.StdEncoding.EncodeToString(b[:]), nil
}

// hsValidKey reports whether s is base64 of exactly 16 bytes (RFC 6455 section 4.1).
func hsValidKey(s string) bool {
	if len(s) != 24 {
		return false
	}
	b, err := base64.StdEncoding.DecodeString(s)
	return err == nil && len(b) == 16
}

// HeadReader accumulates the bytes of an HTTP head (request or response) up to and
// including the empty line, never holding more than Max bytes. Lines end in LF with an
// optional CR before it (RFC 9112 section 2.2 lets recipients accept bare LF). The zero
// value is ready to use.
type HeadReader struct {
	// Max bounds the head in bytes, including the final empty line; 0 means
	// DefaultMaxHandshakeSize.
	Max int

	buf     []byte
	lineLen int  // bytes of the current line so far, excluding its LF
	lastCR  bool // the previous byte was CR
	done    bool
	err     error
}

// Feed consumes bytes from p. It returns how many bytes of p belong to the head (bytes
// after the head are NOT consumed: they are WebSocket frames for the caller), whether
// the head is complete, and ErrHeadTooLarge once Max bytes have been seen without the
// end of the head. After done or an error, further calls consume nothing and repeat
// the outcome.
func (h *HeadReader) Feed(p []byte) (n int, done bool, err error) {
	if h.err != nil {
		return 0, false, h.err
	}
	if h.done {
		return 0, true, nil
	}
	limit := h.Max
	if limit <= 0 {
		limit = DefaultMaxHandshakeSize
	}
	room := limit - len(h.buf)
	for n < len(p) && n < room && !h.done {
		c := p[n]
		n++
		if c == '\n' {
			// An empty line ("" or a lone CR) ends the head.
			h.done = h.lineLen == 0 || (h.lineLen == 1 && h.lastCR)
			h.lineLen, h.lastCR = 0, false
			continue
		}
		h.lineLen++
		h.lastCR = c == '\r'
	}
	h.buf = append(h.buf, p[:n]...)
	if !h.done && len(h.buf) >= limit {
		h.err = ErrHeadTooLarge
	}
	return n, h.done, h.err
}

// Head returns the complete head, or nil before Feed reported done. The slice is
// owned by h until Reset.
func (h *HeadReader) Head() []byte {
	if !h.done {
		return nil
	}
	return h.buf
}

// Reset forgets the head so that h can read another one; Max is kept.
func (h *HeadReader) Reset() {
	*h = HeadReader{Max: h.Max, buf: h.buf[:0]}
}

// ClientRequest describes the opening handshake a client sends.
type ClientRequest struct {
	Target     string      // request-target: path plus query ("/" when empty)
	Host       string      // Host header value, from HostHeader
	Key        string      // Sec-WebSocket-Key, from NewClientKey
	Protocols  []string    // offered subprotocols in preference order (omitted when empty)
	Extensions string      // Sec-WebSocket-Extensions offer ("" = none)
	Header     http.Header // extra headers (validated with CheckHeader beforehand); may include Authorization, Origin, User-Agent...
}

// HostHeader formats a Host header value: IPv6 literals in brackets (zone removed, as
// net/http does, since a zone only means something on the sending host), the port only
// when it is neither 0 nor the default for the scheme (80 for ws, 443 for wss).
func HostHeader(host string, port int, secure bool) string {
	if strings.HasPrefix(host, "[") && strings.HasSuffix(host, "]") {
		host = host[1 : len(host)-1]
	}
	if strings.IndexByte(host, ':') >= 0 {
		if i := strings.IndexByte(host, '%'); i >= 0 {
			host = host[:i]
		}
		host = "[" + host + "]"
	}
	def := 80
	if secure {
		def = 443
	}
	if port == 0 || port == def {
		return host
	}
	return host + ":" + strconv.Itoa(port)
}

// Validate checks that AppendTo would produce a well-formed request: an origin-form
// target without spaces or control bytes, a non-empty Host, a valid Key, unique token
// protocols (RFC 6455 section 4.1), a parsable extension offer and headers accepted by
// CheckHeader. Errors wrap ErrInvalidHeader.
func (r *ClientRequest) Validate() error {
	if r.Target != "" && (r.Target[0] != '/' || !hsVisibleASCII(r.Target)) {
		return fmt.Errorf("%w: request target %q", ErrInvalidHeader, r.Target)
	}
	if r.Host == "" || !hsVisibleASCII(r.Host) {
		return fmt.Errorf("%w: Host %q", ErrInvalidHeader, r.Host)
	}
	if !hsValidKey(r.Key) {
		return fmt.Errorf("%w: Sec-WebSocket-Key %q is not base64 of 16 bytes", ErrInvalidHeader, r.Key)
	}
	for i, p := range r.Protocols {
		if !hsIsToken(p) || hsIndex(r.Protocols[:i], p) >= 0 {
			return fmt.Errorf("%w: subprotocol %q is not a unique token", ErrInvalidHeader, p)
		}
	}
	if r.Extensions != "" {
		if _, err := ParseExtensions([]string{r.Extensions}); err != nil {
			return fmt.Errorf("%w: %w", ErrInvalidHeader, err)
		}
	}
	return CheckHeader(r.Header)
}

// AppendTo appends the request bytes: "GET target HTTP/1.1", Host, Upgrade: websocket,
// Connection: Upgrade, Sec-WebSocket-Key, Sec-WebSocket-Version: 13,
// Sec-WebSocket-Protocol (joined with ", ") if any, Sec-WebSocket-Extensions if any,
// the extra headers (sorted by name for determinism), then the empty line. CRLF line
// endings. Nothing is validated here: call Validate first.
func (r *ClientRequest) AppendTo(dst []byte) []byte {
	target := r.Target
	if target == "" {
		target = "/"
	}
	dst = append(dst, "GET "...)
	dst = append(dst, target...)
	dst = append(dst, " HTTP/1.1\r\n"...)
	dst = hsAppendField(dst, "Host", r.Host)
	dst = append(dst, "Upgrade: websocket\r\nConnection: Upgrade\r\n"...)
	dst = hsAppendField(dst, "Sec-WebSocket-Key", r.Key)
	dst = append(dst, "Sec-WebSocket-Version: 13\r\n"...)
	if len(r.Protocols) > 0 {
		dst = hsAppendField(dst, "Sec-WebSocket-Protocol", strings.Join(r.Protocols, ", "))
	}
	if r.Extensions != "" {
		dst = hsAppendField(dst, "Sec-WebSocket-Extensions", r.Extensions)
	}
	dst = hsAppendHeader(dst, r.Header)
	return append(dst, "\r\n"...)
}

// Response is a parsed HTTP response head.
type Response struct {
	Proto  string      // "HTTP/1.1"
	Status int         // three-digit status code
	Reason string      // reason phrase, possibly empty
	Header http.Header // canonical names, one entry per header line
}

// ParseResponse parses a complete head (from HeadReader). Bad syntax gives an error
// wrapping ErrBadResponse.
func ParseResponse(head []byte) (*Response, error) {
	start, hdr, err := hsParseHead(head)
	if err != nil {
		return nil, fmt.Errorf("%w: %s", ErrBadResponse, err)
	}
	// status-line = HTTP-version SP status-code SP [reason-phrase]; the SP before an
	// empty reason is often missing in practice, so it is optional here.
	proto, rest, _ := strings.Cut(start, " ")
	if _, _, ok := hsParseVersion(proto); !ok {
		return nil, fmt.Errorf("%w: bad status line %s", ErrBadResponse, hsQuote(start))
	}
	code, reason, _ := strings.Cut(rest, " ")
	if len(code) != 3 || !hsDigits(code) || code[0] == '0' || !hsValidValue(reason) {
		return nil, fmt.Errorf("%w: bad status line %s", ErrBadResponse, hsQuote(start))
	}
	status, _ := strconv.Atoi(code)
	return &Response{Proto: proto, Status: status, Reason: reason, Header: hdr}, nil
}

// Check validates a server's response against this request (RFC 6455 sections 4.1
// and 4.2.2). A status other than 101 gives a *StatusError; every other failure wraps
// ErrBadResponse. On success it returns the selected subprotocol ("" if none) and the
// raw Sec-WebSocket-Extensions answer (all lines joined with ", "), whose extension
// names are known to have been offered; negotiating their parameters (and rejecting
// duplicates, which RFC 7692 forbids) is the caller's job.
func (r *ClientRequest) Check(resp *Response) (protocol, extensions string, err error) {
	if resp == nil {
		return "", "", fmt.Errorf("%w: no response", ErrBadResponse)
	}
	if resp.Status != http.StatusSwitchingProtocols {
		return "", "", &StatusError{Status: resp.Status, Reason: resp.Reason, Header: resp.Header}
	}
	if major, minor, ok := hsParseVersion(resp.Proto); !ok || major < 1 || major == 1 && minor < 1 {
		return "", "", fmt.Errorf("%w: protocol %s is not HTTP/1.1 or later", ErrBadResponse, hsQuote(resp.Proto))
	}
	if !hsHasToken(resp.Header, "Upgrade", "websocket") {
		return "", "", fmt.Errorf("%w: Upgrade header lacks \"websocket\"", ErrBadResponse)
	}
	if !hsHasToken(resp.Header, "Connection", "upgrade") {
		return "", "", fmt.Errorf("%w: Connection header lacks \"upgrade\"", ErrBadResponse)
	}
	if acc := resp.Header.Values("Sec-WebSocket-Accept"); len(acc) != 1 || acc[0] != AcceptKey(r.Key) {
		return "", "", fmt.Errorf("%w: wrong Sec-WebSocket-Accept %s", ErrBadResponse, hsQuote(strings.Join(acc, ", ")))
	}
	return r.checkSelection(resp.Header)
}

// checkSelection validates the subprotocol and the extensions a server
// selected: the part of the answer HTTP/1.1 and HTTP/2 share.
func (r *ClientRequest) checkSelection(h http.Header) (protocol, extensions string, err error) {
	if ps := h.Values("Sec-WebSocket-Protocol"); len(ps) > 0 {
		// The server must pick exactly one of our offers (RFC 6455 4.1 step 6);
		// omitting the header is allowed and means "no subprotocol".
		if len(ps) > 1 || strings.IndexByte(ps[0], ',') >= 0 {
			return "", "", fmt.Errorf("%w: several subprotocols selected: %s", ErrBadResponse, hsQuote(strings.Join(ps, ", ")))
		}
		if hsIndex(r.Protocols, ps[0]) < 0 {
			return "", "", fmt.Errorf("%w: subprotocol %s was not offered", ErrBadResponse, hsQuote(ps[0]))
		}
		protocol = ps[0]
	}
	if es := h.Values("Sec-WebSocket-Extensions"); len(es) > 0 {
		got, err := ParseExtensions(es)
		if err != nil {
			return "", "", fmt.Errorf("%w: %w", ErrBadResponse, err)
		}
		var offered []Extension
		if r.Extensions != "" {
			if offered, err = ParseExtensions([]string{r.Extensions}); err != nil {
				return "", "", fmt.Errorf("%w: our own offer: %w", ErrBadResponse, err)
			}
		}
		for _, e := range got {
			if !hsOffered(offered, e.Name) {
				return "", "", fmt.Errorf("%w: extension %s was not offered", ErrBadResponse, hsQuote(e.Name))
			}
		}
		extensions = strings.Join(es, ", ")
	}
	return protocol, extensions, nil
}

func hsOffered(offers []Extension, name string) bool {
	for _, o := range offers {
		if o.Name == name {
			return true
		}
	}
	return false
}

// hsParseHead splits a complete head into its start line and header fields. The rules
// are RFC 9112's: no whitespace between name and colon (a smuggling vector), no
// obsolete line folding, no control bytes in values except HTAB.
func hsParseHead(head []byte) (start string, h http.Header, err error) {
	line, rest, ok := hsCutLine(head)
	if !ok {
		return "", nil, errors.New("head does not end with an empty line")
	}
	if len(line) == 0 {
		return "", nil, errors.New("empty start line")
	}
	start = string(line)
	h = make(http.Header)
	last := "" // the previous field's name, for folded lines
	for {
		if line, rest, ok = hsCutLine(rest); !ok {
			return "", nil, errors.New("head does not end with an empty line")
		}
		if len(line) == 0 {
			break
		}
		if line[0] == ' ' || line[0] == '\t' {
			// Obsolete line folding (RFC 9112 section 5.2): a server may
			// replace it with SP, as net/http does, so both server paths
			// see the same value. Before the first field it is an error.
			if last == "" {
				return "", nil, errors.New("obsolete line folding before the first header")
			}
			vs := h[last]
			folded := string(bytes.Trim(line, " \t"))
			if !hsValidValue(folded) {
				return "", nil, fmt.Errorf("invalid value for header %s", hsQuote(last))
			}
			if folded != "" {
				vs[len(vs)-1] += " " + folded
			}
			continue
		}
		name, value, ok := bytes.Cut(line, []byte(":"))
		if !ok || !hsIsToken(string(name)) {
			return "", nil, fmt.Errorf("malformed header line %s", hsQuote(string(line)))
		}
		value = bytes.Trim(value, " \t")
		if !hsValidValue(string(value)) {
			return "", nil, fmt.Errorf("invalid value for header %s", hsQuote(string(name)))
		}
		key := textproto.CanonicalMIMEHeaderKey(string(name))
		h[key] = append(h[key], string(value))
		last = key
	}
	if len(rest) != 0 {
		return "", nil, errors.New("data after the end of the head")
	}
	return start, h, nil
}

// hsQuote quotes s for an error message, truncated: the head may hold kilobytes of
// whatever a peer sent, which would only flood logs.
func hsQuote(s string) string {
	if len(s) > 64 {
		return strconv.Quote(s[:64]) + "..."
	}
	return strconv.Quote(s)
}

// hsCutLine returns the line before the first LF, without a CR just before it.
func hsCutLine(b []byte) (line, rest []byte, ok bool) {
	line, rest, ok = bytes.Cut(b, []byte("\n"))
	return bytes.TrimSuffix(line, []byte("\r")), rest, ok
}

// hsParseVersion parses "HTTP/" DIGIT "." DIGIT (RFC 9112 section 2.3; "HTTP" is
// case-sensitive).
func hsParseVersion(s string) (major, minor int, ok bool) {
	if len(s) != 8 || s[:5] != "HTTP/" || s[6] != '.' || !hsDigits(s[5:6]) || !hsDigits(s[7:]) {
		return 0, 0, false
	}
	return int(s[5] - '0'), int(s[7] - '0'), true
}

// hsHasToken reports whether any comma-separated element of any name header line
// equals token, case-insensitively (the RFC 9110 section 5.6.1 list rules).
func hsHasToken(h http.Header, name, token string) bool {
	for _, v := range h.Values(name) {
		for elem := range strings.SplitSeq(v, ",") {
			if strings.EqualFold(strings.Trim(elem, " \t"), token) {
				return true
			}
		}
	}
	return false
}

func hsIndex(list []string, s string) int {
	for i, x := range list {
		if x == s {
			return i
		}
	}
	return -1
}
