package proto

import (
	"bufio"
	"bytes"
	"errors"
	"net/http"
	"strings"
	"testing"
)

// TestParseRequestBody: a request with a body, or with conflicting
// Content-Length headers, is refused with 400 (issue 15 item 5); an explicit
// Content-Length: 0 is no body.
func TestParseRequestBody(t *testing.T) {
	tests := []struct {
		name   string
		head   []byte
		status int
	}{
		{"Content-Length 5", hsAdd("Content-Length: 5"), 400},
		{"chunked", hsAdd("Transfer-Encoding: chunked"), 400},
		{"identity TE", hsAdd("Transfer-Encoding: identity"), 400},
		{"conflicting Content-Length", hsAdd("Content-Length: 0", "Content-Length: 7"), 400},
		{"0 and 00", hsAdd("Content-Length: 0", "Content-Length: 00"), 400},
		{"list", hsAdd("Content-Length: 0, 0"), 400},
		{"signed", hsAdd("Content-Length: +0"), 400},
		{"HTTP/1.0", hsReplace("GET", "GET /chat HTTP/1.0"), 400},
		{"HTTP/2.0", hsReplace("GET", "GET /chat HTTP/2.0"), 505},
		{"bad percent-encoding", hsReplace("GET", "GET /a%zz HTTP/1.1"), 400},
		{"userinfo in authority", hsReplace("GET", "GET http://u@h/ HTTP/1.1"), 400},
	}
	for _, tt := range tests {
		_, err := ParseRequest(tt.head)
		var he *HTTPError
		if !errors.As(err, &he) || he.Status != tt.status || !errors.Is(err, ErrBadRequest) {
			t.Errorf("%s: ParseRequest error %v; want status %d", tt.name, err, tt.status)
		}
	}
	for _, ok := range [][]byte{hsAdd("Content-Length: 0"), hsAdd("Content-Length: 0", "Content-Length: 0")} {
		if _, err := ParseRequest(ok); err != nil {
			t.Errorf("%q: %v", ok, err)
		}
	}
}

// TestParseRequestAgreesWithNetHTTP: obsolete folding, HTTP/1.0, bodies and
// absolute-form targets get the same verdict and the same host from
// ParseRequest as from net/http's request reader (which the Upgrader sits
// behind), so that both server paths agree (issue 15 items 5 and 6).
func TestParseRequestAgreesWithNetHTTP(t *testing.T) {
	tests := []struct {
		name    string
		head    []byte
		ok      bool
		host, x string
	}{
		{"obs-fold", hsAdd("X-A: b", " \t c"), true, "server.example.com", "b c"},
		{"absolute form", hsReplace("GET", "GET http://evil.example/admin?q HTTP/1.1"), true, "evil.example", ""},
		{"double slash", hsReplace("GET", "GET //evil.example/admin HTTP/1.1"), true, "server.example.com", ""},
		{"fold before first field", hsReplace("GET /chat HTTP/1.1", "GET /chat HTTP/1.1\r\n folded"), false, "", ""},
		{"conflicting Content-Length", hsAdd("Content-Length: 0", "Content-Length: 7"), false, "", ""},
	}
	for _, tt := range tests {
		r, err := ParseRequest(tt.head)
		hr, herr := http.ReadRequest(bufio.NewReader(bytes.NewReader(tt.head)))
		if (err == nil) != tt.ok || (herr == nil) != tt.ok {
			t.Errorf("%s: ParseRequest %v, net/http %v; want ok=%v", tt.name, err, herr, tt.ok)
			continue
		}
		if !tt.ok {
			continue
		}
		if r.Host != tt.host || hr.Host != tt.host {
			t.Errorf("%s: host %q (net/http %q), want %q", tt.name, r.Host, hr.Host, tt.host)
		}
		if tt.x != "" && (r.Header.Get("X-A") != tt.x || hr.Header.Get("X-A") != tt.x) {
			t.Errorf("%s: X-A %q (net/http %q), want %q", tt.name, r.Header.Get("X-A"), hr.Header.Get("X-A"), tt.x)
		}
	}
}

// TestRequestURL: the URL comes from the parsed target, never pasted (issue
// 15 item 6, F6).
func TestRequestURL(t *testing.T) {
	tests := []struct {
		secure             bool
		host, target, want string
	}{
		{false, "victim.example", "/chat?a=b", "ws://victim.example/chat?a=b"},
		{true, "victim.example:8443", "/", "wss://victim.example:8443/"},
		{false, "evil.example", "http://evil.example/admin", "ws://evil.example/admin"},
		{false, "evil.example", "http://evil.example", "ws://evil.example/"},
		{false, "evil.example", "http://evil.example?x", "ws://evil.example/?x"},
		{false, "victim.example", "//evil.example/admin", "ws://victim.example//evil.example/admin"},
		{false, "[::1]:80", "/a%20b", "ws://[::1]:80/a%20b"},
		{false, "h", "/%zz", "ws://h/"},
	}
	for _, tt := range tests {
		if got := RequestURL(tt.secure, tt.host, tt.target); got != tt.want {
			t.Errorf("RequestURL(%v, %q, %q) = %q, want %q", tt.secure, tt.host, tt.target, got, tt.want)
		}
	}
}

// TestExtensionErrorBounded: a bad Sec-WebSocket-Extensions value of 8 KB is
// quoted in a bounded window, not whole (issue 15 item 4, F4).
func TestExtensionErrorBounded(t *testing.T) {
	val := strings.Repeat("a", 8000) + "@" + strings.Repeat("b", 8000)
	_, err := ParseRequest(hsAdd("Sec-WebSocket-Extensions: " + val))
	if !errors.Is(err, ErrBadRequest) {
		t.Fatalf("err %v", err)
	}
	if n := len(err.Error()); n > 300 {
		t.Errorf("error message has %d bytes: %.200s...", n, err.Error())
	}
	if !strings.Contains(err.Error(), "offset 8000") {
		t.Errorf("error %q does not say where", err)
	}
}
