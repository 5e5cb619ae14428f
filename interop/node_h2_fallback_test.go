package interop

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/wspeer/wspeer"
	"github.com/wspeer/wspeer/h2client"
)

// TestNodeH2NoExtendedConnect: a server (Node's http2 module) that speaks
// HTTP/2 but whose SETTINGS do not allow extended CONNECT. Our client with
// h2client offers h2, reads the SETTINGS, and connects again over HTTP/1.1 on
// a new connection, where the WebSocket works: Node saw one HTTP/2 session,
// then one HTTP/1.1 upgrade.
func TestNodeH2NoExtendedConnect(t *testing.T) {
	if _, err := exec.LookPath("node"); err != nil {
		requirePeer(t, err, "Node.js")
	}
	// httptest's certificate (127.0.0.1, example.com) serves Node.
	ts := httptest.NewUnstartedServer(nil)
	ts.StartTLS()
	ts.Close()
	certFile, keyFile := filepath.Join(t.TempDir(), "cert.pem"), filepath.Join(t.TempDir(), "key.pem")
	kder, err := x509.MarshalPKCS8PrivateKey(ts.TLS.Certificates[0].PrivateKey)
	if err != nil {
		t.Fatal(err)
	}
	_ = os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ts.TLS.Certificates[0].Certificate[0]}), 0o600)
	_ = os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder}), 0o600)

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	node := startProc(t, "node", "node/h2server.js", certFile, keyFile)
	port, err := node.port(ctx)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(ts.Certificate())
	p := wspeer.NewPeer()
	p.StreamDialer = &h2client.Dialer{}
	if err := p.ConnectToURL("wss://127.0.0.1:"+strconv.Itoa(port)+"/fallback", wspeer.TLSClient(pool, "example.com")); err != nil {
		t.Fatal(err)
	}
	for p.ReadyState() == wspeer.StateConnecting && p.Wait(ctx) == nil {
		p.Poll()
	}
	if err := p.SendText("over http/1.1"); err != nil {
		t.Fatalf("%v (close %d %v)", err, p.CloseCode(), p.CloseError())
	}
	for p.AvailablePacketCount() == 0 && p.Wait(ctx) == nil {
		p.Poll()
	}
	if b, err := p.GetPacket(); string(b) != "over http/1.1" {
		t.Fatalf("echo %q, %v", b, err)
	}
	for _, want := range []string{"h2-session", "upgrade /fallback"} {
		if l, err := node.line(ctx, 10*time.Second); l != want {
			t.Fatalf("node said %q (%v), want %q", l, err, want)
		}
	}
	_ = p.Close(1000, "")
	for p.Wait(ctx) == nil {
		p.Poll()
	}
	if p.CloseCode() != 1000 {
		t.Fatalf("close %d %v", p.CloseCode(), p.CloseError())
	}
}
