//go:build !js

package wspeer

import (
	"bytes"
	"errors"
	"io"
	"net"
	"strings"
	"testing"
	"time"
)

// Godot checklist I.4: the server side of the opening handshake.

func TestServerHandshakeResponseBytes(t *testing.T) {
	p, rc := serverPeer(t, func(p *Peer) {
		p.SupportedProtocols = []string{"b", "a"}
		p.HandshakeHeaders = map[string][]string{"X-Server": {"wspeer"}}
	})
	rc.handshake("Sec-WebSocket-Protocol: a, b\r\nOrigin: http://example.com\r\n")
	pollUntil(t, p, "OPEN", stateIs(p, StateOpen))
	want := "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\nSec-WebSocket-Protocol: a\r\nX-Server: wspeer\r\n\r\n"
	got := make([]byte, len(want))
	if _, err := io.ReadFull(rc.br, got); err != nil || string(got) != want {
		t.Fatalf("response %q (%v), want %q", got, err, want)
	}
	// The client's order decides among supported protocols.
	if p.SelectedProtocol() != "a" {
		t.Fatalf("protocol %q", p.SelectedProtocol())
	}
	if u := p.RequestedURL(); u != "ws://example.com:8080/chat?x=1" {
		t.Fatalf("RequestedURL %q", u)
	}
	if o := p.RequestHeader().Get("Origin"); o != "http://example.com" {
		t.Fatalf("Origin %q", o)
	}
	if p.ConnectedHost() != "127.0.0.1" || p.ConnectedPort() == 0 {
		t.Fatalf("connected %s:%d", p.ConnectedHost(), p.ConnectedPort())
	}
}

func TestServerProtocolNoMatchAcceptedWithout(t *testing.T) {
	// RFC 6455 4.2.2: a server with no matching protocol answers without the
	// header (Godot drops such clients).
	for _, supported := range [][]string{nil, {"x"}} {
		p, rc := serverPeer(t, func(p *Peer) { p.SupportedProtocols = supported })
		rc.handshake("Sec-WebSocket-Protocol: json\r\n")
		pollUntil(t, p, "OPEN", stateIs(p, StateOpen))
		resp := rc.readResponse(101)
		if resp.Header.Get("Sec-WebSocket-Protocol") != "" || p.SelectedProtocol() != "" {
			t.Fatal("protocol selected without a match")
		}
	}
	// A client offering nothing to a server with protocols is accepted too.
	p, rc := serverPeer(t, func(p *Peer) { p.SupportedProtocols = []string{"x"} })
	rc.handshake("")
	pollUntil(t, p, "OPEN", stateIs(p, StateOpen))
	rc.readResponse(101)
}

func TestServerRejectsBadRequests(t *testing.T) {
	base := func(drop, add string) string {
		lines := []string{"GET / HTTP/1.1", "Host: h", "Upgrade: websocket", "Connection: Upgrade",
			"Sec-WebSocket-Key: " + testKey, "Sec-WebSocket-Version: 13"}
		var out []string
		for _, l := range lines {
			if drop == "" || !strings.HasPrefix(l, drop) {
				out = append(out, l)
			}
		}
		if add != "" {
			out = append(out, add)
		}
		return strings.Join(out, "\r\n") + "\r\n\r\n"
	}
	tests := []struct {
		name    string
		request string
		status  int
	}{
		{"two-token request line", "GET /\r\nHost: h\r\n\r\n", 400},
		{"one token", "GET\r\n\r\n", 400},
		{"garbage", "\x00\x01\x02\r\n\r\n", 400},
		{"no upgrade", base("Upgrade:", ""), 400},
		{"wrong upgrade", base("Upgrade:", "Upgrade: h2c"), 400},
		{"no connection", base("Connection:", ""), 400},
		{"no key", base("Sec-WebSocket-Key:", ""), 400},
		{"short key", base("Sec-WebSocket-Key:", "Sec-WebSocket-Key: c2hvcnQ="), 400},
		{"no host", base("Host:", ""), 400},
		{"no version", base("Sec-WebSocket-Version:", ""), 426},
		{"version 8", base("Sec-WebSocket-Version:", "Sec-WebSocket-Version: 8"), 426},
		{"POST", strings.Replace(base("", ""), "GET", "POST", 1), 405},
		{"HTTP/1.0", strings.Replace(base("", ""), "HTTP/1.1", "HTTP/1.0", 1), 400},
		{"headers too large", "GET / HTTP/1.1\r\nX: " + strings.Repeat("a", 9000) + "\r\n\r\n", 431},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, rc := serverPeer(t, nil)
			go rc.conn.Write([]byte(tt.request))
			pollUntil(t, p, "CLOSED", stateIs(p, StateClosed))
			resp := rc.readResponse(tt.status)
			if tt.status == 426 && resp.Header.Get("Sec-WebSocket-Version") != "13" {
				t.Fatal("426 without Sec-WebSocket-Version: 13")
			}
			if p.CloseCode() != -1 || !errors.Is(p.CloseError(), ErrHandshake) {
				t.Fatalf("code %d err %v", p.CloseCode(), p.CloseError())
			}
			if _, err := io.Copy(io.Discard, resp.Body); err != nil {
				t.Fatal(err)
			}
			if _, err := rc.br.ReadByte(); err != io.EOF {
				t.Fatalf("connection left open: %v", err)
			}
		})
	}
}

func TestServerHandshakeTimeout(t *testing.T) {
	// Half a request, then silence: the handshake timeout closes the peer.
	p, rc := serverPeer(t, func(p *Peer) { p.HandshakeTimeout = 200 * time.Millisecond })
	rc.write([]byte("GET / HTTP/1.1\r\nHost: h\r\n"))
	start := time.Now()
	pollUntil(t, p, "CLOSED", stateIs(p, StateClosed))
	if !errors.Is(p.CloseError(), ErrHandshakeTimeout) || p.CloseCode() != -1 {
		t.Fatalf("err %v code %d", p.CloseError(), p.CloseCode())
	}
	if time.Since(start) > 5*time.Second {
		t.Fatal("timeout not applied")
	}
}

func TestServerFramesPipelinedWithRequest(t *testing.T) {
	// Frames sent right behind the request, in the same write, are not lost.
	p, rc := serverPeer(t, nil)
	req := "GET / HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Key: " + testKey + "\r\nSec-WebSocket-Version: 13\r\n\r\n"
	rc.write(append([]byte(req), frame(1, true, true, []byte("early"))...))
	pollUntil(t, p, "packet", func() bool { return p.AvailablePacketCount() == 1 })
	if b, _ := p.GetPacket(); string(b) != "early" || !p.WasStringPacket() {
		t.Fatalf("%q", b)
	}
}

func TestAcceptStreamOverPipe(t *testing.T) {
	// Any net.Conn works: net.Pipe goes through the stream driver.
	a, b := net.Pipe()
	defer b.Close()
	p := NewPeer()
	if err := p.AcceptStream(a); err != nil {
		t.Fatal(err)
	}
	defer p.Close(-1, "")
	rc := &rawClient{t: t, conn: b, key: testKey}
	rc.br = newBufReader(b)
	go rc.handshake("")
	pollUntil(t, p, "OPEN", stateIs(p, StateOpen))
	rc.readResponse(101)
	if p.ConnectedHost() != "" || p.ConnectedPort() != 0 {
		t.Fatal("pipe has no TCP address")
	}
	if err := p.SetNoDelay(true); !errors.Is(err, ErrUnsupported) {
		t.Fatalf("SetNoDelay on a pipe: %v", err)
	}
	go rc.write(frame(2, true, true, bytes.Repeat([]byte{7}, 60000)))
	pollUntil(t, p, "packet", func() bool { return p.AvailablePacketCount() == 1 })
	if err := p.SendText("pong"); err != nil {
		t.Fatal(err)
	}
	if f := rc.readFrame(); string(f.payload) != "pong" || f.masked {
		t.Fatalf("%+v", f)
	}
}
