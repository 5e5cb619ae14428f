//go:build !js

package wspeer

import (
	"bufio"
	"context"
	"crypto/sha1"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// Test helpers. The remote ends in these tests are scripted by hand from
// RFC 6455 (raw bytes through net.Conn), not by the code under test.

const testTimeout = 10 * time.Second

// listen returns a loopback listener closed at the end of the test.
func listen(t *testing.T) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	return ln
}

// pollUntil polls p until cond holds, failing after testTimeout.
func pollUntil(t *testing.T, p *Peer, what string, cond func() bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	for {
		p.Poll()
		if cond() {
			return
		}
		err := p.Wait(ctx)
		switch {
		case errors.Is(err, ErrClosed):
			if p.Poll(); !cond() {
				t.Fatalf("waiting for %s: peer closed (code %d, reason %q, err %v)", what, p.CloseCode(), p.CloseReason(), p.CloseError())
			}
			return
		case err != nil:
			t.Fatalf("waiting for %s: %v (state %v, code %d, err %v)", what, err, p.ReadyState(), p.CloseCode(), p.CloseError())
		}
	}
}

func stateIs(p *Peer, s State) func() bool { return func() bool { return p.ReadyState() == s } }

// rawClient is a hand-driven WebSocket client over TCP.
type rawClient struct {
	t    *testing.T
	conn net.Conn
	br   *bufio.Reader
	key  string
}

const testKey = "dGhlIHNhbXBsZSBub25jZQ=="

func acceptFor(key string) string {
	h := sha1.Sum([]byte(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"))
	return base64.StdEncoding.EncodeToString(h[:])
}

// serverPeer starts a server Peer on a fresh TCP connection and returns it with
// the raw client end, before any handshake byte is sent.
func serverPeer(t *testing.T, setup func(*Peer)) (*Peer, *rawClient) {
	t.Helper()
	ln := listen(t)
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	sc, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	p := NewPeer()
	if setup != nil {
		setup(p)
	}
	if err := p.AcceptStream(sc); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close(-1, "") })
	_ = c.SetDeadline(time.Now().Add(testTimeout))
	return p, &rawClient{t: t, conn: c, br: bufio.NewReader(c), key: testKey}
}

// openServer returns an OPEN server Peer and its raw client.
func openServer(t *testing.T, setup func(*Peer)) (*Peer, *rawClient) {
	t.Helper()
	p, rc := serverPeer(t, setup)
	rc.handshake("")
	pollUntil(t, p, "OPEN", stateIs(p, StateOpen))
	rc.readResponse(101)
	return p, rc
}

func (rc *rawClient) write(b []byte) {
	rc.t.Helper()
	if _, err := rc.conn.Write(b); err != nil {
		rc.t.Fatal(err)
	}
}

func (rc *rawClient) handshake(extra string) {
	rc.write([]byte("GET /chat?x=1 HTTP/1.1\r\nHost: example.com:8080\r\nUpgrade: websocket\r\n" +
		"Connection: Upgrade\r\nSec-WebSocket-Key: " + rc.key + "\r\nSec-WebSocket-Version: 13\r\n" + extra + "\r\n"))
}

// readResponse reads an HTTP response head and checks its status.
func (rc *rawClient) readResponse(status int) *http.Response {
	rc.t.Helper()
	resp, err := http.ReadResponse(rc.br, nil)
	if err != nil {
		rc.t.Fatalf("reading response: %v", err)
	}
	if resp.StatusCode != status {
		rc.t.Fatalf("status %d, want %d", resp.StatusCode, status)
	}
	return resp
}

// frame builds a frame; masked frames use a fixed key and a byte loop.
func frame(op byte, fin bool, masked bool, payload []byte) []byte {
	b0 := op
	if fin {
		b0 |= 0x80
	}
	var b []byte
	var m byte
	if masked {
		m = 0x80
	}
	switch n := len(payload); {
	case n < 126:
		b = []byte{b0, m | byte(n)}
	case n < 65536:
		b = []byte{b0, m | 126, byte(n >> 8), byte(n)}
	default:
		b = []byte{b0, m | 127}
		b = binary.BigEndian.AppendUint64(b, uint64(n))
	}
	if !masked {
		return append(b, payload...)
	}
	key := [4]byte{0x11, 0x22, 0x33, 0x44}
	b = append(b, key[:]...)
	for i, c := range payload {
		b = append(b, c^key[i%4])
	}
	return b
}

func closePayload(code int, reason string) []byte {
	return append([]byte{byte(code >> 8), byte(code)}, reason...)
}

// rawFrame is a frame read by a raw end.
type rawFrame struct {
	fin     bool
	op      byte
	masked  bool
	payload []byte
}

func readFrame(t *testing.T, r io.Reader) rawFrame {
	t.Helper()
	f, err := tryReadFrame(r)
	if err != nil {
		t.Fatalf("reading frame: %v", err)
	}
	return f
}

func tryReadFrame(r io.Reader) (rawFrame, error) {
	var h [2]byte
	if _, err := io.ReadFull(r, h[:]); err != nil {
		return rawFrame{}, err
	}
	f := rawFrame{fin: h[0]&0x80 != 0, op: h[0] & 0xF, masked: h[1]&0x80 != 0}
	n := uint64(h[1] & 0x7F)
	switch n {
	case 126:
		var b [2]byte
		if _, err := io.ReadFull(r, b[:]); err != nil {
			return f, err
		}
		n = uint64(binary.BigEndian.Uint16(b[:]))
	case 127:
		var b [8]byte
		if _, err := io.ReadFull(r, b[:]); err != nil {
			return f, err
		}
		n = binary.BigEndian.Uint64(b[:])
	}
	var key [4]byte
	if f.masked {
		if _, err := io.ReadFull(r, key[:]); err != nil {
			return f, err
		}
	}
	if n > 64<<20 {
		return f, errors.New("frame too large for a test")
	}
	f.payload = make([]byte, n)
	if _, err := io.ReadFull(r, f.payload); err != nil {
		return f, err
	}
	if f.masked {
		for i := range f.payload {
			f.payload[i] ^= key[i%4]
		}
	}
	return f, nil
}

func (rc *rawClient) readFrame() rawFrame {
	rc.t.Helper()
	return readFrame(rc.t, rc.br)
}

// expectClose reads frames until a close frame and returns its code (1005 for
// none).
func (rc *rawClient) expectClose() (int, string) {
	rc.t.Helper()
	for i := 0; i < 1000; i++ {
		f := rc.readFrame()
		if f.op == 8 {
			if len(f.payload) < 2 {
				return 1005, ""
			}
			return int(binary.BigEndian.Uint16(f.payload)), string(f.payload[2:])
		}
	}
	rc.t.Fatal("no close frame")
	return 0, ""
}

// expectEOF checks that the peer closed the TCP connection.
func (rc *rawClient) expectEOF() {
	rc.t.Helper()
	for i := 0; i < 1000; i++ {
		if _, err := tryReadFrame(rc.br); err != nil {
			if !errors.Is(err, io.EOF) && !strings.Contains(err.Error(), "reset") {
				rc.t.Fatalf("want EOF, got %v", err)
			}
			return
		}
	}
	rc.t.Fatal("connection not closed")
}

// rawServer is a hand-driven WebSocket server for client tests.
type rawServer struct {
	t    *testing.T
	ln   net.Listener
	conn net.Conn
	br   *bufio.Reader
	req  *http.Request
}

func newRawServer(t *testing.T) *rawServer {
	return &rawServer{t: t, ln: listen(t)}
}

func (s *rawServer) url(path string) string { return "ws://" + s.ln.Addr().String() + path }

// accept takes the client's connection and reads its request.
func (s *rawServer) accept() *http.Request {
	s.t.Helper()
	c, err := s.ln.Accept()
	if err != nil {
		s.t.Fatal(err)
	}
	s.t.Cleanup(func() { c.Close() })
	_ = c.SetDeadline(time.Now().Add(testTimeout))
	s.conn, s.br = c, bufio.NewReader(c)
	s.req, err = http.ReadRequest(s.br)
	if err != nil {
		s.t.Fatalf("reading request: %v", err)
	}
	return s.req
}

// respond writes a 101 response for the request (extra lines appended).
func (s *rawServer) respond(extra string) {
	s.write([]byte("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Accept: " + acceptFor(s.req.Header.Get("Sec-WebSocket-Key")) + "\r\n" + extra + "\r\n"))
}

func (s *rawServer) write(b []byte) {
	s.t.Helper()
	if _, err := s.conn.Write(b); err != nil {
		s.t.Fatal(err)
	}
}

// openClient returns an OPEN client Peer connected to a raw server.
func openClient(t *testing.T, setup func(*Peer)) (*Peer, *rawServer) {
	t.Helper()
	s := newRawServer(t)
	p := NewPeer()
	if setup != nil {
		setup(p)
	}
	if err := p.ConnectToURL(s.url("/"), nil); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close(-1, "") })
	done := make(chan struct{})
	go func() {
		defer close(done)
		s.accept()
		s.respond("")
	}()
	pollUntil(t, p, "OPEN", stateIs(p, StateOpen))
	<-done
	return p, s
}

func newBufReader(r io.Reader) *bufio.Reader { return bufio.NewReader(r) }

// expectCloseNoFatal is expectClose for use off the test goroutine.
func (rc *rawClient) expectCloseNoFatal() (int, error) {
	for i := 0; i < 1000; i++ {
		f, err := tryReadFrame(rc.br)
		if err != nil {
			return 0, err
		}
		if f.op == 8 && len(f.payload) >= 2 {
			return int(f.payload[0])<<8 | int(f.payload[1]), nil
		}
	}
	return 0, errors.New("no close frame")
}
