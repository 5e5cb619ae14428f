package interop

import (
	"context"
	"fmt"
	"net"
	"os"
	"testing"
	"time"

	"github.com/wspeer/wspeer"
)

// message is one data message as wspeer received it.
type message struct {
	text bool
	data []byte
}

func (m message) String() string {
	kind := "binary"
	if m.text {
		kind = "text"
	}
	if len(m.data) > 40 {
		return fmt.Sprintf("%s[%d bytes] %q...", kind, len(m.data), m.data[:40])
	}
	return fmt.Sprintf("%s %q", kind, m.data)
}

// ourConn is the wspeer side of one connection: a Peer driven by a Wait loop
// in its own goroutine, its packets delivered on msgs.
type ourConn struct {
	p    *wspeer.Peer
	msgs chan message
	done chan struct{} // closed once the peer is CLOSED and msgs drained
}

// opts are the wspeer settings that vary between connections.
type opts struct {
	heartbeat time.Duration
	compress  bool // enable permessage-deflate
}

// newPeer returns a peer with every budget raised for 16 MiB messages.
func newPeer(protocols []string, o opts) *wspeer.Peer {
	p := wspeer.NewPeer()
	p.InboundBufferSize = Budget
	p.OutboundBufferSize = Budget
	p.MaxQueuedPackets = 4 * BurstCount
	p.SupportedProtocols = protocols
	p.HeartbeatInterval = o.heartbeat
	p.Compression = o.compress
	p.HandshakeTimeout = 10 * time.Second
	return p
}

// start runs p's Wait loop until it is CLOSED or ctx ends (then it drops the
// connection).
func start(ctx context.Context, p *wspeer.Peer) *ourConn {
	c := &ourConn{p: p, msgs: make(chan message, 8*BurstCount), done: make(chan struct{})}
	go func() {
		defer close(c.done)
		defer close(c.msgs)
		drain := func() {
			for p.AvailablePacketCount() > 0 {
				b, err := p.GetPacket()
				if err != nil {
					return
				}
				select {
				case c.msgs <- message{p.WasStringPacket(), b}:
				case <-ctx.Done():
					return
				}
			}
		}
		for p.Wait(ctx) == nil {
			p.Poll()
			drain()
		}
		if ctx.Err() != nil {
			p.Close(-1, "")
		}
		drain()
	}()
	return c
}

// waitOpen waits for the opening handshake to finish.
func (c *ourConn) waitOpen(ctx context.Context) error {
	for {
		switch s := c.p.ReadyState(); s {
		case wspeer.StateOpen:
			return nil
		case wspeer.StateConnecting:
		default:
			return fmt.Errorf("state %v, close code %d, error: %v", s, c.p.CloseCode(), c.p.CloseError())
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for OPEN: %w", ctx.Err())
		case <-time.After(2 * time.Millisecond):
		}
	}
}

// send queues one message.
func (c *ourConn) send(text bool, data []byte) error {
	mode := wspeer.WriteModeBinary
	if text {
		mode = wspeer.WriteModeText
	}
	return c.p.Send(data, mode)
}

// recv returns the next message, failing after timeout.
func (c *ourConn) recv(ctx context.Context, timeout time.Duration) (message, error) {
	tm := time.NewTimer(timeout)
	defer tm.Stop()
	select {
	case m, ok := <-c.msgs:
		if !ok {
			return message{}, fmt.Errorf("connection closed (code %d %q, error: %v)",
				c.p.CloseCode(), c.p.CloseReason(), c.p.CloseError())
		}
		return m, nil
	case <-tm.C:
		return message{}, fmt.Errorf("no message after %v (state %v)", timeout, c.p.ReadyState())
	case <-ctx.Done():
		return message{}, ctx.Err()
	}
}

// recvText expects a text message.
func (c *ourConn) recvText(ctx context.Context, timeout time.Duration) (string, error) {
	m, err := c.recv(ctx, timeout)
	if err != nil {
		return "", err
	}
	if !m.text {
		return "", fmt.Errorf("got %v, want a text message", m)
	}
	return string(m.data), nil
}

// waitClosed waits until the peer is CLOSED.
func (c *ourConn) waitClosed(ctx context.Context, timeout time.Duration) error {
	tm := time.NewTimer(timeout)
	defer tm.Stop()
	for {
		select {
		case _, ok := <-c.msgs:
			if !ok {
				<-c.done
				return nil
			}
		case <-tm.C:
			return fmt.Errorf("not CLOSED after %v (state %v)", timeout, c.p.ReadyState())
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// abort drops the connection and waits for the loop to end.
func (c *ourConn) abort() {
	c.p.Close(-1, "")
	for range c.msgs {
	}
	<-c.done
}

// dialOurs connects a wspeer client, offering OurClientProtocols, to url.
func dialOurs(ctx context.Context, url string, o opts) (*ourConn, error) {
	return dialPeer(ctx, url, OurClientProtocols, o)
}

// dialPeer connects a wspeer client to url.
func dialPeer(ctx context.Context, url string, protocols []string, o opts) (*ourConn, error) {
	p := newPeer(protocols, o)
	if err := p.ConnectToURL(url, nil); err != nil {
		return nil, err
	}
	c := start(ctx, p)
	if err := c.waitOpen(ctx); err != nil {
		c.abort()
		return nil, fmt.Errorf("wspeer client to %s: %w", url, err)
	}
	return c, nil
}

// listen opens a loopback listener for a wspeer server.
func listen(t *testing.T) *net.TCPListener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	return ln.(*net.TCPListener)
}

// acceptOurs accepts one connection on ln and runs the wspeer server side.
func acceptOurs(ctx context.Context, ln *net.TCPListener, o opts) (*ourConn, error) {
	deadline := time.Now().Add(30 * time.Second)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	ln.SetDeadline(deadline)
	conn, err := ln.Accept()
	if err != nil {
		return nil, fmt.Errorf("accepting the foreign client: %w", err)
	}
	p := newPeer(ServerProtocols, o)
	if err := p.AcceptStream(conn); err != nil {
		return nil, err
	}
	c := start(ctx, p)
	if err := c.waitOpen(ctx); err != nil {
		c.abort()
		return nil, fmt.Errorf("wspeer server: %w", err)
	}
	return c, nil
}

// closeEvent is what the foreign side saw when the connection ended.
type closeEvent struct {
	Event  string `json:"event"`
	Code   int    `json:"code"`
	Reason string `json:"reason"`
}

// requirePeer skips the test when a foreign runtime is missing, or fails it
// when running in CI, where every peer must be installed.
func requirePeer(t *testing.T, err error, what string) {
	t.Helper()
	if err == nil {
		return
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s is required in CI: %v", what, err)
	}
	t.Skipf("%s not available: %v", what, err)
}
