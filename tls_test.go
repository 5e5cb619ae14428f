//go:build !js

package wspeer_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"math/big"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wspeer/wspeer"
)

// testCA is a certificate authority made for one test.
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pool *x509.CertPool
}

var serial int64 = 1
var serialMu sync.Mutex

func nextSerial() *big.Int {
	serialMu.Lock()
	defer serialMu.Unlock()
	serial++
	return big.NewInt(serial)
}

func newTestCA(t testing.TB) *testCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          nextSerial(),
		Subject:               pkix.Name{CommonName: "wspeer test CA"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &testCA{cert: cert, key: key, pool: pool}
}

// leaf issues a server certificate for names (DNS names or IP addresses),
// valid from notBefore to notAfter (zero: an hour around now).
func (ca *testCA) leaf(t testing.TB, notAfter time.Time, names ...string) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	notBefore := time.Now().Add(-time.Hour)
	if notAfter.IsZero() {
		notAfter = time.Now().Add(time.Hour)
	} else {
		notBefore = notAfter.Add(-time.Hour)
	}
	tmpl := &x509.Certificate{
		SerialNumber: nextSerial(),
		Subject:      pkix.Name{CommonName: names[0]},
		NotBefore:    notBefore,
		NotAfter:     notAfter,
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
	}
	for _, n := range names {
		if ip := net.ParseIP(n); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, n)
		}
	}
	parent, signer := tmpl, key
	if ca != nil {
		parent, signer = ca.cert, ca.key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &key.PublicKey, signer)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

// goGroup runs goroutines that a test's cleanup waits for. Unlike a bare
// sync.WaitGroup it may be added to from handlers racing with the cleanup:
// after Stop, Go refuses to start more.
type goGroup struct {
	mu      sync.Mutex
	stopped bool
	wg      sync.WaitGroup
}

// Go runs f in a goroutine unless the group is stopped, and reports whether it did.
func (g *goGroup) Go(f func()) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.stopped {
		return false
	}
	g.wg.Add(1)
	go func() { defer g.wg.Done(); f() }()
	return true
}

// Stop refuses new goroutines and waits for the running ones.
func (g *goGroup) Stop() {
	g.mu.Lock()
	g.stopped = true
	g.mu.Unlock()
	g.wg.Wait()
}

// drive polls p until cond holds, failing the test after timeout.
func drive(t testing.TB, p *wspeer.Peer, timeout time.Duration, cond func() bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	for {
		p.Poll()
		if cond() {
			return
		}
		if err := p.Wait(ctx); err != nil && !errors.Is(err, wspeer.ErrClosed) {
			t.Fatalf("timed out: state %v, close %d %q, error %v", p.ReadyState(), p.CloseCode(), p.CloseReason(), p.CloseError())
		} else if err != nil {
			p.Poll()
			if !cond() {
				t.Fatalf("closed: close %d %q, error %v", p.CloseCode(), p.CloseReason(), p.CloseError())
			}
			return
		}
	}
}

func closed(p *wspeer.Peer) func() bool {
	return func() bool { return p.ReadyState() == wspeer.StateClosed }
}

// echoLoop drives a server peer, sending every message back, until it is
// CLOSED or ctx ends; it closes done when it returns.
func echoLoop(ctx context.Context, p *wspeer.Peer, done chan<- struct{}) {
	defer close(done)
	for p.Wait(ctx) == nil {
		p.Poll()
		for p.AvailablePacketCount() > 0 {
			msg, _ := p.GetPacket()
			mode := wspeer.WriteModeBinary
			if p.WasStringPacket() {
				mode = wspeer.WriteModeText
			}
			_ = p.Send(msg, mode)
		}
	}
	if ctx.Err() != nil {
		p.Close(-1, "")
	}
}

// echoOnce waits until c is OPEN, sends msg and checks the echo.
func echoOnce(t testing.TB, c *wspeer.Peer, msg string) {
	t.Helper()
	drive(t, c, 5*time.Second, func() bool { return c.ReadyState() == wspeer.StateOpen })
	if err := c.SendText(msg); err != nil {
		t.Fatal(err)
	}
	drive(t, c, 5*time.Second, func() bool { return c.AvailablePacketCount() > 0 })
	got, err := c.GetPacket()
	if err != nil || string(got) != msg || !c.WasStringPacket() {
		t.Fatalf("echo: got %q (text %v), %v; want %q", got, c.WasStringPacket(), err, msg)
	}
}

// closeClean closes c with 1000 and waits for CLOSED.
func closeClean(t testing.TB, c *wspeer.Peer) {
	t.Helper()
	if err := c.Close(1000, "bye"); err != nil {
		t.Fatal(err)
	}
	drive(t, c, 5*time.Second, closed(c))
	if c.CloseCode() != 1000 {
		t.Fatalf("close code %d, error %v", c.CloseCode(), c.CloseError())
	}
}

// tlsEchoServer accepts TLS connections with cfg on loopback and echoes on
// each. It returns the address and a func giving the server peers so far.
func tlsEchoServer(t *testing.T, cfg *tls.Config, setup func(*wspeer.Peer)) (string, func() []*wspeer.Peer) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var mu sync.Mutex
	var peers []*wspeer.Peer
	var wg sync.WaitGroup
	t.Cleanup(func() { cancel(); ln.Close(); wg.Wait() })
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			p := wspeer.NewPeer()
			if setup != nil {
				setup(p)
			}
			if err := p.AcceptStream(tls.Server(c, cfg)); err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			peers = append(peers, p)
			mu.Unlock()
			done := make(chan struct{})
			wg.Add(1)
			go func() { defer wg.Done(); echoLoop(ctx, p, done) }()
		}
	}()
	return ln.Addr().String(), func() []*wspeer.Peer {
		mu.Lock()
		defer mu.Unlock()
		return append([]*wspeer.Peer(nil), peers...)
	}
}

// connectFail connects to url with cfg and returns the CloseError, checking
// the failure is CLOSED with CloseCode -1 and matches ErrHandshake.
func connectFail(t *testing.T, url string, cfg *tls.Config) error {
	t.Helper()
	c := wspeer.NewPeer()
	if err := c.ConnectToURL(url, cfg); err != nil {
		t.Fatal(err)
	}
	drive(t, c, 5*time.Second, closed(c))
	err := c.CloseError()
	if c.CloseCode() != -1 || !errors.Is(err, wspeer.ErrHandshake) {
		t.Fatalf("close %d, error %v; want -1 and ErrHandshake", c.CloseCode(), err)
	}
	var cve *tls.CertificateVerificationError
	if !errors.As(err, &cve) {
		t.Fatalf("error %v is not a *tls.CertificateVerificationError", err)
	}
	return err
}

func TestTLSValidChain(t *testing.T) {
	ca := newTestCA(t)
	addr, peers := tlsEchoServer(t, wspeer.TLSServer(ca.leaf(t, time.Time{}, "127.0.0.1", "localhost")), nil)
	c := wspeer.NewPeer()
	if err := c.ConnectToURL("wss://"+addr+"/chat?room=1", wspeer.TLSClient(ca.pool, "")); err != nil {
		t.Fatal(err)
	}
	echoOnce(t, c, "hello over TLS")
	if got := peers()[0].RequestedURL(); got != "wss://"+addr+"/chat?room=1" {
		t.Errorf("server RequestedURL %q", got)
	}
	closeClean(t, c)
}

func TestTLSWrongHost(t *testing.T) {
	ca := newTestCA(t)
	addr, _ := tlsEchoServer(t, wspeer.TLSServer(ca.leaf(t, time.Time{}, "other.example.test")), nil)
	err := connectFail(t, "wss://"+addr+"/", wspeer.TLSClient(ca.pool, ""))
	var he x509.HostnameError
	if !errors.As(err, &he) {
		t.Fatalf("error %v is not an x509.HostnameError", err)
	}
}

func TestTLSUnknownCA(t *testing.T) {
	ca, other := newTestCA(t), newTestCA(t)
	addr, _ := tlsEchoServer(t, wspeer.TLSServer(other.leaf(t, time.Time{}, "127.0.0.1")), nil)
	err := connectFail(t, "wss://"+addr+"/", wspeer.TLSClient(ca.pool, ""))
	var ua x509.UnknownAuthorityError
	if !errors.As(err, &ua) {
		t.Fatalf("error %v is not an x509.UnknownAuthorityError", err)
	}
	// nil configuration: the system roots do not know our CA either.
	err = connectFail(t, "wss://"+addr+"/", nil)
	if !errors.As(err, &ua) {
		t.Fatalf("nil config: error %v is not an x509.UnknownAuthorityError", err)
	}
}

func TestTLSExpired(t *testing.T) {
	ca := newTestCA(t)
	addr, _ := tlsEchoServer(t, wspeer.TLSServer(ca.leaf(t, time.Now().Add(-time.Minute), "127.0.0.1")), nil)
	err := connectFail(t, "wss://"+addr+"/", wspeer.TLSClient(ca.pool, ""))
	var ci x509.CertificateInvalidError
	if !errors.As(err, &ci) || ci.Reason != x509.Expired {
		t.Fatalf("error %v is not an expiry", err)
	}
}

// sniServer records the server names clients send.
func sniServer(t *testing.T, cert tls.Certificate) (string, func() []string) {
	var mu sync.Mutex
	var names []string
	cfg := wspeer.TLSServer(cert)
	cfg.GetConfigForClient = func(h *tls.ClientHelloInfo) (*tls.Config, error) {
		mu.Lock()
		names = append(names, h.ServerName)
		mu.Unlock()
		return nil, nil
	}
	addr, _ := tlsEchoServer(t, cfg, nil)
	return addr, func() []string { mu.Lock(); defer mu.Unlock(); return append([]string(nil), names...) }
}

func TestTLSClientUnsafe(t *testing.T) {
	t.Run("self-signed, no roots", func(t *testing.T) {
		addr, sni := sniServer(t, (*testCA)(nil).leaf(t, time.Time{}, "self.example.test"))
		_, port, _ := net.SplitHostPort(addr)
		c := wspeer.NewPeer()
		// localhost may resolve to ::1 first; the dial then tries 127.0.0.1.
		if err := c.ConnectToURL("wss://localhost:"+port+"/", wspeer.TLSClientUnsafe(nil)); err != nil {
			t.Fatal(err)
		}
		echoOnce(t, c, "unsafe")
		closeClean(t, c)
		if got := sni(); len(got) == 0 || got[len(got)-1] != "localhost" {
			t.Errorf("SNI %q, want localhost (unlike Godot, unsafe still sends it)", got)
		}
	})
	t.Run("roots, wrong host accepted", func(t *testing.T) {
		ca := newTestCA(t)
		addr, _ := tlsEchoServer(t, wspeer.TLSServer(ca.leaf(t, time.Time{}, "not-this-host.example.test")), nil)
		c := wspeer.NewPeer()
		if err := c.ConnectToURL("wss://"+addr+"/", wspeer.TLSClientUnsafe(ca.pool)); err != nil {
			t.Fatal(err)
		}
		echoOnce(t, c, "chain only")
		closeClean(t, c)
	})
	t.Run("roots, unknown CA refused", func(t *testing.T) {
		ca, other := newTestCA(t), newTestCA(t)
		addr, _ := tlsEchoServer(t, wspeer.TLSServer(other.leaf(t, time.Time{}, "127.0.0.1")), nil)
		err := connectFail(t, "wss://"+addr+"/", wspeer.TLSClientUnsafe(ca.pool))
		var ua x509.UnknownAuthorityError
		if !errors.As(err, &ua) {
			t.Fatalf("error %v is not an x509.UnknownAuthorityError", err)
		}
	})
}

func TestTLSServerNameOverride(t *testing.T) {
	ca := newTestCA(t)
	addr, sni := sniServer(t, ca.leaf(t, time.Time{}, "ws.internal.example.test"))
	c := wspeer.NewPeer()
	if err := c.ConnectToURL("wss://"+addr+"/", wspeer.TLSClient(ca.pool, "ws.internal.example.test")); err != nil {
		t.Fatal(err)
	}
	echoOnce(t, c, "override")
	closeClean(t, c)
	if got := sni(); len(got) != 1 || got[0] != "ws.internal.example.test" {
		t.Errorf("SNI %q", got)
	}
	// Without the override the certificate does not match 127.0.0.1.
	connectFail(t, "wss://"+addr+"/", wspeer.TLSClient(ca.pool, ""))
}

// Configurations that can only serve are refused by ConnectToURL (issue 15
// item 8).
func TestTLSServerConfigRefusedByConnect(t *testing.T) {
	leaf := (*testCA)(nil).leaf(t, time.Time{}, "127.0.0.1")
	for name, mutate := range map[string]func(*tls.Config){
		"ClientAuth": func(c *tls.Config) { c.ClientAuth = tls.RequireAnyClientCert },
		"ClientCAs":  func(c *tls.Config) { c.ClientCAs = x509.NewCertPool() },
		"GetConfigForClient": func(c *tls.Config) {
			c.GetConfigForClient = func(*tls.ClientHelloInfo) (*tls.Config, error) { return nil, nil }
		},
	} {
		cfg := wspeer.TLSServer(leaf)
		mutate(cfg)
		c := wspeer.NewPeer()
		if err := c.ConnectToURL("wss://127.0.0.1:1/", cfg); !errors.Is(err, wspeer.ErrInvalidParameter) {
			t.Errorf("%s: got %v, want ErrInvalidParameter", name, err)
		}
		if c.ReadyState() != wspeer.StateClosed {
			t.Errorf("%s: state %v", name, c.ReadyState())
		}
	}
}

// Mutual TLS: a client configuration with its own certificate connects to a
// server that requires and verifies one; without it the server refuses
// (issue 15 item 8, F8).
func TestTLSMutual(t *testing.T) {
	ca := newTestCA(t)
	srv := wspeer.TLSServer(ca.leaf(t, time.Time{}, "127.0.0.1"))
	srv.ClientAuth, srv.ClientCAs = tls.RequireAndVerifyClientCert, ca.pool
	addr, _ := tlsEchoServer(t, srv, nil)
	cli := wspeer.TLSClient(ca.pool, "")
	cli.Certificates = []tls.Certificate{ca.leaf(t, time.Time{}, "client.example.test")}
	c := wspeer.NewPeer()
	if err := c.ConnectToURL("wss://"+addr+"/", cli); err != nil {
		t.Fatal(err)
	}
	echoOnce(t, c, "hello with a client certificate")
	closeClean(t, c)
	c = wspeer.NewPeer()
	if err := c.ConnectToURL("wss://"+addr+"/", wspeer.TLSClient(ca.pool, "")); err != nil {
		t.Fatal(err)
	}
	drive(t, c, 5*time.Second, closed(c))
	if err := c.CloseError(); !errors.Is(err, wspeer.ErrHandshake) || !strings.Contains(err.Error(), "certificate required") {
		t.Errorf("without a client certificate: %v", err)
	}
}

func TestTLSAcceptStreamPlainClient(t *testing.T) {
	ca := newTestCA(t)
	addr, peers := tlsEchoServer(t, wspeer.TLSServer(ca.leaf(t, time.Time{}, "127.0.0.1")), nil)
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	req := "GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"
	if _, err := conn.Write([]byte(req)); err != nil {
		t.Fatal(err)
	}
	s := waitPeer(t, peers)
	drive(t, s, 5*time.Second, closed(s))
	if s.CloseCode() != -1 || !errors.Is(s.CloseError(), wspeer.ErrHandshake) {
		t.Fatalf("close %d, error %v", s.CloseCode(), s.CloseError())
	}
	var rh tls.RecordHeaderError
	if !errors.As(s.CloseError(), &rh) {
		t.Errorf("error %v is not a tls.RecordHeaderError", s.CloseError())
	}
}

func TestTLSAcceptStreamHandshakeTimeout(t *testing.T) {
	ca := newTestCA(t)
	addr, peers := tlsEchoServer(t, wspeer.TLSServer(ca.leaf(t, time.Time{}, "127.0.0.1")),
		func(p *wspeer.Peer) { p.HandshakeTimeout = 300 * time.Millisecond })
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close() // connected, never starts TLS
	s := waitPeer(t, peers)
	start := time.Now()
	drive(t, s, 5*time.Second, closed(s))
	if s.CloseCode() != -1 || !errors.Is(s.CloseError(), wspeer.ErrHandshakeTimeout) {
		t.Fatalf("close %d, error %v", s.CloseCode(), s.CloseError())
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("took %v", d)
	}
}

func TestTLSClientHandshakeTimeout(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		c, err := ln.Accept()
		if err == nil {
			defer c.Close()
			<-stop // a server that never answers the ClientHello
		}
	}()
	c := wspeer.NewPeer()
	c.HandshakeTimeout = 300 * time.Millisecond
	if err := c.ConnectToURL("wss://"+ln.Addr().String()+"/", wspeer.TLSClientUnsafe(nil)); err != nil {
		t.Fatal(err)
	}
	drive(t, c, 5*time.Second, closed(c))
	if c.CloseCode() != -1 || !errors.Is(c.CloseError(), wspeer.ErrHandshakeTimeout) {
		t.Fatalf("close %d, error %v", c.CloseCode(), c.CloseError())
	}
	if !strings.Contains(c.CloseError().Error(), "TLS") {
		t.Errorf("error %v does not say TLS", c.CloseError())
	}
}

// waitPeer waits for the first server peer.
func waitPeer(t *testing.T, peers func() []*wspeer.Peer) *wspeer.Peer {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if ps := peers(); len(ps) > 0 {
			return ps[0]
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatal("no connection accepted")
	return nil
}
