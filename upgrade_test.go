//go:build !js

package wspeer_test

import (
	"bufio"
	"context"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/wspeer/wspeer"
)

// upServer is an httptest server whose handler upgrades with an Upgrader
// and echoes on every accepted peer.
type upServer struct {
	*httptest.Server
	errs  chan error
	peers chan *wspeer.Peer
}

func newUpServer(t *testing.T, u *wspeer.Upgrader, secure bool, before func(http.ResponseWriter, *http.Request)) *upServer {
	t.Helper()
	start := httptest.NewServer
	if secure {
		start = httptest.NewTLSServer
	}
	return newUpServerWith(t, u, before, start)
}

// newUpServerWith is newUpServer with the server started by start.
func newUpServerWith(t *testing.T, u *wspeer.Upgrader, before func(http.ResponseWriter, *http.Request),
	start func(http.Handler) *httptest.Server) *upServer {
	t.Helper()
	s := &upServer{errs: make(chan error, 16), peers: make(chan *wspeer.Peer, 16)}
	ctx, cancel := context.WithCancel(context.Background())
	var g goGroup
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if before != nil {
			before(w, r)
		}
		p, err := u.Upgrade(w, r)
		if err != nil {
			s.errs <- err
			return
		}
		if !g.Go(func() { echoLoop(ctx, p, make(chan struct{})) }) {
			p.Close(-1, "")
		}
		s.peers <- p
	})
	s.Server = start(h)
	t.Cleanup(func() { s.Close(); cancel(); g.Stop() })
	return s
}

func (s *upServer) wsURL(path string) string {
	return "ws" + strings.TrimPrefix(s.URL, "http") + path
}

func (s *upServer) peer(t *testing.T) *wspeer.Peer {
	t.Helper()
	select {
	case p := <-s.peers:
		return p
	case err := <-s.errs:
		t.Fatalf("upgrade failed: %v", err)
	case <-time.After(5 * time.Second):
		t.Fatal("no upgrade")
	}
	return nil
}

func (s *upServer) err(t *testing.T) error {
	t.Helper()
	select {
	case err := <-s.errs:
		return err
	case <-s.peers:
		t.Fatal("upgrade succeeded")
	case <-time.After(5 * time.Second):
		t.Fatal("no upgrade attempt")
	}
	return nil
}

// rawUpgrade sends an upgrade request with net/http's client, changed by
// mutate, and returns the response with its body read.
func (s *upServer) rawUpgrade(t *testing.T, mutate func(*http.Request)) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, s.URL+"/ws", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Upgrade", "websocket")
	req.Header.Set("Connection", "Upgrade")
	req.Header.Set("Sec-WebSocket-Version", "13")
	req.Header.Set("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==")
	if mutate != nil {
		mutate(req)
	}
	c := s.Client()
	c.Timeout = 5 * time.Second
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusSwitchingProtocols {
		return resp, ""
	}
	body, _ := io.ReadAll(resp.Body)
	return resp, string(body)
}

func dialWS(t *testing.T, url string, setup func(*wspeer.Peer)) *wspeer.Peer {
	t.Helper()
	c := wspeer.NewPeer()
	if setup != nil {
		setup(c)
	}
	if err := c.ConnectToURL(url, nil); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close(-1, "") })
	return c
}

func TestUpgradeEcho(t *testing.T) {
	s := newUpServer(t, &wspeer.Upgrader{}, false, nil)
	c := dialWS(t, s.wsURL("/echo?x=1"), func(p *wspeer.Peer) {
		p.HandshakeHeaders = http.Header{"X-Client": {"yes"}}
	})
	echoOnce(t, c, "hello")
	if err := c.PutPacket([]byte{0, 1, 2}); err != nil {
		t.Fatal(err)
	}
	drive(t, c, 5*time.Second, func() bool { return c.AvailablePacketCount() > 0 })
	if got, _ := c.GetPacket(); string(got) != "\x00\x01\x02" || c.WasStringPacket() {
		t.Fatalf("binary echo %q", got)
	}
	sp := s.peer(t)
	if want := s.wsURL("/echo?x=1"); sp.RequestedURL() != want {
		t.Errorf("RequestedURL %q, want %q", sp.RequestedURL(), want)
	}
	if sp.RequestHeader().Get("X-Client") != "yes" {
		t.Errorf("RequestHeader %v", sp.RequestHeader())
	}
	closeClean(t, c)
}

// A real http.Server with a ServeMux and short timeouts: the hijacked
// connection must not inherit the server's deadlines.
func TestUpgradeServeMux(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	var g goGroup
	mux := http.NewServeMux()
	mux.HandleFunc("GET /hello", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "hi") })
	mux.HandleFunc("/ws", func(w http.ResponseWriter, r *http.Request) {
		p, err := wspeer.Upgrade(w, r)
		if err != nil {
			t.Error(err)
			return
		}
		if !g.Go(func() { echoLoop(ctx, p, make(chan struct{})) }) {
			p.Close(-1, "")
		}
	})
	srv := &http.Server{Handler: mux, ReadTimeout: 200 * time.Millisecond, WriteTimeout: 200 * time.Millisecond}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close(); cancel(); g.Stop() })

	c := dialWS(t, "ws://"+ln.Addr().String()+"/ws", nil)
	echoOnce(t, c, "first")
	time.Sleep(400 * time.Millisecond) // past both server timeouts
	echoOnce(t, c, "after the server's timeouts")
	closeClean(t, c)
}

func TestUpgradeSubprotocol(t *testing.T) {
	s := newUpServer(t, &wspeer.Upgrader{Protocols: []string{"chat.v2", "chat.v1"}}, false, nil)
	c := dialWS(t, s.wsURL("/"), func(p *wspeer.Peer) { p.SupportedProtocols = []string{"chat.v1", "chat.v2"} })
	echoOnce(t, c, "x")
	if c.SelectedProtocol() != "chat.v1" || s.peer(t).SelectedProtocol() != "chat.v1" {
		t.Errorf("selected %q, want the client's first choice chat.v1", c.SelectedProtocol())
	}
	// No common protocol: accepted without one (RFC 6455).
	c2 := dialWS(t, s.wsURL("/"), func(p *wspeer.Peer) { p.SupportedProtocols = []string{"other"} })
	echoOnce(t, c2, "y")
	if c2.SelectedProtocol() != "" {
		t.Errorf("selected %q", c2.SelectedProtocol())
	}
}

func TestUpgradeResponseHeaders(t *testing.T) {
	u := &wspeer.Upgrader{
		Header: http.Header{"X-Upgrader": {"a"}},
		NewPeer: func() *wspeer.Peer {
			p := wspeer.NewPeer()
			p.HandshakeHeaders = http.Header{"X-Peer": {"b"}}
			return p
		},
	}
	s := newUpServer(t, u, false, nil)
	c := dialWS(t, s.wsURL("/"), nil)
	echoOnce(t, c, "x")
	if h := c.ResponseHeader(); h.Get("X-Upgrader") != "a" || h.Get("X-Peer") != "b" {
		t.Errorf("response headers %v", h)
	}
	// A managed header is a server error, answered 500.
	bad := newUpServer(t, &wspeer.Upgrader{Header: http.Header{"Sec-WebSocket-Accept": {"x"}}}, false, nil)
	if resp, _ := bad.rawUpgrade(t, nil); resp.StatusCode != 500 {
		t.Errorf("status %d", resp.StatusCode)
	}
	if err := bad.err(t); !errors.Is(err, wspeer.ErrInvalidParameter) {
		t.Errorf("error %v", err)
	}
}

func TestUpgradeAcceptHook(t *testing.T) {
	u := &wspeer.Upgrader{Accept: func(r *http.Request) error {
		switch r.Header.Get("Authorization") {
		case "Bearer good":
			return nil
		case "":
			return wspeer.Reject(http.StatusUnauthorized, "token required")
		case "Bearer odd":
			return wspeer.Reject(299, "")
		}
		return errors.New("bad token")
	}}
	s := newUpServer(t, u, false, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("WWW-Authenticate", `Bearer realm="ws"`)
	})
	resp, body := s.rawUpgrade(t, nil)
	if resp.StatusCode != 401 || body != "token required\n" || resp.Header.Get("WWW-Authenticate") == "" {
		t.Errorf("got %d %q %v", resp.StatusCode, body, resp.Header)
	}
	err := s.err(t)
	var re *wspeer.RejectError
	if !errors.Is(err, wspeer.ErrHandshake) || !errors.As(err, &re) || re.Status != 401 {
		t.Errorf("error %v", err)
	}
	resp, _ = s.rawUpgrade(t, func(r *http.Request) { r.Header.Set("Authorization", "Bearer wrong") })
	if resp.StatusCode != 403 {
		t.Errorf("other error: status %d", resp.StatusCode)
	}
	if err := s.err(t); !errors.As(err, &re) || re.Status != 403 || !strings.Contains(err.Error(), "bad token") {
		t.Errorf("error %v", err)
	}
	resp, _ = s.rawUpgrade(t, func(r *http.Request) { r.Header.Set("Authorization", "Bearer odd") })
	if resp.StatusCode != 500 {
		t.Errorf("status outside 300-599: got %d", resp.StatusCode)
	}
	s.err(t)
	c := dialWS(t, s.wsURL("/"), func(p *wspeer.Peer) { p.HandshakeHeaders = http.Header{"Authorization": {"Bearer good"}} })
	echoOnce(t, c, "let in")
}

func TestUpgradeOrigin(t *testing.T) {
	cases := []struct {
		name   string
		u      wspeer.Upgrader
		origin func(host string) string
		status int
	}{
		{"none", wspeer.Upgrader{}, nil, 101},
		{"same", wspeer.Upgrader{}, func(h string) string { return "http://" + h }, 101},
		{"same, other case", wspeer.Upgrader{}, func(h string) string { return "HTTP://" + strings.ToUpper(h) }, 101},
		{"cross", wspeer.Upgrader{}, func(string) string { return "https://evil.example" }, 403},
		{"same host, other port", wspeer.Upgrader{}, func(h string) string { return "http://127.0.0.1:1" }, 403},
		{"null", wspeer.Upgrader{}, func(string) string { return "null" }, 403},
		{"pattern", wspeer.Upgrader{OriginPatterns: []string{"*.example.com"}},
			func(string) string { return "https://App.Example.com" }, 101},
		{"pattern miss", wspeer.Upgrader{OriginPatterns: []string{"*.example.com"}},
			func(string) string { return "https://example.com.evil.test" }, 403},
		{"skip check", wspeer.Upgrader{InsecureSkipOriginCheck: true},
			func(string) string { return "https://evil.example" }, 101},
		{"bad pattern", wspeer.Upgrader{OriginPatterns: []string{"[a-"}}, nil, 500},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := newUpServer(t, &tc.u, false, nil)
			host := strings.TrimPrefix(s.URL, "http://")
			resp, _ := s.rawUpgrade(t, func(r *http.Request) {
				if tc.origin != nil {
					r.Header.Set("Origin", tc.origin(host))
				}
			})
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d, want %d", resp.StatusCode, tc.status)
			}
			switch tc.status {
			case 101:
				s.peer(t)
			case 403:
				if err := s.err(t); !errors.Is(err, wspeer.ErrForbiddenOrigin) || !errors.Is(err, wspeer.ErrHandshake) {
					t.Errorf("error %v", err)
				}
			case 500:
				if err := s.err(t); !errors.Is(err, wspeer.ErrInvalidParameter) {
					t.Errorf("error %v", err)
				}
			}
		})
	}
}

func TestUpgradeBadRequests(t *testing.T) {
	s := newUpServer(t, &wspeer.Upgrader{}, false, nil)
	cases := []struct {
		name   string
		mutate func(*http.Request)
		status int
		header string
	}{
		{"version 12", func(r *http.Request) { r.Header.Set("Sec-WebSocket-Version", "12") }, 426, "Sec-WebSocket-Version"},
		{"POST", func(r *http.Request) { r.Method = http.MethodPost }, 405, "Allow"},
		{"no key", func(r *http.Request) { r.Header.Del("Sec-WebSocket-Key") }, 400, ""},
		{"short key", func(r *http.Request) { r.Header.Set("Sec-WebSocket-Key", "c2hvcnQ=") }, 400, ""},
		{"no upgrade", func(r *http.Request) { r.Header.Del("Upgrade") }, 400, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			resp, _ := s.rawUpgrade(t, tc.mutate)
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d, want %d", resp.StatusCode, tc.status)
			}
			if tc.header == "Sec-WebSocket-Version" && resp.Header.Get(tc.header) != "13" {
				t.Errorf("426 without Sec-WebSocket-Version: 13: %v", resp.Header)
			}
			if tc.header == "Allow" && resp.Header.Get(tc.header) != "GET" {
				t.Errorf("405 without Allow: GET: %v", resp.Header)
			}
			err := s.err(t)
			var re *wspeer.RejectError
			if !errors.Is(err, wspeer.ErrBadRequest) || !errors.As(err, &re) || re.Status != tc.status {
				t.Errorf("error %v", err)
			}
		})
	}
}

// A client that sends its first frame in the same write as its request: the
// frame sits in net/http's read buffer at hijack time and must not be lost.
func TestUpgradePipelinedFrame(t *testing.T) {
	s := newUpServer(t, &wspeer.Upgrader{}, false, nil)
	conn, err := net.DialTimeout("tcp", strings.TrimPrefix(s.URL, "http://"), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(5 * time.Second))
	req := "GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"
	mask := [4]byte{1, 2, 3, 4}
	msg := []byte("early")
	frame := append([]byte{0x81, 0x80 | byte(len(msg))}, mask[:]...)
	for i, b := range msg {
		frame = append(frame, b^mask[i%4])
	}
	if _, err := conn.Write(append([]byte(req), frame...)); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	if err != nil || resp.StatusCode != 101 {
		t.Fatalf("response %v, %v", resp, err)
	}
	if resp.Header.Get("Sec-WebSocket-Accept") != "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=" {
		t.Errorf("accept %q", resp.Header.Get("Sec-WebSocket-Accept"))
	}
	echo := make([]byte, 2+len(msg))
	if _, err := io.ReadFull(br, echo); err != nil {
		t.Fatal(err)
	}
	if echo[0] != 0x81 || int(echo[1]) != len(msg) || string(echo[2:]) != "early" {
		t.Fatalf("echo frame % x", echo)
	}
}

func TestUpgradeTLS(t *testing.T) {
	s := newUpServer(t, &wspeer.Upgrader{}, true, nil)
	roots := x509.NewCertPool()
	roots.AddCert(s.Certificate())
	c := wspeer.NewPeer()
	t.Cleanup(func() { c.Close(-1, "") })
	if err := c.ConnectToURL("wss"+strings.TrimPrefix(s.URL, "https")+"/secure", wspeer.TLSClient(roots, "example.com")); err != nil {
		t.Fatal(err)
	}
	echoOnce(t, c, "over https")
	if got := s.peer(t).RequestedURL(); !strings.HasPrefix(got, "wss://") || !strings.HasSuffix(got, "/secure") {
		t.Errorf("RequestedURL %q", got)
	}
	closeClean(t, c)
}
