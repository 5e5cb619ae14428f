//go:build !js

package wspeer_test

import (
	"bytes"
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wspeer/wspeer"
)

// fakeStreams is a StreamDialer that answers from a function and records
// the requests it got.
type fakeStreams struct {
	calls atomic.Int32
	last  atomic.Pointer[wspeer.StreamRequest]
	open  func(req *wspeer.StreamRequest) (*wspeer.Stream, error)
}

func (f *fakeStreams) DialStream(_ context.Context, req *wspeer.StreamRequest) (*wspeer.Stream, error) {
	f.calls.Add(1)
	f.last.Store(req)
	return f.open(req)
}

// TestStreamDialerOpensStream: a 200 stream from the dialer opens the peer
// without an HTTP/1.1 handshake. The request carries the version, the
// offered subprotocols, the authority, path and timeouts; the selected
// subprotocol and the response header come from the stream's answer; frames
// flow both ways (masked from the client) and the close is clean.
func TestStreamDialerOpensStream(t *testing.T) {
	client, server := net.Pipe()
	defer server.Close()
	f := &fakeStreams{open: func(*wspeer.StreamRequest) (*wspeer.Stream, error) {
		return &wspeer.Stream{Conn: client, Status: 200, Header: http.Header{"Sec-Websocket-Protocol": {"b"}, "X-Answer": {"yes"}}}, nil
	}}
	p := wspeer.NewPeer()
	p.StreamDialer = f
	p.SupportedProtocols = []string{"a", "b"}
	p.DialTimeout, p.HandshakeTimeout = 3*time.Second, 4*time.Second
	if err := p.ConnectToURL("wss://example.com:8443/chat?room=1", nil); err != nil {
		t.Fatal(err)
	}
	go func() { _, _ = server.Write([]byte{0x81, 2, 'h', 'i'}) }()
	drive(t, p, 5*time.Second, func() bool { return p.AvailablePacketCount() == 1 })
	req := f.last.Load()
	if req.Addr != "example.com:8443" || req.Authority != "example.com:8443" || req.Path != "/chat?room=1" ||
		req.Header.Get("Sec-WebSocket-Version") != "13" || req.Header.Get("Sec-WebSocket-Protocol") != "a, b" ||
		req.DialTimeout != 3*time.Second || req.HandshakeTimeout != 4*time.Second || req.TLSConfig.ServerName != "example.com" {
		t.Fatalf("request %+v", req)
	}
	if b, _ := p.GetPacket(); string(b) != "hi" || p.SelectedProtocol() != "b" || p.ResponseHeader().Get("X-Answer") != "yes" {
		t.Fatalf("packet %q, protocol %q, header %v", b, p.SelectedProtocol(), p.ResponseHeader())
	}
	if p.RequestedURL() != "wss://example.com:8443/chat?room=1" {
		t.Fatalf("RequestedURL %q", p.RequestedURL())
	}
	if err := p.Close(1000, ""); err != nil {
		t.Fatal(err)
	}
	got := make([]byte, 8) // 0x88, 0x82, mask, masked 1000
	go func() {
		if _, err := io.ReadFull(server, got); err == nil {
			_, _ = server.Write([]byte{0x88, 2, 0x03, 0xe8})
			server.Close()
		}
	}()
	drive(t, p, 5*time.Second, closed(p))
	if got[0] != 0x88 || got[1] != 0x82 || p.CloseCode() != 1000 || p.CloseError() != nil {
		t.Fatalf("close frame % x; code %d, error %v", got, p.CloseCode(), p.CloseError())
	}
}

// TestStreamDialerRefusals: a non-2xx answer, a subprotocol that was not
// offered, and the dialer's own errors end the connection with -1 and the
// right kind; the stream is closed.
func TestStreamDialerRefusals(t *testing.T) {
	cases := []struct {
		name   string
		status int
		header http.Header
		err    error
		want   []error
		text   string
	}{
		{"status 403", 403, nil, nil, []error{wspeer.ErrHandshake}, "403"},
		{"protocol not offered", 200, http.Header{"Sec-Websocket-Protocol": {"zzz"}}, nil, []error{wspeer.ErrHandshake}, "zzz"},
		{"dial error", 0, nil, fmt.Errorf("%w: no route", wspeer.ErrDial), []error{wspeer.ErrDial}, "no route"},
		{"other error", 0, nil, errors.New("odd"), []error{wspeer.ErrHandshake}, "odd"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			client, server := net.Pipe()
			defer server.Close()
			p := wspeer.NewPeer()
			p.StreamDialer = &fakeStreams{open: func(*wspeer.StreamRequest) (*wspeer.Stream, error) {
				if c.err != nil {
					return nil, c.err
				}
				return &wspeer.Stream{Conn: client, Status: c.status, Header: c.header}, nil
			}}
			if err := p.ConnectToURL("wss://example.com/", nil); err != nil {
				t.Fatal(err)
			}
			drive(t, p, 5*time.Second, closed(p))
			for _, w := range c.want {
				if !errors.Is(p.CloseError(), w) || p.CloseCode() != -1 || !strings.Contains(p.CloseError().Error(), c.text) {
					t.Fatalf("code %d, error %v; want %v with %q", p.CloseCode(), p.CloseError(), w, c.text)
				}
			}
			if c.err == nil {
				_ = server.SetReadDeadline(time.Now().Add(5 * time.Second))
				if _, err := server.Read(make([]byte, 1)); !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrClosedPipe) {
					t.Fatalf("the stream was not closed: %v", err)
				}
			}
		})
	}
}

// TestStreamDialerFallsBack: ErrStreamUnavailable from the dialer makes the
// peer connect over HTTP/1.1 on a new connection; ws:// URLs and URLs with a
// proxy never ask the dialer.
func TestStreamDialerFallsBack(t *testing.T) {
	srv := newUpServer(t, &wspeer.Upgrader{}, true, nil)
	pool := x509.NewCertPool()
	pool.AddCert(srv.Certificate())
	f := &fakeStreams{open: func(*wspeer.StreamRequest) (*wspeer.Stream, error) {
		return nil, fmt.Errorf("%w: test", wspeer.ErrStreamUnavailable)
	}}
	p := wspeer.NewPeer()
	p.StreamDialer = f
	if err := p.ConnectToURL(srv.wsURL("/x"), wspeer.TLSClient(pool, "example.com")); err != nil {
		t.Fatal(err)
	}
	drive(t, p, 5*time.Second, func() bool { return p.ReadyState() == wspeer.StateOpen })
	if f.calls.Load() != 1 || p.ResponseHeader().Get("Sec-WebSocket-Accept") == "" {
		t.Fatalf("dialer calls %d, response %v", f.calls.Load(), p.ResponseHeader())
	}
	if err := p.SendText("over http/1.1"); err != nil {
		t.Fatal(err)
	}
	drive(t, p, 5*time.Second, func() bool { return p.AvailablePacketCount() == 1 })
	if b, _ := p.GetPacket(); !bytes.Equal(b, []byte("over http/1.1")) {
		t.Fatalf("echo %q", b)
	}
	p.Close(-1, "")

	plain := newUpServer(t, &wspeer.Upgrader{}, false, nil)
	q := wspeer.NewPeer()
	q.StreamDialer = f
	if err := q.ConnectToURL(plain.wsURL("/"), nil); err != nil {
		t.Fatal(err)
	}
	drive(t, q, 5*time.Second, func() bool { return q.ReadyState() == wspeer.StateOpen })
	q.Close(-1, "")

	r := wspeer.NewPeer()
	r.StreamDialer = f
	r.DialTimeout = time.Second
	r.Proxy = func(*http.Request) (*url.URL, error) { return url.Parse("http://127.0.0.1:1") }
	if err := r.ConnectToURL("wss://example.com/", nil); err != nil {
		t.Fatal(err)
	}
	drive(t, r, 5*time.Second, closed(r))
	if f.calls.Load() != 1 || !errors.Is(r.CloseError(), wspeer.ErrProxy) {
		t.Fatalf("dialer calls %d, proxied close error %v", f.calls.Load(), r.CloseError())
	}
}

// TestReleasedWithoutStream: a peer that holds no HTTP/2 stream needs no
// handler: Released is closed.
func TestReleasedWithoutStream(t *testing.T) {
	select {
	case <-wspeer.NewPeer().Released():
	default:
		t.Fatal("Released of a new peer is not closed")
	}
}
