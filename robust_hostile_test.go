//go:build !js

package wspeer

import (
	"bufio"
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// bothPaths is one AcceptStream server and one Upgrader server (behind
// net/http, with no ServeMux that would clean paths), both on loopback, each
// handing its open peers to a channel and echoing on them.
type bothPaths struct {
	accept   *robustServer
	acceptCh chan *Peer
	up       *httptest.Server
	upCh     chan *Peer
}

func newBothPaths(t *testing.T, u *Upgrader, setup func(*Peer)) *bothPaths {
	t.Helper()
	b := &bothPaths{acceptCh: make(chan *Peer, 64), upCh: make(chan *Peer, 64)}
	var once sync.Map
	b.accept = newRobustServer(t, setup, func(p *Peer) {
		if p.ReadyState() == StateOpen {
			if _, seen := once.LoadOrStore(p, true); !seen {
				b.acceptCh <- p
			}
		}
		echo(p)
	})
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	if u.NewPeer == nil && setup != nil {
		u.NewPeer = func() *Peer { p := NewPeer(); setup(p); return p }
	}
	b.up = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, err := u.Upgrade(w, r)
		if err != nil {
			return
		}
		b.upCh <- p
		wg.Add(1)
		go func() { defer wg.Done(); runUntilClosed(ctx, p, func() { echo(p) }); p.Close(-1, "") }()
	}))
	t.Cleanup(func() { b.up.Close(); cancel(); wg.Wait() })
	return b
}

// rawStatus sends a raw request to addr and returns the response status (0
// when none could be read). An upgraded connection stays open until the
// test ends, so that the server's peer is seen OPEN.
func rawStatus(t *testing.T, addr, req string) int {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	_ = c.SetDeadline(time.Now().Add(testTimeout))
	if _, err := c.Write([]byte(req)); err != nil {
		return 0
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}

func hostileRequest(target, host string, extra ...string) string {
	return "GET " + target + " HTTP/1.1\r\nHost: " + host + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Key: " + testKey + "\r\nSec-WebSocket-Version: 13\r\n" + strings.Join(extra, "") + "\r\n"
}

// TestRobustBothServerPaths sends the same hostile requests to AcceptStream
// and to the Upgrader (issue 15 items 1, 5 and 6): the same status from
// both, and for accepted ones the same RequestedURL and headers.
func TestRobustBothServerPaths(t *testing.T) {
	b := newBothPaths(t, &Upgrader{}, nil)
	big := "X-Big: " + strings.Repeat("b", 9000) + "\r\n"
	cases := []struct {
		name    string
		req     string
		status  int
		url, xa string
	}{
		{"9 KB of headers", hostileRequest("/", "victim.example", big), 431, "", ""},
		{"Content-Length body", hostileRequest("/", "victim.example", "Content-Length: 5\r\n") + "\x81\x00\x00\x00\x00", 400, "", ""},
		{"chunked body", hostileRequest("/", "victim.example", "Transfer-Encoding: chunked\r\n") + "0\r\n\r\n", 400, "", ""},
		{"conflicting Content-Length", hostileRequest("/", "victim.example", "Content-Length: 0\r\nContent-Length: 3\r\n"), 400, "", ""},
		{"HTTP/1.0", strings.Replace(hostileRequest("/", "victim.example"), "HTTP/1.1", "HTTP/1.0", 1), 400, "", ""},
		{"Content-Length 0", hostileRequest("/", "victim.example", "Content-Length: 0\r\n"), 101, "ws://victim.example/", ""},
		{"obsolete folding", hostileRequest("/", "victim.example", "X-A: b\r\n  c\r\n"), 101, "ws://victim.example/", "b c"},
		{"absolute form", hostileRequest("http://evil.example/admin?x=1", "victim.example"), 101, "ws://evil.example/admin?x=1", ""},
		{"double slash", hostileRequest("//evil.example/admin", "victim.example"), 101, "ws://victim.example//evil.example/admin", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			for _, side := range []struct {
				name string
				addr string
				ch   chan *Peer
			}{{"AcceptStream", b.accept.ln.Addr().String(), b.acceptCh}, {"Upgrader", b.up.Listener.Addr().String(), b.upCh}} {
				if got := rawStatus(t, side.addr, tc.req); got != tc.status {
					t.Errorf("%s: status %d, want %d", side.name, got, tc.status)
					continue
				}
				if tc.status != 101 {
					continue
				}
				select {
				case p := <-side.ch:
					if got := p.RequestedURL(); got != tc.url {
						t.Errorf("%s: RequestedURL %q, want %q", side.name, got, tc.url)
					}
					if got := p.RequestHeader().Get("X-A"); got != tc.xa {
						t.Errorf("%s: X-A %q, want %q", side.name, got, tc.xa)
					}
				case <-time.After(testTimeout):
					t.Errorf("%s: no open peer", side.name)
				}
			}
		})
	}
}

// TestRobustHeadLimitConfigurable: MaxHandshakeSize moves the 431 limit on
// both paths alike.
func TestRobustHeadLimitConfigurable(t *testing.T) {
	b := newBothPaths(t, &Upgrader{}, func(p *Peer) { p.MaxHandshakeSize = 16 << 10 })
	ok := hostileRequest("/", "h", "X-Big: "+strings.Repeat("b", 12000)+"\r\n")
	tooBig := hostileRequest("/", "h", "X-Big: "+strings.Repeat("b", 17000)+"\r\n")
	for _, addr := range []string{b.accept.ln.Addr().String(), b.up.Listener.Addr().String()} {
		if got := rawStatus(t, addr, ok); got != 101 {
			t.Errorf("%s: 12 KB head: status %d, want 101", addr, got)
		}
		if got := rawStatus(t, addr, tooBig); got != 431 {
			t.Errorf("%s: 17 KB head: status %d, want 431", addr, got)
		}
	}
	p := NewPeer()
	p.MaxHandshakeSize = -1
	if err := p.AcceptStream(nopConn()); !errors.Is(err, ErrInvalidParameter) {
		t.Errorf("negative MaxHandshakeSize: %v", err)
	}
}

func nopConn() net.Conn {
	a, b := net.Pipe()
	b.Close()
	return a
}

// TestRobustAllowedHosts: with AllowedHosts, a rebinding page's Host (and its
// matching Origin) gets 403 and ErrForbiddenHost; loopback names pass
// (issue 15 item 7, F7).
func TestRobustAllowedHosts(t *testing.T) {
	var mu sync.Mutex
	var errs []error
	u := &Upgrader{AllowedHosts: LoopbackHosts()}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, err := u.Upgrade(w, r)
		if err != nil {
			mu.Lock()
			errs = append(errs, err)
			mu.Unlock()
			return
		}
		p.Close(-1, "")
	}))
	defer srv.Close()
	addr := srv.Listener.Addr().String()
	_, port, _ := net.SplitHostPort(addr)
	cases := []struct {
		host, origin string
		status       int
	}{
		{"evil.example:" + port, "http://evil.example:" + port, 403},
		{"evil.example", "", 403},
		{"localhost:" + port, "http://localhost:" + port, 101},
		{"127.0.0.1:" + port, "", 101},
		{"[::1]:" + port, "", 101},
		{"LOCALHOST", "", 101},
	}
	for _, tc := range cases {
		extra := ""
		if tc.origin != "" {
			extra = "Origin: " + tc.origin + "\r\n"
		}
		if got := rawStatus(t, addr, hostileRequest("/", tc.host, extra)); got != tc.status {
			t.Errorf("Host %q: status %d, want %d", tc.host, got, tc.status)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if len(errs) != 2 || !errors.Is(errs[0], ErrForbiddenHost) {
		t.Errorf("errors %v, want 2 matching ErrForbiddenHost", errs)
	}
	bad := &Upgrader{AllowedHosts: []string{"[x"}}
	if _, err := bad.hostAllowed("h"); !errors.Is(err, ErrInvalidParameter) {
		t.Errorf("malformed pattern: %v", err)
	}
}

// TestRobustKeepRequestHeaders: with KeepRequestHeaders, both paths keep
// only the listed headers and the handshake's own (issue 15 item 1).
func TestRobustKeepRequestHeaders(t *testing.T) {
	b := newBothPaths(t, &Upgrader{}, func(p *Peer) { p.KeepRequestHeaders = []string{"x-keep"} })
	req := hostileRequest("/k?q=1", "h.example", "X-Keep: yes\r\n  folded\r\nX-Drop: "+strings.Repeat("d", 7000)+"\r\n")
	for _, side := range []struct {
		addr string
		ch   chan *Peer
	}{{b.accept.ln.Addr().String(), b.acceptCh}, {b.up.Listener.Addr().String(), b.upCh}} {
		if got := rawStatus(t, side.addr, req); got != 101 {
			t.Fatalf("status %d", got)
		}
		select {
		case p := <-side.ch:
			h := p.RequestHeader()
			if h.Get("X-Keep") != "yes folded" || h.Get("X-Drop") != "" || h.Get("Sec-WebSocket-Key") != testKey {
				t.Errorf("%s: headers %v", side.addr, h)
			}
			p.mu.Lock()
			n := len(p.reqHead)
			p.mu.Unlock()
			if n > 300 {
				t.Errorf("%s: %d bytes of head kept", side.addr, n)
			}
			if got := p.RequestedURL(); got != "ws://h.example/k?q=1" {
				t.Errorf("%s: RequestedURL %q", side.addr, got)
			}
		case <-time.After(testTimeout):
			t.Fatal("no open peer")
		}
	}
}
