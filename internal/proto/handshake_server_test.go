package proto

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// hsRFCRequest is the client handshake of RFC 6455 section 1.2.
var hsRFCRequest = []string{
	"GET /chat HTTP/1.1",
	"Host: server.example.com",
	"Upgrade: websocket",
	"Connection: Upgrade",
	"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==",
	"Origin: http://example.com",
	"Sec-WebSocket-Protocol: chat, superchat",
	"Sec-WebSocket-Version: 13",
}

// hsReplace returns hsRFCRequest with the line starting with prefix replaced by repl
// (removed when repl is "").
func hsReplace(prefix, repl string) []byte {
	var out []string
	for _, l := range hsRFCRequest {
		if strings.HasPrefix(l, prefix) {
			if repl != "" {
				out = append(out, repl)
			}
			continue
		}
		out = append(out, l)
	}
	return hsHead(out...)
}

func hsAdd(lines ...string) []byte {
	return hsHead(append(slices.Clone(hsRFCRequest), lines...)...)
}

func TestParseRequestRFC(t *testing.T) {
	head := hsHead(hsRFCRequest...)
	r, err := ParseRequest(head)
	if err != nil {
		t.Fatal(err)
	}
	if r.Method != "GET" || r.Target != "/chat" || r.Proto != "HTTP/1.1" || r.Host != "server.example.com" ||
		r.Key != hsRFCKey || !slices.Equal(r.Protocols, []string{"chat", "superchat"}) || r.Extensions != nil ||
		r.Header.Get("Origin") != "http://example.com" {
		t.Fatalf("ParseRequest = %+v", r)
	}
	// net/http agrees on what the request says.
	hr, err := http.ReadRequest(bufio.NewReader(bytes.NewReader(head)))
	if err != nil || hr.Method != r.Method || hr.RequestURI != r.Target || hr.Host != r.Host ||
		hr.Header.Get("Sec-WebSocket-Key") != r.Key || hr.Header.Get("Origin") != r.Header.Get("Origin") {
		t.Fatalf("net/http: %+v, %v", hr, err)
	}

	proto := SelectProtocol(r.Protocols, []string{"superchat", "chat"})
	got := string(AppendResponse(nil, r.Key, proto, "", nil))
	want := "HTTP/1.1 101 Switching Protocols\r\n" +
		"Upgrade: websocket\r\n" +
		"Connection: Upgrade\r\n" +
		"Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n" +
		"Sec-WebSocket-Protocol: chat\r\n" +
		"\r\n"
	if got != want {
		t.Fatalf("AppendResponse:\n%q\nwant\n%q", got, want)
	}
	// And the client side accepts it.
	resp, err := ParseResponse([]byte(got))
	if err != nil {
		t.Fatal(err)
	}
	if p, _, err := (&ClientRequest{Key: hsRFCKey, Protocols: []string{"chat", "superchat"}}).Check(resp); err != nil || p != "chat" {
		t.Fatalf("Check = %q, %v", p, err)
	}
}

func TestParseRequestVariants(t *testing.T) {
	tests := []struct {
		name  string
		head  []byte
		check func(*Request) bool
	}{
		{"bare LF", []byte(strings.Join(hsRFCRequest, "\n") + "\n\n"), func(r *Request) bool { return r.Key == hsRFCKey }},
		{"token lists", hsReplace("Connection", "connection: keep-alive, UPGRADE"), nil},
		{"Upgrade list", hsReplace("Upgrade", "Upgrade: foo/2, WebSocket"), nil},
		{"HTTP/1.2", hsReplace("GET", "GET /chat HTTP/1.2"), nil},
		{"absolute target", hsReplace("GET", "GET ws://server.example.com/chat?a=b HTTP/1.1"),
			func(r *Request) bool { return r.Target == "ws://server.example.com/chat?a=b" }},
		{"IPv6 host", hsReplace("Host", "Host: [::1]:8080"), func(r *Request) bool { return r.Host == "[::1]:8080" }},
		{"protocols across lines", hsReplace("Sec-WebSocket-Protocol", "Sec-WebSocket-Protocol: a,, b ,\r\nSec-WebSocket-Protocol: c"),
			func(r *Request) bool { return slices.Equal(r.Protocols, []string{"a", "b", "c"}) }},
		{"no protocols", hsReplace("Sec-WebSocket-Protocol", ""), func(r *Request) bool { return r.Protocols == nil }},
		{"extensions", hsAdd("Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits, x-y; a=\"1\""),
			func(r *Request) bool {
				return len(r.Extensions) == 2 && r.Extensions[0].Name == "permessage-deflate" &&
					r.Extensions[1].Params[0] == ExtensionParam{Name: "a", Value: "1", HasValue: true}
			}},
		{"OWS around values", hsReplace("Sec-WebSocket-Key", "Sec-WebSocket-Key: \t dGhlIHNhbXBsZSBub25jZQ== \t"),
			func(r *Request) bool { return r.Key == hsRFCKey }},
	}
	for _, tt := range tests {
		r, err := ParseRequest(tt.head)
		if err != nil || (tt.check != nil && !tt.check(r)) {
			t.Errorf("%s: ParseRequest = %+v, %v", tt.name, r, err)
		}
	}
}

func TestParseRequestErrors(t *testing.T) {
	tests := []struct {
		name   string
		head   []byte
		status int
	}{
		{"empty", nil, 400},
		{"only CRLF", []byte("\r\n"), 400},
		{"GET", []byte("GET\r\n\r\n"), 400},
		{"GET /", hsReplace("GET", "GET /"), 400},
		{"GET / alone", []byte("GET /\r\n\r\n"), 400},
		{"four tokens", hsReplace("GET", "GET /chat HTTP/1.1 x"), 400},
		{"double space", hsReplace("GET", "GET  /chat HTTP/1.1"), 400},
		{"empty target", hsReplace("GET", "GET  HTTP/1.1"), 400},
		{"binary garbage", []byte("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n"), 400},
		{"not terminated", []byte(strings.Join(hsRFCRequest, "\r\n")), 400},
		{"data after head", append(hsHead(hsRFCRequest...), 0x81, 0x00), 400},
		{"target not a path", hsReplace("GET", "GET chat HTTP/1.1"), 400},
		{"asterisk target", hsReplace("GET", "GET * HTTP/1.1"), 400},
		{"non-ASCII target", hsReplace("GET", "GET /caf\xc3\xa9 HTTP/1.1"), 400},
		{"not HTTP", hsReplace("GET", "GET /chat FTP/1.1"), 400},
		{"lowercase http", hsReplace("GET", "GET /chat http/1.1"), 400},
		{"HTTP/1.0", hsReplace("GET", "GET /chat HTTP/1.0"), 400},
		{"HTTP/2.0", hsReplace("GET", "GET /chat HTTP/2.0"), 505},
		{"POST", hsReplace("GET", "POST /chat HTTP/1.1"), 405},
		{"lowercase get", hsReplace("GET", "get /chat HTTP/1.1"), 405},
		{"space before colon", hsAdd("X-A : b"), 400},
		{"no colon", hsAdd("X-A b"), 400},
		{"obs-fold before the first field", hsReplace("GET /chat HTTP/1.1", "GET /chat HTTP/1.1\r\n folded"), 400},
		{"NUL in value", hsAdd("X-A: b\x00"), 400},
		{"no Host", hsReplace("Host", ""), 400},
		{"empty Host", hsReplace("Host", "Host:"), 400},
		{"two Hosts", hsAdd("Host: other"), 400},
		{"Host with userinfo", hsReplace("Host", "Host: u@server.example.com"), 400},
		{"Host with space", hsReplace("Host", "Host: a b"), 400},
		{"no Upgrade", hsReplace("Upgrade", ""), 400},
		{"Upgrade: h2c", hsReplace("Upgrade", "Upgrade: h2c"), 400},
		{"no Connection", hsReplace("Connection", ""), 400},
		{"Connection: keep-alive", hsReplace("Connection", "Connection: keep-alive"), 400},
		{"no version", hsReplace("Sec-WebSocket-Version", ""), 426},
		{"version 8", hsReplace("Sec-WebSocket-Version", "Sec-WebSocket-Version: 8"), 426},
		{"version list", hsReplace("Sec-WebSocket-Version", "Sec-WebSocket-Version: 13, 8"), 426},
		{"no key", hsReplace("Sec-WebSocket-Key", ""), 400},
		{"key not base64", hsReplace("Sec-WebSocket-Key", "Sec-WebSocket-Key: not base64 at all!!!!!!"), 400},
		{"key of 15 bytes", hsReplace("Sec-WebSocket-Key", "Sec-WebSocket-Key: AAECAwQFBgcICQoLDA0O"), 400},
		{"key of 17 bytes", hsReplace("Sec-WebSocket-Key", "Sec-WebSocket-Key: AAECAwQFBgcICQoLDA0ODxA="), 400},
		{"two keys", hsAdd("Sec-WebSocket-Key: AAECAwQFBgcICQoLDA0ODw=="), 400},
		{"bad extensions", hsAdd("Sec-WebSocket-Extensions: permessage-deflate; =1"), 400},
	}
	for _, tt := range tests {
		r, err := ParseRequest(tt.head)
		var he *HTTPError
		if r != nil || !errors.As(err, &he) || he.Status != tt.status || !errors.Is(err, ErrBadRequest) {
			t.Errorf("%s: ParseRequest = %+v, %v; want status %d", tt.name, r, err, tt.status)
			continue
		}
		if !strings.Contains(err.Error(), strconv.Itoa(tt.status)) || he.Msg == "" {
			t.Errorf("%s: poor error text %q", tt.name, err)
		}
	}
	// Msg is sent back to the client, so it must not echo what the client sent;
	// Detail, for logs, quotes a bounded prefix.
	long := "GET /<script>" + strings.Repeat("a", 200)
	_, err := ParseRequest(hsHead(long, "Host: x"))
	var he *HTTPError
	if !errors.As(err, &he) || strings.Contains(he.Msg, "script") || !strings.Contains(he.Detail, "<script>") ||
		len(he.Detail) > 100 || !strings.HasSuffix(he.Detail, "...") {
		t.Errorf("long request line: Msg %q Detail %q", he.Msg, he.Detail)
	}
	_, err = ParseRequest(hsAdd("Sec-WebSocket-Extensions: ;"))
	if !errors.Is(err, ErrBadExtension) {
		t.Errorf("bad extensions error %v does not match ErrBadExtension", err)
	}
}

func TestSelectProtocol(t *testing.T) {
	tests := []struct {
		offered, supported []string
		want               string
	}{
		{[]string{"chat", "superchat"}, []string{"superchat", "chat"}, "chat"},
		{[]string{"a", "b"}, []string{"b"}, "b"},
		{[]string{"a"}, []string{"A"}, ""},
		{[]string{"a"}, nil, ""},
		{nil, []string{"a"}, ""},
	}
	for _, tt := range tests {
		if got := SelectProtocol(tt.offered, tt.supported); got != tt.want {
			t.Errorf("SelectProtocol(%q, %q) = %q, want %q", tt.offered, tt.supported, got, tt.want)
		}
	}
}

func TestAppendResponseFull(t *testing.T) {
	got := string(AppendResponse([]byte("x"), hsRFCKey, "", "permessage-deflate; server_no_context_takeover",
		http.Header{"Set-Cookie": {"a=1", "b=2"}, "Date": {"today"}}))
	want := "xHTTP/1.1 101 Switching Protocols\r\n" +
		"Upgrade: websocket\r\n" +
		"Connection: Upgrade\r\n" +
		"Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n" +
		"Sec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover\r\n" +
		"Date: today\r\n" +
		"Set-Cookie: a=1\r\n" +
		"Set-Cookie: b=2\r\n" +
		"\r\n"
	if got != want {
		t.Fatalf("AppendResponse:\n%q\nwant\n%q", got, want)
	}
}

func TestAppendErrorResponse(t *testing.T) {
	got := string(AppendErrorResponse(nil, 426, "use 13", http.Header{"X-Why": {"old"}}))
	want := "HTTP/1.1 426 Upgrade Required\r\n" +
		"Connection: Upgrade, close\r\n" +
		"Upgrade: websocket\r\n" +
		"Sec-WebSocket-Version: 13\r\n" +
		"Content-Type: text/plain; charset=utf-8\r\n" +
		"Content-Length: 7\r\n" +
		"X-Why: old\r\n" +
		"\r\n" +
		"use 13\n"
	if got != want {
		t.Fatalf("426:\n%q\nwant\n%q", got, want)
	}
	for _, tt := range []struct {
		status     int
		wantStatus int
		header     string
	}{
		{400, 400, ""}, {405, 405, "GET"}, {431, 431, ""}, {505, 505, ""}, {599, 599, ""}, {42, 500, ""}, {1000, 500, ""},
	} {
		b := AppendErrorResponse(nil, tt.status, "msg", nil)
		// net/http reads our answer as a complete, closing response.
		resp, err := http.ReadResponse(bufio.NewReader(bytes.NewReader(b)), nil)
		if err != nil {
			t.Fatalf("%d: %v", tt.status, err)
		}
		body := hsReadBody(resp)
		if resp.StatusCode != tt.wantStatus || !resp.Close || body != "msg\n" ||
			resp.Header.Get("Allow") != tt.header {
			t.Errorf("%d: %q -> %+v body %q", tt.status, b, resp, body)
		}
	}
	// The 431 answer for an oversized head.
	he := AsHTTPError(fmt.Errorf("reading: %w", ErrHeadTooLarge))
	if he.Status != 431 || !errors.Is(he, ErrHeadTooLarge) {
		t.Fatalf("AsHTTPError(ErrHeadTooLarge) = %+v", he)
	}
	_, err := ParseRequest(nil)
	if got := AsHTTPError(err); got.Status != 400 || got != err {
		t.Fatalf("AsHTTPError(HTTPError) = %+v", got)
	}
	if got := AsHTTPError(errors.New("eof")); got.Status != 400 {
		t.Fatalf("AsHTTPError(other) = %+v", got)
	}
}

func hsReadBody(resp *http.Response) string {
	var b bytes.Buffer
	b.ReadFrom(resp.Body)
	resp.Body.Close()
	return b.String()
}

func TestCheckHeader(t *testing.T) {
	good := http.Header{"Origin": {"http://a"}, "Authorization": {"Bearer x\ty"}, "X-Utf8": {"caf\xc3\xa9"}, "X-Empty": {""}}
	if err := CheckHeader(good); err != nil {
		t.Fatal(err)
	}
	if err := CheckHeader(nil); err != nil {
		t.Fatal(err)
	}
	bad := []http.Header{
		{"X-A": {"b\r\nEvil: 1"}},
		{"X-A": {"b\nc"}},
		{"X-A": {"b\x00"}},
		{"X-A": {"ok", "b\x7f"}},
		{"X A": {"b"}},
		{"": {"b"}},
		{"X-A:": {"b"}},
		{"Host": {"a"}},
		{"upgrade": {"a"}},
		{"CONNECTION": {"close"}},
		{"Content-Length": {"0"}},
		{"Transfer-Encoding": {"chunked"}},
		{"Sec-Websocket-Protocol": {"x"}},
		{"sec-websocket-anything": {"x"}},
	}
	for _, h := range bad {
		if err := CheckHeader(h); !errors.Is(err, ErrInvalidHeader) {
			t.Errorf("CheckHeader(%q) = %v, want ErrInvalidHeader", h, err)
		}
	}
}
