//go:build !js

package hub

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/wspeer/wspeer"
)

const testTimeout = 10 * time.Second

// member is a server-side peer on loopback, driven by its own Wait loop (as
// an application would), whose client end is either a wspeer client that
// collects what it receives or, for a slow reader, a raw TCP connection that
// never reads after the handshake.
type member struct {
	srv  *wspeer.Peer
	got  chan string // the client's received text messages (wspeer clients)
	raw  net.Conn    // the raw client end (slow readers)
	done chan struct{}
}

// newMember connects a client and returns the server side once OPEN. With
// slow, the client is raw TCP with small socket buffers that never reads.
func newMember(t *testing.T, outbound int, slow bool) *member {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	ctx, cancel := context.WithCancel(context.Background())
	m := &member{srv: wspeer.NewPeer(), got: make(chan string, 100000), done: make(chan struct{})}
	m.srv.OutboundBufferSize = outbound
	m.srv.MaxQueuedPackets = 1 << 20
	if slow {
		m.raw = rawRequest(t, ln.Addr().String())
	} else {
		startClient(t, ctx, "ws://"+ln.Addr().String()+"/", m.got)
	}
	conn, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	if slow {
		conn.(*net.TCPConn).SetWriteBuffer(4096)
	}
	if err := m.srv.AcceptStream(conn); err != nil {
		t.Fatal(err)
	}
	go func() { // the application's loop for this peer
		defer close(m.done)
		for m.srv.Wait(ctx) == nil {
			m.srv.Poll()
			for m.srv.AvailablePacketCount() > 0 {
				m.srv.GetPacket()
			}
		}
	}()
	t.Cleanup(func() {
		cancel()
		<-m.done
		m.srv.Close(-1, "")
		if m.raw != nil {
			m.raw.Close()
		}
	})
	if slow {
		rawResponse(t, m.raw)
	}
	end := time.Now().Add(testTimeout)
	for m.srv.ReadyState() != wspeer.StateOpen {
		if time.Now().After(end) {
			t.Fatalf("server peer still %v", m.srv.ReadyState())
		}
		time.Sleep(time.Millisecond)
	}
	return m
}

// startClient dials url with a wspeer client whose loop sends every text
// message it receives to got.
func startClient(t *testing.T, ctx context.Context, url string, got chan<- string) {
	t.Helper()
	c := wspeer.NewPeer()
	c.InboundBufferSize = 1 << 20
	c.MaxQueuedPackets = 1 << 20
	if err := c.ConnectToURL(url, nil); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for c.Wait(ctx) == nil {
			c.Poll()
			for {
				msg, err := c.GetPacket()
				if err != nil {
					break
				}
				got <- string(msg)
			}
		}
	}()
	t.Cleanup(func() { <-done; c.Close(-1, "") })
}

// rawRequest opens a WebSocket connection by hand (RFC 6455 section 4.1)
// with a small receive buffer and sends the opening request.
func rawRequest(t *testing.T, addr string) net.Conn {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	conn.(*net.TCPConn).SetReadBuffer(4096)
	fmt.Fprintf(conn, "GET / HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"+
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n", addr)
	return conn
}

// rawResponse reads the 101 response; the test never reads conn again.
func rawResponse(t *testing.T, conn net.Conn) {
	t.Helper()
	conn.SetReadDeadline(time.Now().Add(testTimeout))
	br := bufio.NewReaderSize(conn, 16) // reads no further than the response, roughly
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("handshake: %s", resp.Status)
	}
	conn.SetReadDeadline(time.Time{})
}

// expect reads the next message of ch, failing after testTimeout.
func expect(t *testing.T, ch <-chan string, want string) {
	t.Helper()
	select {
	case got := <-ch:
		if got != want {
			t.Fatalf("got %q, want %q", got, want)
		}
	case <-time.After(testTimeout):
		t.Fatalf("no message within %v, want %q", testTimeout, want)
	}
}

func text(s string) Message { return Message{Data: []byte(s)} }

func isClosing(p *wspeer.Peer) bool {
	s := p.ReadyState()
	return s == wspeer.StateClosing || s == wspeer.StateClosed
}
