package h2client_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wspeer/wspeer"
	"github.com/wspeer/wspeer/h2client"
	_ "github.com/wspeer/wspeer/xconnect" // extended CONNECT in net/http's server
)

// h2Server is an HTTPS server speaking HTTP/2 whose handler upgrades with up
// and runs serve on the peer; protos records each request's r.Proto.
type h2Server struct {
	*httptest.Server
	protos atomic.Value
}

func startServer(t testing.TB, h2 bool, up *wspeer.Upgrader, serve func(*wspeer.Peer)) *h2Server {
	t.Helper()
	s := &h2Server{}
	s.protos.Store("")
	s.Server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.protos.Store(s.protos.Load().(string) + r.Proto + " " + r.Method + ";")
		p, err := up.Upgrade(w, r)
		if err != nil {
			return
		}
		serve(p)
	}))
	s.EnableHTTP2 = h2
	s.StartTLS()
	t.Cleanup(s.Close)
	return s
}

// echo runs the Wait loop, sending every message back (suiteEcho).
func echo(p *wspeer.Peer) { suiteEcho(p) }

func clientTLS(s *httptest.Server) *tls.Config {
	pool := x509.NewCertPool()
	pool.AddCert(s.Certificate())
	return wspeer.TLSClient(pool, "example.com")
}

func wssURL(s *httptest.Server, path string) string {
	return "wss://" + strings.TrimPrefix(s.URL, "https://") + path
}

// waitFor drives p until cond holds (or fails the test after 10 s).
func waitFor(t *testing.T, p *wspeer.Peer, what string, cond func() bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for !cond() {
		if err := p.Wait(ctx); err != nil && !errors.Is(err, wspeer.ErrClosed) {
			t.Fatalf("waiting for %s: %v (state %v, close error %v)", what, err, p.ReadyState(), p.CloseError())
		}
		p.Poll()
		if p.ReadyState() == wspeer.StateClosed && !cond() {
			t.Fatalf("closed while waiting for %s: code %d, %v", what, p.CloseCode(), p.CloseError())
		}
	}
}

func dialPeer(t *testing.T, s *httptest.Server, path string, setup func(*wspeer.Peer)) *wspeer.Peer {
	t.Helper()
	p := wspeer.NewPeer()
	p.StreamDialer = &h2client.Dialer{}
	if setup != nil {
		setup(p)
	}
	if err := p.ConnectToURL(wssURL(s, path), clientTLS(s)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, p, "open", func() bool { return p.ReadyState() == wspeer.StateOpen })
	return p
}

// TestH2EchoBothRoles: our client and our server over one HTTP/2 stream: the
// request is an extended CONNECT on HTTP/2, the subprotocol and
// permessage-deflate are negotiated, text and binary messages (one of 1 MiB,
// beyond the stream's 64 KiB flow-control window) come back whole, and a
// close started by the client ends cleanly on both sides.
func TestH2EchoBothRoles(t *testing.T) {
	const big = 1 << 20
	done := make(chan *wspeer.Peer, 1)
	up := &wspeer.Upgrader{Protocols: []string{"chat"}, NewPeer: func() *wspeer.Peer {
		p := wspeer.NewPeer()
		p.InboundBufferSize, p.OutboundBufferSize, p.Compression = 2*big, 2*big, true
		return p
	}}
	s := startServer(t, true, up, func(p *wspeer.Peer) { echo(p); done <- p })
	p := dialPeer(t, s.Server, "/ws?x=1", func(p *wspeer.Peer) {
		p.SupportedProtocols = []string{"other", "chat"}
		p.InboundBufferSize, p.OutboundBufferSize, p.Compression = 2*big, 2*big, true
	})
	if got := s.protos.Load().(string); got != "HTTP/2.0 CONNECT;" {
		t.Fatalf("server saw %q, want one HTTP/2.0 CONNECT", got)
	}
	if p.SelectedProtocol() != "chat" {
		t.Fatalf("SelectedProtocol %q", p.SelectedProtocol())
	}
	if ext := p.ResponseHeader().Get("Sec-WebSocket-Extensions"); !strings.HasPrefix(ext, "permessage-deflate") {
		t.Fatalf("extensions %q", ext)
	}
	if p.ConnectedHost() != "127.0.0.1" || p.ConnectedPort() == 0 {
		t.Fatalf("connected to %s:%d", p.ConnectedHost(), p.ConnectedPort())
	}
	payload := bytes.Repeat([]byte("0123456789abcdefghijklmnopqrstuv"), big/32)
	for i := range payload {
		payload[i] ^= byte(i * 7 >> 3) // less compressible
	}
	if err := p.SendText("hello over h2"); err != nil {
		t.Fatal(err)
	}
	if err := p.PutPacket(payload); err != nil {
		t.Fatal(err)
	}
	waitFor(t, p, "two echoes", func() bool { return p.AvailablePacketCount() == 2 })
	if b, _ := p.GetPacket(); string(b) != "hello over h2" || !p.WasStringPacket() {
		t.Fatalf("first echo %q", b)
	}
	if b, _ := p.GetPacket(); !bytes.Equal(b, payload) || p.WasStringPacket() {
		t.Fatalf("second echo: %d bytes, equal %v", len(b), bytes.Equal(b, payload))
	}
	if err := p.Close(4000, "bye"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, p, "closed", func() bool { return p.ReadyState() == wspeer.StateClosed })
	if p.CloseCode() != 4000 || p.CloseReason() != "bye" || p.CloseError() != nil {
		t.Fatalf("client: %d %q %v", p.CloseCode(), p.CloseReason(), p.CloseError())
	}
	select {
	case sp := <-done:
		if sp.CloseCode() != 4000 || sp.CloseError() != nil || !strings.HasPrefix(sp.RequestedURL(), "wss://127.0.0.1:") || !strings.HasSuffix(sp.RequestedURL(), "/ws?x=1") {
			t.Fatalf("server: %d %v %q", sp.CloseCode(), sp.CloseError(), sp.RequestedURL())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("server handler did not end")
	}
}

// TestH2ServerCloses: a close started by the server (the handler closes with
// 1001 and keeps driving the peer) reaches the client as a clean 1001, and
// the client then sees the stream end.
func TestH2ServerCloses(t *testing.T) {
	up := &wspeer.Upgrader{}
	s := startServer(t, true, up, func(p *wspeer.Peer) {
		_ = p.Close(1001, "going away")
		echo(p)
	})
	p := dialPeer(t, s.Server, "/", nil)
	waitFor(t, p, "closed", func() bool { return p.ReadyState() == wspeer.StateClosed })
	if p.CloseCode() != 1001 || p.CloseReason() != "going away" || p.CloseError() != nil {
		t.Fatalf("client: %d %q %v", p.CloseCode(), p.CloseReason(), p.CloseError())
	}
}

// TestH2ServerDrops: a server peer dropped with Close(-1) ends the stream
// without close frames: the client reports a lost connection (-1).
func TestH2ServerDrops(t *testing.T) {
	up := &wspeer.Upgrader{}
	s := startServer(t, true, up, func(p *wspeer.Peer) {
		_ = p.Close(-1, "")
		<-p.Released()
	})
	p := dialPeer(t, s.Server, "/", nil)
	waitFor(t, p, "closed", func() bool { return p.ReadyState() == wspeer.StateClosed })
	if p.CloseCode() != -1 || !errors.Is(p.CloseError(), wspeer.ErrConnectionLost) {
		t.Fatalf("client: %d %v", p.CloseCode(), p.CloseError())
	}
}

// TestH2FallbackHTTP1: a server without HTTP/2 (ALPN picks http/1.1) is
// reached over HTTP/1.1 on a new connection.
func TestH2FallbackHTTP1(t *testing.T) {
	s := startServer(t, false, &wspeer.Upgrader{}, echo)
	p := dialPeer(t, s.Server, "/", nil)
	if got := s.protos.Load().(string); got != "HTTP/1.1 GET;" {
		t.Fatalf("server saw %q, want one HTTP/1.1 GET", got)
	}
	if err := p.SendText("x"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, p, "echo", func() bool { return p.AvailablePacketCount() == 1 })
	_ = p.Close(1000, "")
	waitFor(t, p, "closed", func() bool { return p.ReadyState() == wspeer.StateClosed })
}

// TestH2Refused: the Accept hook's refusal reaches the client as its status.
func TestH2Refused(t *testing.T) {
	up := &wspeer.Upgrader{Accept: func(*http.Request) error { return wspeer.Reject(http.StatusUnauthorized, "who?") }}
	s := startServer(t, true, up, echo)
	p := wspeer.NewPeer()
	p.StreamDialer = &h2client.Dialer{}
	if err := p.ConnectToURL(wssURL(s.Server, "/"), clientTLS(s.Server)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, p, "closed", func() bool { return p.ReadyState() == wspeer.StateClosed })
	if p.CloseCode() != -1 || !errors.Is(p.CloseError(), wspeer.ErrHandshake) || !strings.Contains(p.CloseError().Error(), "401") {
		t.Fatalf("client: %d %v", p.CloseCode(), p.CloseError())
	}
}

// TestH2ServerResets: a stream the server resets (the handler aborts, so
// net/http sends RST_STREAM) is a lost connection for the client: -1 and
// ErrConnectionLost.
func TestH2ServerResets(t *testing.T) {
	s := startServer(t, true, &wspeer.Upgrader{}, func(p *wspeer.Peer) {
		t.Cleanup(func() { p.Close(-1, "") })
		time.Sleep(100 * time.Millisecond)
		panic(http.ErrAbortHandler)
	})
	p := dialPeer(t, s.Server, "/", nil)
	waitFor(t, p, "closed", func() bool { return p.ReadyState() == wspeer.StateClosed })
	if p.CloseCode() != -1 || !errors.Is(p.CloseError(), wspeer.ErrConnectionLost) {
		t.Fatalf("client: %d %v", p.CloseCode(), p.CloseError())
	}
	t.Logf("client: %v", p.CloseError())
}

// TestH2ServerNoDelay: on a server stream SetNoDelay needs the connection
// (wspeer.ConnContext as the server's ConnContext) and then sets it; without
// it, ErrUnsupported.
func TestH2ServerNoDelay(t *testing.T) {
	for _, withConn := range []bool{false, true} {
		got := make(chan error, 1)
		s := &h2Server{}
		s.Server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			p, err := (&wspeer.Upgrader{}).Upgrade(w, r)
			if err != nil {
				got <- err
				return
			}
			got <- p.SetNoDelay(false)
			p.Close(-1, "")
		}))
		if withConn {
			s.Config.ConnContext = wspeer.ConnContext
		}
		s.EnableHTTP2 = true
		s.StartTLS()
		t.Cleanup(s.Close)
		p := wspeer.NewPeer()
		p.StreamDialer = &h2client.Dialer{}
		if err := p.ConnectToURL(wssURL(s.Server, "/"), clientTLS(s.Server)); err != nil {
			t.Fatal(err)
		}
		waitFor(t, p, "closed", func() bool { return p.ReadyState() == wspeer.StateClosed })
		err := <-got
		if withConn && err != nil || !withConn && !errors.Is(err, wspeer.ErrUnsupported) {
			t.Fatalf("ConnContext %v: SetNoDelay: %v", withConn, err)
		}
	}
}
