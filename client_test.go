//go:build !js

package wspeer

import (
	"crypto/tls"
	"errors"
	"io"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/wspeer/wspeer/internal/proto"
)

// Godot checklist I.1: the client's request bytes.
func TestClientRequestBytes(t *testing.T) {
	s := newRawServer(t)
	p := NewPeer()
	p.SupportedProtocols = []string{"chat", "superchat"}
	p.HandshakeHeaders = map[string][]string{"X-Token": {"abc"}, "User-Agent": {"game/1.0"}}
	addr := s.ln.Addr().(*net.TCPAddr)
	url := "ws://user:p%40ss@localhost:" + itoa(addr.Port) + "/path/to?q=1&r=2#frag"
	if err := p.ConnectToURL(url, nil); err != nil {
		t.Fatal(err)
	}
	defer p.Close(-1, "")
	c, err := s.ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	go func() {
		for i := 0; i < 100 && p.ReadyState() == StateConnecting; i++ {
			p.Poll()
			time.Sleep(5 * time.Millisecond)
		}
	}()
	_ = c.SetDeadline(time.Now().Add(testTimeout))
	head := readHead(t, c)
	keyLine := lineWith(head, "Sec-WebSocket-Key: ")
	want := "GET /path/to?q=1&r=2 HTTP/1.1\r\n" +
		"Host: localhost:" + itoa(addr.Port) + "\r\n" +
		"Upgrade: websocket\r\nConnection: Upgrade\r\n" +
		keyLine + "\r\n" +
		"Sec-WebSocket-Version: 13\r\n" +
		"Sec-WebSocket-Protocol: chat, superchat\r\n" +
		"Authorization: Basic dXNlcjpwQHNz\r\n" + // user:p@ss
		"User-Agent: game/1.0\r\nX-Token: abc\r\n\r\n"
	if head != want {
		t.Fatalf("request\n%q\nwant\n%q", head, want)
	}
	if p.RequestedURL() != url {
		t.Fatalf("RequestedURL %q", p.RequestedURL())
	}
}

func readHead(t *testing.T, c net.Conn) string {
	t.Helper()
	var b []byte
	one := make([]byte, 1)
	for !strings.HasSuffix(string(b), "\r\n\r\n") {
		if _, err := c.Read(one); err != nil {
			t.Fatalf("reading head: %v (%q)", err, b)
		}
		b = append(b, one[0])
	}
	return string(b)
}

func lineWith(head, prefix string) string {
	for _, l := range strings.Split(head, "\r\n") {
		if strings.HasPrefix(l, prefix) {
			return l
		}
	}
	return ""
}

func itoa(n int) string { return strconv.Itoa(n) }

func hostHeaderOf(t *target) string { return proto.HostHeader(t.host, t.port, t.secure) }

func TestClientHostHeaders(t *testing.T) {
	tests := []struct{ url, host, target string }{
		{"ws://example.com", "example.com", "/"},
		{"ws://example.com:80/", "example.com", "/"},
		{"wss://example.com:443/x", "example.com", "/x"},
		{"ws://example.com:443", "example.com:443", "/"},
		{"ws://[::1]:9000/a", "[::1]:9000", "/a"},
		{"ws://[::1]", "[::1]", "/"},
		{"ws://host?x=1", "host", "/?x=1"},
		{"abc", "abc", "/"},
		{"WS://Example.COM/Path", "example.com", "/Path"},
	}
	for _, tt := range tests {
		tg, err := parseURL(tt.url)
		if err != nil {
			t.Fatalf("%s: %v", tt.url, err)
		}
		req := hostHeaderOf(tg)
		if !strings.EqualFold(req, tt.host) || tg.path != tt.target {
			t.Errorf("%s: Host %q target %q, want %q %q", tt.url, req, tg.path, tt.host, tt.target)
		}
	}
}

// Godot checklist I.2: URL errors and ErrInUse.
func TestConnectToURLErrors(t *testing.T) {
	for _, u := range []string{"", "http://x", "ftp://x/", "ws://", "ws://x:0", "ws://x:65536", "ws://x:", "ws://[::1", "ws://x:abc", "ws:///path"} {
		p := NewPeer()
		if err := p.ConnectToURL(u, nil); !errors.Is(err, ErrInvalidParameter) {
			t.Errorf("%q: %v", u, err)
		}
		if p.ReadyState() != StateClosed {
			t.Errorf("%q: state %v", u, p.ReadyState())
		}
	}
	p := NewPeer()
	if err := p.ConnectToURL("wss://x", &tls.Config{ClientAuth: tls.RequireAnyClientCert}); !errors.Is(err, ErrInvalidParameter) {
		t.Errorf("server TLS config: %v", err)
	}
	// Invalid settings are refused when the connection starts.
	for _, set := range []func(*Peer){
		func(p *Peer) { p.InboundBufferSize = 0 },
		func(p *Peer) { p.OutboundBufferSize = -1 },
		func(p *Peer) { p.MaxQueuedPackets = 0 },
		func(p *Peer) { p.HeartbeatInterval = -time.Second },
		func(p *Peer) { p.SupportedProtocols = []string{"a b"} },
		func(p *Peer) { p.HandshakeHeaders = map[string][]string{"Upgrade": {"x"}} },
		func(p *Peer) { p.HandshakeHeaders = map[string][]string{"X": {"a\r\nInjected: 1"}} },
	} {
		p := NewPeer()
		set(p)
		if err := p.ConnectToURL("ws://127.0.0.1:1/", nil); !errors.Is(err, ErrInvalidParameter) {
			t.Errorf("settings accepted: %v", err)
		}
	}
	// A zero Peer cannot connect.
	var zero Peer
	if err := zero.ConnectToURL("ws://127.0.0.1:1/", nil); !errors.Is(err, ErrInvalidParameter) {
		t.Errorf("zero peer: %v", err)
	}

	// "abc" is a valid URL (ws://abc/), and ErrInUse while CONNECTING or OPEN.
	s := newRawServer(t)
	p = NewPeer()
	if err := p.ConnectToURL(s.url("/"), nil); err != nil {
		t.Fatal(err)
	}
	defer p.Close(-1, "")
	if err := p.ConnectToURL(s.url("/"), nil); !errors.Is(err, ErrInUse) {
		t.Fatalf("CONNECTING: %v", err)
	}
	go func() { s.accept(); s.respond("") }()
	pollUntil(t, p, "OPEN", stateIs(p, StateOpen))
	if err := p.ConnectToURL(s.url("/"), nil); !errors.Is(err, ErrInUse) {
		t.Fatalf("OPEN: %v", err)
	}
	if err := p.AcceptStream(nil); !errors.Is(err, ErrInvalidParameter) {
		t.Fatalf("nil stream: %v", err)
	}
	a, b := net.Pipe()
	defer b.Close()
	if err := p.AcceptStream(a); !errors.Is(err, ErrInUse) {
		t.Fatalf("AcceptStream while OPEN: %v", err)
	}
	// CLOSING allows a new connection, which resets the close code.
	if err := p.Close(1000, ""); err != nil {
		t.Fatal(err)
	}
	if p.ReadyState() != StateClosing {
		t.Fatalf("state %v", p.ReadyState())
	}
	if err := p.ConnectToURL(s.url("/again"), nil); err != nil {
		t.Fatalf("CLOSING: %v", err)
	}
	if p.ReadyState() != StateConnecting || p.CloseCode() != -1 || p.SelectedProtocol() != "" {
		t.Fatal("not reset")
	}
}

// Godot checklist I.3: response validation; each failure ends CLOSED with -1.
func TestClientResponseValidation(t *testing.T) {
	good := func(req string) string {
		return "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: " + acceptFor(req) + "\r\n"
	}
	tests := []struct {
		name      string
		protocols []string
		response  func(key string) string
		ok        bool
		protocol  string
	}{
		{"101", nil, func(k string) string { return "HTTP/1.1 101 Switching Protocols\r\n" + good(k) }, true, ""},
		{"non-101", nil, func(k string) string { return "HTTP/1.1 200 OK\r\n" + good(k) }, false, ""},
		{"403", nil, func(k string) string { return "HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n" }, false, ""},
		{"HTTP/1.0", nil, func(k string) string { return "HTTP/1.0 101 Switching Protocols\r\n" + good(k) }, false, ""},
		{"wrong accept", nil, func(k string) string { return "HTTP/1.1 101 Switching Protocols\r\n" + good("x") }, false, ""},
		{"connection token list", nil, func(k string) string {
			return "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: keep-alive, Upgrade\r\nSec-WebSocket-Accept: " + acceptFor(k) + "\r\n"
		}, true, ""},
		{"protocol not requested", []string{"a"}, func(k string) string {
			return "HTTP/1.1 101 Switching Protocols\r\n" + good(k) + "Sec-WebSocket-Protocol: b\r\n"
		}, false, ""},
		{"protocol chosen", []string{"a", "b"}, func(k string) string {
			return "HTTP/1.1 101 Switching Protocols\r\n" + good(k) + "Sec-WebSocket-Protocol: b\r\n"
		}, true, "b"},
		{"no protocol when requested", []string{"a"}, func(k string) string { return "HTTP/1.1 101 Switching Protocols\r\n" + good(k) }, true, ""},
		{"protocol when none requested", nil, func(k string) string {
			return "HTTP/1.1 101 Switching Protocols\r\n" + good(k) + "Sec-WebSocket-Protocol: a\r\n"
		}, false, ""},
		{"extension not offered", nil, func(k string) string {
			return "HTTP/1.1 101 Switching Protocols\r\n" + good(k) + "Sec-WebSocket-Extensions: permessage-deflate\r\n"
		}, false, ""},
		{"headers too large", nil, func(k string) string {
			return "HTTP/1.1 101 Switching Protocols\r\n" + good(k) + "X: " + strings.Repeat("a", 9000) + "\r\n"
		}, false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newRawServer(t)
			p := NewPeer()
			p.SupportedProtocols = tt.protocols
			if err := p.ConnectToURL(s.url("/"), nil); err != nil {
				t.Fatal(err)
			}
			defer p.Close(-1, "")
			go func() {
				req := s.accept()
				s.write([]byte(tt.response(req.Header.Get("Sec-WebSocket-Key")) + "\r\n"))
			}()
			pollUntil(t, p, "handshake end", func() bool { return p.ReadyState() != StateConnecting })
			if tt.ok {
				if p.ReadyState() != StateOpen || p.SelectedProtocol() != tt.protocol {
					t.Fatalf("state %v protocol %q err %v", p.ReadyState(), p.SelectedProtocol(), p.CloseError())
				}
				return
			}
			if p.ReadyState() != StateClosed || p.CloseCode() != -1 || !errors.Is(p.CloseError(), ErrHandshake) {
				t.Fatalf("state %v code %d err %v", p.ReadyState(), p.CloseCode(), p.CloseError())
			}
		})
	}
}

func TestClientDialFailures(t *testing.T) {
	// Connection refused: a port nobody listens on.
	ln := listen(t)
	addr := ln.Addr().String()
	ln.Close()
	p := NewPeer()
	if err := p.ConnectToURL("ws://"+addr+"/", nil); err != nil {
		t.Fatal(err)
	}
	pollUntil(t, p, "CLOSED", stateIs(p, StateClosed))
	if p.CloseCode() != -1 || !errors.Is(p.CloseError(), ErrDial) {
		t.Fatalf("code %d err %v", p.CloseCode(), p.CloseError())
	}
	// A name that does not resolve (.invalid is reserved, RFC 6761).
	p = NewPeer()
	p.DialTimeout = 2 * time.Second
	if err := p.ConnectToURL("ws://wspeer-test.invalid/", nil); err != nil {
		t.Fatal(err)
	}
	pollUntil(t, p, "CLOSED", stateIs(p, StateClosed))
	if !errors.Is(p.CloseError(), ErrDial) {
		t.Fatalf("err %v", p.CloseError())
	}
	// A server that accepts TCP and never answers: the handshake timeout.
	s := newRawServer(t)
	p = NewPeer()
	p.HandshakeTimeout = 200 * time.Millisecond
	if err := p.ConnectToURL(s.url("/"), nil); err != nil {
		t.Fatal(err)
	}
	go s.accept()
	pollUntil(t, p, "CLOSED", stateIs(p, StateClosed))
	if !errors.Is(p.CloseError(), ErrHandshakeTimeout) {
		t.Fatalf("err %v", p.CloseError())
	}
	// A server that drops the connection during the handshake.
	s = newRawServer(t)
	p = NewPeer()
	if err := p.ConnectToURL(s.url("/"), nil); err != nil {
		t.Fatal(err)
	}
	go func() { s.accept(); s.conn.Close() }()
	pollUntil(t, p, "CLOSED", stateIs(p, StateClosed))
	if !errors.Is(p.CloseError(), ErrHandshake) || !errors.Is(p.CloseError(), io.ErrUnexpectedEOF) && !errors.Is(p.CloseError(), io.EOF) {
		t.Fatalf("err %v", p.CloseError())
	}
}

func TestClientFramesAfterResponse(t *testing.T) {
	// Frames in the same segment as the 101 response are not lost.
	s := newRawServer(t)
	p := NewPeer()
	if err := p.ConnectToURL(s.url("/"), nil); err != nil {
		t.Fatal(err)
	}
	defer p.Close(-1, "")
	go func() {
		req := s.accept()
		s.write([]byte("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: " +
			acceptFor(req.Header.Get("Sec-WebSocket-Key")) + "\r\n\r\n" + string(frame(2, true, false, []byte{1, 2, 3}))))
	}()
	pollUntil(t, p, "packet", func() bool { return p.AvailablePacketCount() == 1 })
	if b, _ := p.GetPacket(); len(b) != 3 || p.WasStringPacket() {
		t.Fatalf("%v", b)
	}
}
