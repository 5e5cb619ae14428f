//go:build !js

package wspeer

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wspeer/wspeer/internal/proto"
)

// Robustness of the opening handshake against slow, stalled and oversized
// requests (ROBUSTNESS.md).

func validRequest() []byte {
	return []byte("GET /chat HTTP/1.1\r\nHost: example.com\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Key: " + testKey + "\r\nSec-WebSocket-Version: 13\r\n\r\n")
}

func TestRobustSlowlorisHandshake(t *testing.T) {
	timeout := scale(500*time.Millisecond, 5*time.Second)
	tick := scale(100*time.Millisecond, time.Second)
	req := validRequest()
	tests := []struct {
		name  string
		write func(c net.Conn, stop <-chan struct{})
	}{
		{"one byte per tick", func(c net.Conn, stop <-chan struct{}) {
			for i := range req {
				if _, err := c.Write(req[i : i+1]); err != nil {
					return
				}
				select {
				case <-stop:
					return
				case <-time.After(tick):
				}
			}
		}},
		{"half a request then silence", func(c net.Conn, stop <-chan struct{}) {
			c.Write(req[:len(req)/2])
			<-stop
		}},
		{"nothing at all", func(c net.Conn, stop <-chan struct{}) { <-stop }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, rc := serverPeer(t, func(p *Peer) { p.HandshakeTimeout = timeout })
			stop := make(chan struct{})
			done := make(chan struct{})
			go func() { defer close(done); tt.write(rc.conn, stop) }()
			defer func() { close(stop); <-done }()
			took := closedWithin(t, p, timeout+2*time.Second)
			expectLost(t, p, ErrHandshakeTimeout)
			if took < timeout-10*time.Millisecond || took > timeout+500*time.Millisecond {
				t.Fatalf("closed after %v, HandshakeTimeout %v", took, timeout)
			}
			// The TCP connection is closed, not left to the attacker.
			rc.conn.SetReadDeadline(time.Now().Add(2 * time.Second))
			if _, err := io.Copy(io.Discard, rc.conn); err != nil && !strings.Contains(err.Error(), "reset") {
				t.Fatalf("connection not closed: %v", err)
			}
			t.Logf("HandshakeTimeout %v: CLOSED after %v", timeout, took.Round(time.Millisecond))
		})
	}
}

func TestRobustManyStalledHandshakes(t *testing.T) {
	// n attackers each send half a request and stall; a well-behaved client
	// still connects and talks at once, and the handshake timeout then
	// closes every stalled connection.
	n := 1000
	timeout := 3 * time.Second
	fds0, heap0 := openFDs(), heapLive()
	s := newRobustServer(t, func(p *Peer) { p.HandshakeTimeout = timeout }, nil)
	half := validRequest()[:60]
	conns := make([]net.Conn, 0, n)
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	start := time.Now()
	for i := 0; i < n; i++ {
		c, err := net.Dial("tcp", s.ln.Addr().String())
		if err != nil {
			t.Fatalf("attacker %d: %v", i, err)
		}
		conns = append(conns, c)
		if _, err := c.Write(half); err != nil {
			t.Fatal(err)
		}
	}
	if got := settle(timeout, -n, func() int { return -int(s.accepted.Load()) }); -got != n {
		t.Fatalf("server accepted %d of %d", -got, n)
	}
	stalledAt := time.Since(start)
	heapStalled := heapLive()

	// The good client: connect, one echo, clean close.
	t0 := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	c, err := dialOpen(ctx, s.url(), nil)
	if err != nil {
		t.Fatalf("good client while %d handshakes stall: %v", n, err)
	}
	connectTook := time.Since(t0)
	if err := c.SendText("hello"); err != nil {
		t.Fatal(err)
	}
	if !runUntilClosed(ctx, c, func() {
		if c.AvailablePacketCount() > 0 && c.ReadyState() == StateOpen {
			if b, _ := c.GetPacket(); string(b) != "hello" {
				t.Errorf("echo %q", b)
			}
			c.Close(1000, "")
		}
	}) || c.CloseCode() != 1000 {
		t.Fatalf("good client: state %v code %d err %v", c.ReadyState(), c.CloseCode(), c.CloseError())
	}
	goodTook := time.Since(t0)
	if s.opened.Load() != 1 {
		t.Fatalf("%d handshakes completed, want 1", s.opened.Load())
	}

	// Every stalled connection is closed by the handshake timeout.
	if got := settle(timeout+3*time.Second, -(n + 1), func() int { return -int(s.closed.Load()) }); -got != n+1 {
		t.Fatalf("%d of %d server peers CLOSED", -got, n+1)
	}
	allClosed := time.Since(start)
	for i, c := range conns {
		c.SetReadDeadline(time.Now().Add(time.Second))
		if _, err := c.Read(make([]byte, 1)); err == nil || errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatalf("attacker %d still connected: %v", i, err)
		}
		c.Close()
	}
	conns = nil
	fds1 := settle(2*time.Second, fds0, openFDs)
	heap1 := heapLive()
	t.Logf("%d stalled handshakes: all accepted after %v, heap +%s while stalled (%d B each); good client OPEN in %v, echo+close in %v; all CLOSED %v after the start (HandshakeTimeout %v); FDs %d -> %d, heap %s -> %s",
		n, stalledAt.Round(time.Millisecond), mib(heapStalled-heap0), (heapStalled-heap0)/int64(n),
		connectTook.Round(time.Microsecond), goodTook.Round(time.Microsecond), allClosed.Round(time.Millisecond), timeout,
		fds0, fds1, mib(heap0), mib(heap1))
	// A one-time growth of the runtime's caches remains (the same +0.5 MiB
	// with -count=3: no leak per connection).
	if fds1 > fds0+4 || heap1-heap0 > 1<<20 {
		t.Fatalf("file descriptors %d -> %d, heap %s -> %s", fds0, fds1, mib(heap0), mib(heap1))
	}
}

func TestRobustOversizedHandshake(t *testing.T) {
	var headers bytes.Buffer
	for i := 0; headers.Len() < 64<<10; i++ {
		fmt.Fprintf(&headers, "X-Pad-%d: %s\r\n", i, strings.Repeat("a", 100))
	}
	tests := []struct {
		name  string
		extra []byte
	}{
		{"64 KiB of headers", headers.Bytes()},
		{"1 MiB header line", []byte("X-Long: " + strings.Repeat("b", 1<<20) + "\r\n")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := validRequest()
			req = append(req[:len(req)-2:len(req)-2], tt.extra...)
			req = append(req, "\r\n"...)
			p, rc := serverPeer(t, nil)
			var wg sync.WaitGroup
			wg.Add(1)
			a0 := totalAlloc()
			go func() {
				defer wg.Done()
				rc.conn.Write(req) // fails once the server has closed
			}()
			took := closedWithin(t, p, 5*time.Second)
			grew := totalAlloc() - a0
			if p.CloseCode() != -1 || !errors.Is(p.CloseError(), ErrHandshake) || !errors.Is(p.CloseError(), proto.ErrHeadTooLarge) {
				t.Fatalf("code %d err %v", p.CloseCode(), p.CloseError())
			}
			resp, err := http.ReadResponse(bufio.NewReader(rc.conn), nil)
			if err != nil {
				t.Fatalf("reading the answer: %v", err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
				t.Fatalf("status %d, want 431", resp.StatusCode)
			}
			rc.conn.Close()
			wg.Wait()
			// The head reader holds at most DefaultMaxHandshakeSize; the read
			// buffer is readBufSize. Allow those, the answer and some slack,
			// far below the request's size.
			if limit := int64(4*readBufSize + 64<<10); grew > limit {
				t.Fatalf("allocated %d bytes for a %d-byte request (limit %d)", grew, len(req), limit)
			}
			t.Logf("%d-byte request: 431 and CLOSED in %v, %d bytes allocated meanwhile", len(req), took.Round(time.Microsecond), grew)
		})
	}
}
