//go:build !js

package wspeer_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"log"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/wspeer/wspeer"
)

// exampleEcho drives a server peer, echoing every message, until it closes.
func exampleEcho(p *wspeer.Peer) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for p.Wait(ctx) == nil {
		p.Poll()
		for p.AvailablePacketCount() > 0 {
			msg, _ := p.GetPacket()
			p.SendText(string(msg))
		}
	}
}

// exampleRoundTrip connects c, sends msg, prints the answer and closes.
func exampleRoundTrip(c *wspeer.Peer, msg string) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	sent := false
	for c.Wait(ctx) == nil {
		c.Poll()
		if c.ReadyState() == wspeer.StateOpen && !sent {
			c.SendText(msg)
			sent = true
		}
		for c.AvailablePacketCount() > 0 {
			got, _ := c.GetPacket()
			fmt.Printf("echo: %s\n", got)
			c.Close(1000, "done")
		}
	}
	fmt.Println("closed:", c.CloseCode(), c.CloseError())
}

// A wss:// client. Here the server is an httptest TLS server, so its
// certificate goes into the trusted roots; against a public server pass nil
// (or TLSClient(nil, "")) to verify against the system roots.
func ExampleTLSClient() {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if p, err := wspeer.Upgrade(w, r); err == nil {
			go exampleEcho(p)
		}
	}))
	defer srv.Close()

	roots := x509.NewCertPool()
	roots.AddCert(srv.Certificate())
	c := wspeer.NewPeer()
	url := "wss://" + strings.TrimPrefix(srv.URL, "https://") + "/echo"
	if err := c.ConnectToURL(url, wspeer.TLSClient(roots, "")); err != nil {
		log.Fatal(err)
	}
	exampleRoundTrip(c, "hello over wss")
	// Output:
	// echo: hello over wss
	// closed: 1000 <nil>
}

// A TLS server with AcceptStream: a tls.NewListener (or tls.Server) connection
// goes to AcceptStream, which does the TLS and WebSocket handshakes inside
// Poll, bounded by HandshakeTimeout.
func ExampleTLSServer() {
	// In a real server: cert, err := tls.LoadX509KeyPair("cert.pem", "key.pem")
	cert, roots := exampleCertificate("127.0.0.1")
	ln, err := tls.Listen("tcp", "127.0.0.1:0", wspeer.TLSServer(cert))
	if err != nil {
		log.Fatal(err)
	}
	defer ln.Close()
	scheme := make(chan string, 1)
	go func() {
		conn, err := ln.Accept()
		if err != nil {
			return
		}
		p := wspeer.NewPeer()
		if err := p.AcceptStream(conn); err != nil {
			return
		}
		exampleEcho(p)
		scheme <- strings.SplitN(p.RequestedURL(), ":", 2)[0]
	}()

	c := wspeer.NewPeer()
	if err := c.ConnectToURL("wss://"+ln.Addr().String()+"/", wspeer.TLSClient(roots, "")); err != nil {
		log.Fatal(err)
	}
	exampleRoundTrip(c, "hello, TLS server")
	fmt.Println("server saw:", <-scheme)
	// Output:
	// echo: hello, TLS server
	// closed: 1000 <nil>
	// server saw: wss
}

// An http.Handler that upgrades requests with an Upgrader: subprotocols,
// extra response headers, an Origin allow-list and an authorization hook.
func ExampleUpgrader() {
	u := &wspeer.Upgrader{
		Protocols:      []string{"chat.v1"},
		Header:         http.Header{"X-Server": {"example"}},
		OriginPatterns: []string{"*.example.com"},
		Accept: func(r *http.Request) error {
			if r.URL.Query().Get("token") != "secret" {
				return wspeer.Reject(http.StatusUnauthorized, "bad token")
			}
			return nil
		},
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/chat", func(w http.ResponseWriter, r *http.Request) {
		p, err := u.Upgrade(w, r)
		if err != nil {
			return // the client has its HTTP answer already
		}
		go exampleEcho(p)
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	base := "ws://" + strings.TrimPrefix(srv.URL, "http://") + "/chat"

	c := wspeer.NewPeer()
	c.SupportedProtocols = []string{"chat.v1"}
	if err := c.ConnectToURL(base+"?token=secret", nil); err != nil {
		log.Fatal(err)
	}
	exampleRoundTrip(c, "hi")
	fmt.Println("protocol:", c.SelectedProtocol(), "header:", c.ResponseHeader().Get("X-Server"))

	bad := wspeer.NewPeer()
	if err := bad.ConnectToURL(base, nil); err != nil {
		log.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for bad.Wait(ctx) == nil {
		bad.Poll()
	}
	fmt.Println("without token:", strings.Contains(bad.CloseError().Error(), "401"))
	// Output:
	// echo: hi
	// closed: 1000 <nil>
	// protocol: chat.v1 header: example
	// without token: true
}

// exampleCertificate makes a self-signed certificate for host and a pool
// that trusts it.
func exampleCertificate(host string) (tls.Certificate, *x509.CertPool) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		log.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses:  []net.IP{net.ParseIP(host)},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		log.Fatal(err)
	}
	leaf, _ := x509.ParseCertificate(der)
	roots := x509.NewCertPool()
	roots.AddCert(leaf)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, roots
}
