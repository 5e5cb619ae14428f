package h2client_test

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/wspeer/wspeer"
	"github.com/wspeer/wspeer/h2client"
)

// selfSigned writes a certificate and key for 127.0.0.1 into dir and returns
// their paths and a client configuration trusting the certificate.
func selfSigned(t *testing.T, dir string) (certFile, keyFile string, client *tls.Config) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
		KeyUsage:    x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600); err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, wspeer.TLSClient(pool, "127.0.0.1")
}

// freePort returns a loopback port nothing listens on (a moment ago).
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// startHypercorn serves testdata/echo_asgi.py with Hypercorn over TLS (h2
// and http/1.1 in ALPN) and returns its address once it accepts.
func startHypercorn(t *testing.T) (addr string, client *tls.Config) {
	t.Helper()
	if err := exec.Command("/usr/bin/python3", "-c", "import hypercorn").Run(); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("Hypercorn (Debian python3-hypercorn) is missing: %v", err)
		}
		t.Skip("Hypercorn (Debian python3-hypercorn) is missing")
	}
	dir := t.TempDir()
	certFile, keyFile, client := selfSigned(t, dir)
	app, _ := filepath.Abs("testdata")
	addr = "127.0.0.1:" + strconv.Itoa(freePort(t))
	cmd := exec.Command("/usr/bin/python3", "-m", "hypercorn", "--certfile", certFile, "--keyfile", keyFile,
		"--bind", addr, "echo_asgi:app")
	cmd.Dir = app
	var logs bytes.Buffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-exited
		if t.Failed() {
			t.Logf("hypercorn:\n%s", logs.String())
		}
	})
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
			c.Close()
			return addr, client
		}
		select {
		case err := <-exited:
			exited <- err
			t.Fatalf("hypercorn exited: %v", err)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("hypercorn did not listen on %s", addr)
		}
	}
}

// TestHypercornEcho: Hypercorn, an ASGI server with its own RFC 8441
// implementation (the h2 library), is the HTTP/2 server for our client. The
// app's first message says the request came over HTTP/2; the subprotocol is
// selected, text and a 256 KiB binary message (over several flow-control
// windows) come back whole, and the close is clean.
func TestHypercornEcho(t *testing.T) {
	addr, client := startHypercorn(t)
	p := wspeer.NewPeer()
	p.StreamDialer = &h2client.Dialer{}
	p.SupportedProtocols = []string{"chat"}
	p.InboundBufferSize, p.OutboundBufferSize = 1<<20, 1<<20
	if err := p.ConnectToURL("wss://"+addr+"/echo", client); err != nil {
		t.Fatal(err)
	}
	waitFor(t, p, "first message", func() bool { return p.AvailablePacketCount() == 1 })
	if b, _ := p.GetPacket(); string(b) != "http_version 2" {
		t.Fatalf("first message %q, want http_version 2", b)
	}
	if p.SelectedProtocol() != "chat" || p.ConnectedHost() != "127.0.0.1" {
		t.Fatalf("protocol %q, host %q", p.SelectedProtocol(), p.ConnectedHost())
	}
	payload := make([]byte, 256<<10)
	_, _ = rand.Read(payload)
	if err := p.SendText("héllo"); err != nil {
		t.Fatal(err)
	}
	if err := p.PutPacket(payload); err != nil {
		t.Fatal(err)
	}
	waitFor(t, p, "echoes", func() bool { return p.AvailablePacketCount() == 2 })
	if b, _ := p.GetPacket(); string(b) != "héllo" || !p.WasStringPacket() {
		t.Fatalf("text echo %q", b)
	}
	if b, _ := p.GetPacket(); !bytes.Equal(b, payload) || p.WasStringPacket() {
		t.Fatalf("binary echo of %d bytes differs", len(b))
	}
	if err := p.Close(1000, "done"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, p, "closed", func() bool { return p.ReadyState() == wspeer.StateClosed })
	if p.CloseCode() != 1000 || p.CloseError() != nil {
		t.Fatalf("close: %d %q %v", p.CloseCode(), p.CloseReason(), p.CloseError())
	}
	if !strings.HasPrefix(p.RequestedURL(), "wss://127.0.0.1:") {
		t.Fatalf("RequestedURL %q", p.RequestedURL())
	}
}
