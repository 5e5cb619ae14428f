package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wspeer/wspeer"
	"github.com/wspeer/wspeer/h2client"
)

// writeCert writes a self-signed certificate and key for 127.0.0.1 into dir.
func writeCert(t *testing.T, dir string) (certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, _ := x509.MarshalECPrivateKey(key)
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600); err != nil {
		t.Fatal(err)
	}
	return certFile, keyFile
}

// startTLSServe runs `wspeer serve` over TLS and returns it with its wss://
// URL.
func startTLSServe(t *testing.T) (*proc, string) {
	t.Helper()
	cert, key := writeCert(t, t.TempDir())
	p := start(t, "serve", "-listen", "127.0.0.1:0", "-tls-cert", cert, "-tls-key", key)
	url, ok := strings.CutPrefix(p.line(10*time.Second), "listening on ")
	if !ok || !strings.HasPrefix(url, "wss://127.0.0.1:") {
		t.Fatalf("first stdout line: %q", url)
	}
	return p, url
}

// dialH2 connects a library client over HTTP/2 (h2client), not verifying
// the test's self-signed certificate.
func dialH2(t *testing.T, url string) *wspeer.Peer {
	t.Helper()
	return dialTLS(t, url, wspeer.TLSClientUnsafe(nil), func(p *wspeer.Peer) { p.StreamDialer = &h2client.Dialer{} })
}

// TestChatOverHTTP2InChromium: headless Chromium opens the chat page of
// `wspeer serve` over TLS; the page and its /chat WebSocket share one
// HTTP/2 connection (RFC 8441). Messages go both ways with a library client
// that also comes over HTTP/2. The server logs both WebSockets as HTTP/2.0,
// and Chromium's net log shows the extended CONNECT with :protocol
// websocket.
func TestChatOverHTTP2InChromium(t *testing.T) {
	t.Parallel()
	netLog := filepath.Join(t.TempDir(), "netlog.json")
	if keep := os.Getenv("WSPEER_NETLOG"); keep != "" {
		netLog = keep // to read it after the test
	}
	debugURL := startChromium(t, "--ignore-certificate-errors", "--log-net-log="+netLog)
	srv, wsURL := startTLSServe(t)
	c := newCDP(t, debugURL)
	if _, err := c.call("Page.navigate", map[string]any{"url": "https" + strings.TrimPrefix(wsURL, "wss") + "/"}); err != nil {
		t.Fatal(err)
	}
	c.waitEval(t, `document.body && document.body.dataset.state`, `"open"`)
	other := dialH2(t, wsURL+"/chat")
	if err := other.SendText("hello over h2"); err != nil {
		t.Fatal(err)
	}
	c.waitEval(t, `[...document.querySelectorAll("#log li.other")].map(e => e.lastChild.textContent).join("|")`, `"hello over h2"`)
	c.eval(t, `document.getElementById("input").value = "hello from chromium"; document.getElementById("form").requestSubmit(); true`)
	if msg, text := recv(t, other, 5*time.Second); string(msg) != "hello from chromium" || !text {
		t.Fatalf("other peer got %q (text %v)", msg, text)
	}
	if n := strings.Count(srv.stderr.String(), "path=/chat http=HTTP/2.0"); n != 2 {
		t.Fatalf("serve logged %d HTTP/2 chat connections, want 2:\n%s", n, srv.stderr.String())
	}
	t.Logf("serve's log:\n%s", srv.stderr.String())
	// Browser.close ends Chromium cleanly, which completes the net log.
	_, _ = c.call("Browser.close", nil)
	var log []byte
	for end := time.Now().Add(10 * time.Second); time.Now().Before(end); time.Sleep(100 * time.Millisecond) {
		if b, err := os.ReadFile(netLog); err == nil && strings.HasSuffix(strings.TrimSpace(string(b)), "}") {
			log = b
			break
		}
	}
	if !strings.Contains(string(log), `":protocol: websocket"`) {
		t.Fatalf("the net log (%d bytes) has no :protocol websocket header", len(log))
	}
}

// connectSession runs `wspeer connect -http2 -insecure url` with lines on
// stdin and checks the session: the opened line names the protocol, every
// line comes back (after the first stdout lines in skip), and it closes 1000.
func connectSession(t *testing.T, url, note string, skip []string, lines ...string) {
	t.Helper()
	c := start(t, "connect", "-http2", "-insecure", "-linger", "300ms", url)
	fmt.Fprint(c.stdin, strings.Join(lines, "\n")+"\n")
	c.stdin.Close()
	for _, want := range append(skip, lines...) {
		if got := c.line(10 * time.Second); got != want {
			t.Fatalf("got %q, want %q; stderr:\n%s", got, want, c.stderr.String())
		}
	}
	if code := c.exit(10 * time.Second); code != 0 {
		t.Fatalf("exit %d; stderr:\n%s", code, c.stderr.String())
	}
	if first := strings.SplitN(c.stderr.String(), "\n", 2)[0]; !strings.Contains(first, note) {
		t.Fatalf("first stderr line %q does not say %q", first, note)
	}
	if l := c.lastStderrLine(); l != "closed 1000" {
		t.Fatalf("last stderr line %q", l)
	}
}

// TestConnectHTTP2Serve: connect -http2 against serve over TLS goes over
// HTTP/2, as both ends say.
func TestConnectHTTP2Serve(t *testing.T) {
	t.Parallel()
	srv, url := startTLSServe(t)
	connectSession(t, url+"/echo", "(HTTP/2)", nil, "hello", "world")
	if !strings.Contains(srv.stderr.String(), "path=/echo http=HTTP/2.0") {
		t.Fatalf("serve's log:\n%s", srv.stderr.String())
	}
}

// TestConnectHTTP2Hypercorn: connect -http2 with Hypercorn (its own RFC 8441
// implementation) as the server, running h2client's ASGI echo app; the app's
// first message says the request came over HTTP/2.
func TestConnectHTTP2Hypercorn(t *testing.T) {
	t.Parallel()
	if err := exec.Command("/usr/bin/python3", "-c", "import hypercorn").Run(); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("Hypercorn (Debian python3-hypercorn) is missing: %v", err)
		}
		t.Skip("Hypercorn (Debian python3-hypercorn) is missing")
	}
	cert, key := writeCert(t, t.TempDir())
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	app, _ := filepath.Abs(filepath.Join("..", "..", "h2client", "testdata"))
	hc := exec.Command("/usr/bin/python3", "-m", "hypercorn", "--certfile", cert, "--keyfile", key, "--bind", addr, "echo_asgi:app")
	hc.Dir = app
	var logs lockedBuffer
	hc.Stdout, hc.Stderr = &logs, &logs
	if err := hc.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = hc.Process.Kill()
		_ = hc.Wait()
		if t.Failed() {
			t.Logf("hypercorn:\n%s", logs.String())
		}
	})
	for end := time.Now().Add(20 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
			c.Close()
			break
		}
		if time.Now().After(end) {
			t.Fatalf("hypercorn did not listen on %s", addr)
		}
	}
	connectSession(t, "wss://"+addr+"/echo", "(HTTP/2)", []string{"http_version 2"}, "hello hypercorn", "second line")
}
