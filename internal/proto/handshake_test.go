package proto

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
)

// hsRFCKey and hsRFCAccept are the example of RFC 6455 section 1.3.
const (
	hsRFCKey    = "dGhlIHNhbXBsZSBub25jZQ=="
	hsRFCAccept = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
)

// hsHead joins lines with CRLF and adds the empty line that ends a head.
func hsHead(lines ...string) []byte {
	return []byte(strings.Join(lines, "\r\n") + "\r\n\r\n")
}

func TestAcceptKeyRFC(t *testing.T) {
	if got := AcceptKey(hsRFCKey); got != hsRFCAccept {
		t.Fatalf("AcceptKey(%q) = %q, want %q", hsRFCKey, got, hsRFCAccept)
	}
}

type hsSeqReader struct{ next byte }

func (r *hsSeqReader) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = r.next
		r.next++
	}
	return len(p), nil
}

func TestNewClientKey(t *testing.T) {
	// Bytes 0x00..0x0f, encoded by hand: 000102 -> AAEC, 030405 -> AwQF, ...
	got, err := NewClientKey(&hsSeqReader{})
	if err != nil || got != "AAECAwQFBgcICQoLDA0ODw==" {
		t.Fatalf("NewClientKey(seq) = %q, %v", got, err)
	}
	if _, err := NewClientKey(strings.NewReader("short")); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("short reader: err = %v, want io.ErrUnexpectedEOF", err)
	}
	a, err1 := NewClientKey(nil)
	b, err2 := NewClientKey(nil)
	if err1 != nil || err2 != nil || !hsValidKey(a) || !hsValidKey(b) || a == b {
		t.Fatalf("random keys %q %q (%v %v)", a, b, err1, err2)
	}
}

func TestHostHeader(t *testing.T) {
	tests := []struct {
		host   string
		port   int
		secure bool
		want   string
	}{
		{"example.com", 80, false, "example.com"},
		{"example.com", 443, true, "example.com"},
		{"example.com", 443, false, "example.com:443"},
		{"example.com", 80, true, "example.com:80"},
		{"example.com", 8080, false, "example.com:8080"},
		{"example.com", 0, true, "example.com"},
		{"::1", 8080, false, "[::1]:8080"},
		{"[::1]", 8080, false, "[::1]:8080"},
		{"::1", 80, false, "[::1]"},
		{"fe80::1%eth0", 9000, true, "[fe80::1]:9000"},
		{"127.0.0.1", 9000, false, "127.0.0.1:9000"},
	}
	for _, tt := range tests {
		if got := HostHeader(tt.host, tt.port, tt.secure); got != tt.want {
			t.Errorf("HostHeader(%q, %d, %v) = %q, want %q", tt.host, tt.port, tt.secure, got, tt.want)
		}
	}
}

func hsSampleRequest() *ClientRequest {
	return &ClientRequest{
		Target:     "/chat?x=1",
		Host:       HostHeader("example.com", 8080, false),
		Key:        hsRFCKey,
		Protocols:  []string{"chat", "superchat"},
		Extensions: "permessage-deflate; client_max_window_bits",
		Header: http.Header{
			"User-Agent": {"wspeer"},
			"Origin":     {"http://example.com"},
			"X-Multi":    {"a", "b"},
		},
	}
}

func TestClientRequestAppendTo(t *testing.T) {
	want := "GET /chat?x=1 HTTP/1.1\r\n" +
		"Host: example.com:8080\r\n" +
		"Upgrade: websocket\r\n" +
		"Connection: Upgrade\r\n" +
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n" +
		"Sec-WebSocket-Version: 13\r\n" +
		"Sec-WebSocket-Protocol: chat, superchat\r\n" +
		"Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n" +
		"Origin: http://example.com\r\n" +
		"User-Agent: wspeer\r\n" +
		"X-Multi: a\r\n" +
		"X-Multi: b\r\n" +
		"\r\n"
	req := hsSampleRequest()
	if err := req.Validate(); err != nil {
		t.Fatal(err)
	}
	got := string(req.AppendTo([]byte("prefix")))
	if got != "prefix"+want {
		t.Fatalf("AppendTo:\n%q\nwant\n%q", got, want)
	}

	// Independent cross-checks: net/http reads it, and so does our own server side.
	hr, err := http.ReadRequest(bufio.NewReader(strings.NewReader(want)))
	if err != nil || hr.Method != "GET" || hr.RequestURI != "/chat?x=1" || hr.Host != "example.com:8080" ||
		hr.Header.Get("Sec-WebSocket-Key") != hsRFCKey || len(hr.Header["X-Multi"]) != 2 {
		t.Fatalf("net/http reads %+v, %v", hr, err)
	}
	sr, err := ParseRequest([]byte(want))
	if err != nil || sr.Key != hsRFCKey || len(sr.Protocols) != 2 || len(sr.Extensions) != 1 {
		t.Fatalf("ParseRequest: %+v, %v", sr, err)
	}

	minimal := (&ClientRequest{Host: "[::1]:8080", Key: hsRFCKey}).AppendTo(nil)
	wantMin := "GET / HTTP/1.1\r\nHost: [::1]:8080\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
	if string(minimal) != wantMin {
		t.Fatalf("minimal request:\n%q\nwant\n%q", minimal, wantMin)
	}
}

func TestClientRequestValidate(t *testing.T) {
	tests := []struct {
		name string
		mod  func(r *ClientRequest)
	}{
		{"target without slash", func(r *ClientRequest) { r.Target = "chat" }},
		{"target with space", func(r *ClientRequest) { r.Target = "/a b" }},
		{"target with CRLF", func(r *ClientRequest) { r.Target = "/a\r\nX: y" }},
		{"empty host", func(r *ClientRequest) { r.Host = "" }},
		{"host with LF", func(r *ClientRequest) { r.Host = "a\nb" }},
		{"short key", func(r *ClientRequest) { r.Key = "AAAA" }},
		{"key of 17 bytes", func(r *ClientRequest) { r.Key = "AAECAwQFBgcICQoLDA0ODxA=" }},
		{"protocol with space", func(r *ClientRequest) { r.Protocols = []string{"a b"} }},
		{"empty protocol", func(r *ClientRequest) { r.Protocols = []string{""} }},
		{"duplicate protocol", func(r *ClientRequest) { r.Protocols = []string{"a", "b", "a"} }},
		{"bad extensions", func(r *ClientRequest) { r.Extensions = "a;;" }},
		{"managed header", func(r *ClientRequest) { r.Header = http.Header{"Sec-Websocket-Key": {"x"}} }},
	}
	for _, tt := range tests {
		r := hsSampleRequest()
		tt.mod(r)
		if err := r.Validate(); !errors.Is(err, ErrInvalidHeader) {
			t.Errorf("%s: Validate() = %v, want ErrInvalidHeader", tt.name, err)
		}
	}
	r := hsSampleRequest()
	r.Target, r.Extensions, r.Header, r.Protocols = "", "", nil, nil
	if err := r.Validate(); err != nil {
		t.Errorf("minimal request: %v", err)
	}
}

// hsFeedAll feeds chunks in order, stopping at done or error, and returns the total
// consumed.
func hsFeedAll(h *HeadReader, chunks ...[]byte) (int, bool, error) {
	total := 0
	for _, c := range chunks {
		n, done, err := h.Feed(c)
		total += n
		if done || err != nil {
			return total, done, err
		}
		if n != len(c) {
			return total, false, errors.New("partial consume without done")
		}
	}
	return total, false, nil
}

func TestHeadReaderSplits(t *testing.T) {
	head := "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n"
	in := head + "\x81\x02hi"
	for i := 0; i <= len(in); i++ {
		var h HeadReader
		n, done, err := hsFeedAll(&h, []byte(in[:i]), []byte(in[i:]))
		if err != nil || !done || n != len(head) || string(h.Head()) != head {
			t.Fatalf("split at %d: n=%d done=%v err=%v head=%q", i, n, done, err, h.Head())
		}
	}
	// One byte at a time.
	var h HeadReader
	for i := 0; i < len(in); i++ {
		n, done, err := h.Feed([]byte{in[i]})
		if err != nil || (i < len(head) && n != 1) || (i >= len(head) && n != 0) || done != (i >= len(head)-1) {
			t.Fatalf("byte %d: n=%d done=%v err=%v", i, n, done, err)
		}
	}
}

func TestHeadReaderLineEndings(t *testing.T) {
	tests := []struct{ in, head string }{
		{"A\n\nrest", "A\n\n"},
		{"A\nB: c\n\r\nrest", "A\nB: c\n\r\n"},
		{"A\r\nB: c\r\n\nrest", "A\r\nB: c\r\n\n"},
		{"\r\nrest", "\r\n"}, // an empty first line ends the head; the parser rejects it
		{"A\r\r\n\r\n", "A\r\r\n\r\n"},
	}
	for _, tt := range tests {
		var h HeadReader
		n, done, err := h.Feed([]byte(tt.in))
		if err != nil || !done || string(h.Head()) != tt.head || n != len(tt.head) {
			t.Errorf("Feed(%q) = %d, %v, %v; head %q", tt.in, n, done, err, h.Head())
		}
	}
	// A lone CR in the middle of a line does not end anything.
	var h HeadReader
	if _, done, _ := h.Feed([]byte("A\n\r\r\n")); done {
		t.Errorf("CR CR LF taken as empty line")
	}
}

func TestHeadReaderMax(t *testing.T) {
	head := "GET / HTTP/1.1\r\nX: " + strings.Repeat("a", 20) + "\r\n\r\n"
	h := HeadReader{Max: len(head)}
	if n, done, err := h.Feed([]byte(head + "extra")); err != nil || !done || n != len(head) {
		t.Fatalf("exactly Max: %d %v %v", n, done, err)
	}
	// Max+1 bytes with the end one byte too late.
	h = HeadReader{Max: len(head) - 1}
	n, done, err := h.Feed([]byte(head))
	if !errors.Is(err, ErrHeadTooLarge) || done || n != len(head)-1 || h.Head() != nil {
		t.Fatalf("Max-1: %d %v %v", n, done, err)
	}
	if n, _, err := h.Feed([]byte("x")); n != 0 || err != ErrHeadTooLarge {
		t.Fatalf("after error: %d %v", n, err)
	}
	// The error comes as soon as Max bytes are held, even in small pieces.
	h = HeadReader{Max: 10}
	if _, _, err := hsFeedAll(&h, []byte("0123456"), []byte("789"), []byte("\n\n")); err != ErrHeadTooLarge {
		t.Fatalf("chunked Max: %v", err)
	}
	// Default bound.
	var d HeadReader
	big := bytes.Repeat([]byte("a"), DefaultMaxHandshakeSize+5)
	if n, _, err := d.Feed(big); n != DefaultMaxHandshakeSize || err != ErrHeadTooLarge {
		t.Fatalf("default Max: %d %v", n, err)
	}
	// Reset makes the reader reusable and keeps Max.
	d.Reset()
	if n, done, err := d.Feed([]byte("A\n\nB")); n != 3 || !done || err != nil || d.Max != 0 {
		t.Fatalf("after Reset: %d %v %v", n, done, err)
	}
	if n, done, err := d.Feed([]byte("more")); n != 0 || !done || err != nil {
		t.Fatalf("Feed after done: %d %v %v", n, done, err)
	}
}

func TestParseResponse(t *testing.T) {
	r, err := ParseResponse(hsHead("HTTP/1.1 404 Not Found", "X-A: 1", "x-a:2", "Empty:", "Utf8: caf\xc3\xa9\t"))
	if err != nil || r.Proto != "HTTP/1.1" || r.Status != 404 || r.Reason != "Not Found" ||
		len(r.Header["X-A"]) != 2 || r.Header.Get("X-A") != "1" || r.Header["X-A"][1] != "2" ||
		r.Header.Get("Empty") != "" || r.Header.Get("Utf8") != "caf\xc3\xa9" {
		t.Fatalf("ParseResponse = %+v, %v", r, err)
	}
	if r, err := ParseResponse([]byte("HTTP/1.0 101\n\n")); err != nil || r.Status != 101 || r.Reason != "" {
		t.Fatalf("no reason, bare LF: %+v %v", r, err)
	}
	bad := []string{
		"",
		"\r\n",
		"HTTP/1.1 101 OK\r\n",               // not terminated
		"HTTP/1.1 101 OK\r\nA: b\r\n",       // not terminated
		"HTTP/1.1 101 OK\r\n\r\nframes",     // data after the head
		"HTTP/1.1 1010 OK\r\n\r\n",          // four digits
		"HTTP/1.1 10 OK\r\n\r\n",            // two digits
		"HTTP/1.1 0101 OK\r\n\r\n",          // leading zero
		"HTTP/1.1 abc OK\r\n\r\n",           // not digits
		"http/1.1 101 OK\r\n\r\n",           // HTTP-name is case-sensitive
		"HTTP/11 101 OK\r\n\r\n",            // malformed version
		"HTTP/1.1\r\n\r\n",                  // no status
		"HTTP/1.1 101 O\x01K\r\n\r\n",       // control byte in reason
		"HTTP/1.1 101 OK\r\nA b: c\r\n\r\n", // space in name
		"HTTP/1.1 101 OK\r\nA : c\r\n\r\n",  // space before colon
		"HTTP/1.1 101 OK\r\nnocolon\r\n\r\n",
		"HTTP/1.1 101 OK\r\n: v\r\n\r\n",
		"HTTP/1.1 101 OK\r\n c\r\nA: b\r\n\r\n", // obs-fold before the first field
		"HTTP/1.1 101 OK\r\nA: b\x00c\r\n\r\n",
		"HTTP/1.1 101 OK\r\nA: b\rc\r\n\r\n",
	}
	for _, in := range bad {
		if r, err := ParseResponse([]byte(in)); !errors.Is(err, ErrBadResponse) {
			t.Errorf("ParseResponse(%q) = %+v, %v; want ErrBadResponse", in, r, err)
		}
	}
}

func TestClientRequestCheck(t *testing.T) {
	base := []string{"HTTP/1.1 101 Switching Protocols", "Upgrade: websocket", "Connection: Upgrade",
		"Sec-WebSocket-Accept: " + hsRFCAccept}
	with := func(lines ...string) []string { return append(append([]string{}, base...), lines...) }
	req := &ClientRequest{Host: "x", Key: hsRFCKey, Protocols: []string{"chat", "superchat"},
		Extensions: "permessage-deflate; client_max_window_bits, x-foo"}
	bare := &ClientRequest{Host: "x", Key: hsRFCKey}
	tests := []struct {
		name       string
		req        *ClientRequest
		lines      []string
		ok         bool
		proto, ext string
	}{
		{"minimal", bare, base, true, "", ""},
		{"offered but none chosen", req, base, true, "", ""},
		{"protocol chosen", req, with("Sec-WebSocket-Protocol: superchat"), true, "superchat", ""},
		{"keep-alive, Upgrade token", bare, []string{"HTTP/1.1 101 x", "upgrade: WebSocket",
			"Connection: keep-alive, Upgrade", "sec-websocket-accept: " + hsRFCAccept}, true, "", ""},
		{"repeated Connection lines", bare, []string{"HTTP/1.1 101 x", "Upgrade: websocket",
			"Connection: keep-alive", "Connection: upgrade", "Sec-WebSocket-Accept: " + hsRFCAccept}, true, "", ""},
		{"HTTP/1.2", bare, append([]string{"HTTP/1.2 101 x"}, base[1:]...), true, "", ""},
		{"extensions", req, with("Sec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover",
			"Sec-WebSocket-Extensions: x-foo"), true, "",
			"permessage-deflate; server_no_context_takeover, x-foo"},

		{"HTTP/1.0", bare, append([]string{"HTTP/1.0 101 x"}, base[1:]...), false, "", ""},
		{"wrong accept", bare, append(base[:3:3], "Sec-WebSocket-Accept: x"+hsRFCAccept[1:]), false, "", ""},
		{"accept twice", bare, with("Sec-WebSocket-Accept: " + hsRFCAccept), false, "", ""},
		{"no accept", bare, base[:3], false, "", ""},
		{"no Upgrade", bare, []string{base[0], base[2], base[3]}, false, "", ""},
		{"Upgrade: h2c", bare, []string{base[0], "Upgrade: h2c", base[2], base[3]}, false, "", ""},
		{"no Connection", bare, []string{base[0], base[1], base[3]}, false, "", ""},
		{"Connection: keep-alive", bare, []string{base[0], base[1], "Connection: keep-alive", base[3]}, false, "", ""},
		{"protocol not requested", req, with("Sec-WebSocket-Protocol: other"), false, "", ""},
		{"protocol when none requested", bare, with("Sec-WebSocket-Protocol: chat"), false, "", ""},
		{"two protocols in one line", req, with("Sec-WebSocket-Protocol: chat, superchat"), false, "", ""},
		{"two protocol lines", req, with("Sec-WebSocket-Protocol: chat", "Sec-WebSocket-Protocol: chat"), false, "", ""},
		{"empty protocol", req, with("Sec-WebSocket-Protocol:"), false, "", ""},
		{"extension not offered", req, with("Sec-WebSocket-Extensions: x-bar"), false, "", ""},
		{"extension when none offered", bare, with("Sec-WebSocket-Extensions: x-foo"), false, "", ""},
		{"malformed extensions", req, with("Sec-WebSocket-Extensions: x-foo;"), false, "", ""},
	}
	for _, tt := range tests {
		resp, err := ParseResponse(hsHead(tt.lines...))
		if err != nil {
			t.Fatalf("%s: parse: %v", tt.name, err)
		}
		proto, ext, err := tt.req.Check(resp)
		if tt.ok && (err != nil || proto != tt.proto || ext != tt.ext) {
			t.Errorf("%s: Check = %q, %q, %v; want %q, %q", tt.name, proto, ext, err, tt.proto, tt.ext)
		}
		if !tt.ok && (!errors.Is(err, ErrBadResponse) || proto != "" || ext != "") {
			t.Errorf("%s: Check = %q, %q, %v; want ErrBadResponse", tt.name, proto, ext, err)
		}
	}

	// A non-101 status is a *StatusError, even from an HTTP/1.0 server.
	resp, _ := ParseResponse(hsHead("HTTP/1.0 302 Found", "Location: /elsewhere"))
	_, _, err := bare.Check(resp)
	var se *StatusError
	if !errors.As(err, &se) || se.Status != 302 || se.Reason != "Found" || se.Header.Get("Location") != "/elsewhere" ||
		!errors.Is(err, ErrBadResponse) || !strings.Contains(err.Error(), "302") {
		t.Fatalf("302: %v", err)
	}
	if _, _, err := bare.Check(nil); !errors.Is(err, ErrBadResponse) {
		t.Fatalf("nil response: %v", err)
	}
	// Our own unparsable offer is reported rather than silently matched.
	broken := &ClientRequest{Key: hsRFCKey, Extensions: ";"}
	resp, _ = ParseResponse(hsHead(with("Sec-WebSocket-Extensions: x")...))
	if _, _, err := broken.Check(resp); !errors.Is(err, ErrBadExtension) {
		t.Fatalf("broken offer: %v", err)
	}
}
