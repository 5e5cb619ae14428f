//go:build !js

package wspeer_test

import (
	"context"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wspeer/wspeer"
)

// testProxy is an HTTP CONNECT proxy on loopback that tunnels every target
// to one backend address, so that clients can ask for made-up host names
// without any name resolution, and records the targets asked for.
type testProxy struct {
	*httptest.Server
	backend string
	auth    string // required "user:password", or ""

	mu      sync.Mutex
	targets []string
	conns   []net.Conn
}

func newTestProxy(t *testing.T, backend, auth string) *testProxy {
	t.Helper()
	px := &testProxy{backend: backend, auth: auth}
	var g goGroup
	px.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodConnect {
			http.Error(w, "CONNECT only", http.StatusMethodNotAllowed)
			return
		}
		px.mu.Lock()
		px.targets = append(px.targets, r.Host)
		px.mu.Unlock()
		if px.auth != "" && r.Header.Get("Proxy-Authorization") != "Basic "+base64.StdEncoding.EncodeToString([]byte(px.auth)) {
			w.Header().Set("Proxy-Authenticate", `Basic realm="test"`)
			http.Error(w, "credentials required", http.StatusProxyAuthRequired)
			return
		}
		dst, err := net.DialTimeout("tcp", px.backend, 5*time.Second)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		conn, brw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			dst.Close()
			return
		}
		px.mu.Lock()
		px.conns = append(px.conns, conn, dst)
		px.mu.Unlock()
		io.WriteString(conn, "HTTP/1.1 200 Connection established\r\n\r\n")
		if !g.Go(func() { io.Copy(dst, brw); dst.Close() }) || !g.Go(func() { io.Copy(conn, dst); conn.Close() }) {
			conn.Close()
			dst.Close()
		}
	}))
	t.Cleanup(func() {
		px.Close()
		px.mu.Lock()
		for _, c := range px.conns {
			c.Close()
		}
		px.mu.Unlock()
		g.Stop()
	})
	return px
}

func (px *testProxy) addr() string { return strings.TrimPrefix(px.URL, "http://") }

func (px *testProxy) asked() []string {
	px.mu.Lock()
	defer px.mu.Unlock()
	return slices.Clone(px.targets)
}

// proxyURL returns the proxy's URL with userinfo (user "", "" for none).
func (px *testProxy) proxyURL(user, pass string) *url.URL {
	u, _ := url.Parse(px.URL)
	if user != "" {
		u.User = url.UserPassword(user, pass)
	}
	return u
}

func viaProxy(u *url.URL) func(*wspeer.Peer) {
	return func(p *wspeer.Peer) { p.Proxy = http.ProxyURL(u) }
}

// proxyFail connects to target with setup and checks the peer ends CLOSED
// with CloseCode -1 and a CloseError matching ErrProxy.
func proxyFail(t *testing.T, target string, cfg *tls.Config, setup func(*wspeer.Peer)) error {
	t.Helper()
	c := wspeer.NewPeer()
	setup(c)
	if err := c.ConnectToURL(target, cfg); err != nil {
		t.Fatal(err)
	}
	drive(t, c, 5*time.Second, closed(c))
	if c.CloseCode() != -1 || !errors.Is(c.CloseError(), wspeer.ErrProxy) {
		t.Fatalf("close %d, error %v; want -1 and ErrProxy", c.CloseCode(), c.CloseError())
	}
	return c.CloseError()
}

func TestProxyWS(t *testing.T) {
	backend := newUpServer(t, &wspeer.Upgrader{}, false, nil)
	px := newTestProxy(t, strings.TrimPrefix(backend.URL, "http://"), "user:pa ss:word")
	c := dialWS(t, "ws://ws.example.test/echo", viaProxy(px.proxyURL("user", "pa ss:word")))
	echoOnce(t, c, "through the tunnel")
	if got := backend.peer(t).RequestedURL(); got != "ws://ws.example.test/echo" {
		t.Errorf("server RequestedURL %q", got)
	}
	closeClean(t, c)
	if got := px.asked(); !slices.Equal(got, []string{"ws.example.test:80"}) {
		t.Errorf("CONNECT targets %q", got)
	}

	// Wrong and missing credentials: 407.
	for _, u := range []*url.URL{px.proxyURL("user", "wrong"), px.proxyURL("", "")} {
		err := proxyFail(t, "ws://ws.example.test/", nil, viaProxy(u))
		if !strings.Contains(err.Error(), "407") {
			t.Errorf("error %v does not give the status", err)
		}
		if strings.Contains(err.Error(), "wrong") {
			t.Errorf("error %v shows the password", err)
		}
	}
}

// wss:// through the proxy: TLS runs inside the tunnel, end to end, with the
// target's name as SNI and verified name (the certificate is only valid for
// that made-up name, which nothing resolves).
func TestProxyWSS(t *testing.T) {
	ca := newTestCA(t)
	cfg := wspeer.TLSServer(ca.leaf(t, time.Time{}, "wss.example.test"))
	backend := newUpServerWith(t, &wspeer.Upgrader{}, nil, func(h http.Handler) *httptest.Server {
		s := httptest.NewUnstartedServer(h)
		s.TLS = cfg
		s.StartTLS()
		return s
	})
	px := newTestProxy(t, strings.TrimPrefix(backend.URL, "https://"), "u:p")
	c := wspeer.NewPeer()
	c.Proxy = http.ProxyURL(px.proxyURL("u", "p"))
	t.Cleanup(func() { c.Close(-1, "") })
	if err := c.ConnectToURL("wss://wss.example.test:8443/x", wspeer.TLSClient(ca.pool, "")); err != nil {
		t.Fatal(err)
	}
	echoOnce(t, c, "tls in the tunnel")
	if got := backend.peer(t).RequestedURL(); got != "wss://wss.example.test:8443/x" {
		t.Errorf("server RequestedURL %q", got)
	}
	closeClean(t, c)
	if got := px.asked(); !slices.Equal(got, []string{"wss.example.test:8443"}) {
		t.Errorf("CONNECT targets %q", got)
	}
	proxyFail(t, "wss://wss.example.test/", wspeer.TLSClient(ca.pool, ""), viaProxy(px.proxyURL("u", "bad")))
}

func TestProxyFailures(t *testing.T) {
	t.Run("proxy func error", func(t *testing.T) {
		boom := errors.New("no proxy for you")
		err := proxyFail(t, "ws://ws.example.test/", nil, func(p *wspeer.Peer) {
			p.Proxy = func(*http.Request) (*url.URL, error) { return nil, boom }
		})
		if !errors.Is(err, boom) {
			t.Errorf("error %v", err)
		}
	})
	t.Run("socks5 unsupported", func(t *testing.T) {
		err := proxyFail(t, "ws://ws.example.test/", nil, viaProxy(&url.URL{Scheme: "socks5", Host: "127.0.0.1:1080"}))
		if !errors.Is(err, wspeer.ErrUnsupported) {
			t.Errorf("error %v", err)
		}
	})
	t.Run("unreachable", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := ln.Addr().String()
		ln.Close()
		err = proxyFail(t, "ws://ws.example.test/", nil, viaProxy(&url.URL{Scheme: "http", Host: addr}))
		if !errors.Is(err, wspeer.ErrDial) {
			t.Errorf("error %v", err)
		}
	})
	t.Run("silent proxy", func(t *testing.T) {
		addr := silentServer(t, nil)
		start := time.Now()
		err := proxyFail(t, "ws://ws.example.test/", nil, func(p *wspeer.Peer) {
			p.HandshakeTimeout = 300 * time.Millisecond
			p.Proxy = http.ProxyURL(&url.URL{Scheme: "http", Host: addr})
		})
		if !errors.Is(err, wspeer.ErrHandshakeTimeout) || time.Since(start) > 3*time.Second {
			t.Errorf("error %v after %v", err, time.Since(start))
		}
	})
	t.Run("endless answer", func(t *testing.T) {
		addr := silentServer(t, func(c net.Conn) {
			io.WriteString(c, "HTTP/1.1 200 OK\r\n")
			for i := 0; i < 1000; i++ {
				if _, err := io.WriteString(c, "X-Filler: "+strings.Repeat("a", 100)+"\r\n"); err != nil {
					return
				}
			}
		})
		err := proxyFail(t, "ws://ws.example.test/", nil, viaProxy(&url.URL{Scheme: "http", Host: addr}))
		if !strings.Contains(err.Error(), "too large") {
			t.Errorf("error %v", err)
		}
	})
	t.Run("nil proxy connects directly", func(t *testing.T) {
		backend := newUpServer(t, &wspeer.Upgrader{}, false, nil)
		c := dialWS(t, backend.wsURL("/"), func(p *wspeer.Peer) {
			p.Proxy = func(*http.Request) (*url.URL, error) { return nil, nil }
		})
		echoOnce(t, c, "direct")
	})
}

// silentServer accepts connections on loopback and hands each to serve
// (nil: read and never answer) until the test ends.
func silentServer(t *testing.T, serve func(net.Conn)) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	t.Cleanup(func() { close(stop); ln.Close(); wg.Wait() })
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				go io.Copy(io.Discard, c)
				if serve != nil {
					serve(c)
				}
				<-stop
			}()
		}
	}()
	return ln.Addr().String()
}

// envChildURL names the variable that makes TestProxyEnvChild run: the URL
// to connect to with a nil Proxy, in a child process whose environment the
// parent chose.
const envChildURL = "WSPEER_TEST_ENV_PROXY_URL"

// http.ProxyFromEnvironment reads the environment once per process and skips
// loopback targets, so the environment is tested in child processes (this
// test binary again), with made-up host names that only the proxy knows.
// NO_PROXY is not tested: a host it exempts would need a real DNS lookup.
func TestProxyFromEnvironment(t *testing.T) {
	if testing.Short() {
		t.Skip("runs child processes")
	}
	backend := newUpServer(t, &wspeer.Upgrader{}, false, nil)
	backendAddr := strings.TrimPrefix(backend.URL, "http://")
	px := newTestProxy(t, backendAddr, "")
	dead := "http://127.0.0.1:1" // nothing listens there: using it fails
	cases := []struct {
		name, url, httpProxy, httpsProxy, noProxy string
		asked                                     []string
	}{
		{"ws uses HTTP_PROXY", "ws://env.example.test/", px.URL, dead, "", []string{"env.example.test:80"}},
		{"loopback is never proxied", "ws://" + backendAddr + "/", dead, dead, "", nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := len(px.asked())
			runEnvChild(t, tc.url, map[string]string{"HTTP_PROXY": tc.httpProxy, "HTTPS_PROXY": tc.httpsProxy, "NO_PROXY": tc.noProxy})
			if got := px.asked()[before:]; !slices.Equal(got, tc.asked) {
				t.Errorf("CONNECT targets %q, want %q", got, tc.asked)
			}
		})
	}
	t.Run("wss uses HTTPS_PROXY", func(t *testing.T) {
		ca := newTestCA(t)
		cfg := wspeer.TLSServer(ca.leaf(t, time.Time{}, "env.example.test"))
		tb := newUpServerWith(t, &wspeer.Upgrader{}, nil, func(h http.Handler) *httptest.Server {
			s := httptest.NewUnstartedServer(h)
			s.TLS = cfg
			s.StartTLS()
			return s
		})
		tpx := newTestProxy(t, strings.TrimPrefix(tb.URL, "https://"), "")
		runEnvChild(t, "wss://env.example.test/", map[string]string{"HTTP_PROXY": dead, "HTTPS_PROXY": tpx.URL})
		if got := tpx.asked(); !slices.Equal(got, []string{"env.example.test:443"}) {
			t.Errorf("CONNECT targets %q", got)
		}
	})
}

func runEnvChild(t *testing.T, target string, env map[string]string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestProxyEnvChild$", "-test.count=1", "-test.v", "-test.timeout=20s")
	for _, kv := range os.Environ() {
		switch strings.ToUpper(strings.SplitN(kv, "=", 2)[0]) {
		case "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "REQUEST_METHOD", envChildURL:
			continue
		}
		cmd.Env = append(cmd.Env, kv)
	}
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	cmd.Env = append(cmd.Env, envChildURL+"="+target)
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "--- PASS: TestProxyEnvChild") {
		t.Fatalf("child: %v\n%s", err, out)
	}
}

// TestProxyEnvChild is TestProxyFromEnvironment's child process.
func TestProxyEnvChild(t *testing.T) {
	target := os.Getenv(envChildURL)
	if target == "" {
		t.Skip("run by TestProxyFromEnvironment")
	}
	c := wspeer.NewPeer()
	// The child only checks that the tunnel works; the parent's proxy
	// checks where it leads.
	if err := c.ConnectToURL(target, wspeer.TLSClientUnsafe(nil)); err != nil {
		t.Fatal(err)
	}
	echoOnce(t, c, "env")
	closeClean(t, c)
}
