package main

import (
	"bytes"
	"fmt"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/wspeer/wspeer"
)

func TestEchoServer(t *testing.T) {
	t.Parallel()
	srv, url := startServer(t, "echo", "-protocol", "b", "-protocol", "c")

	// Any path; subprotocol chosen in the client's order among the supported.
	p := dial(t, url+"/any/path?x=1", func(p *wspeer.Peer) {
		p.SupportedProtocols = []string{"a", "c", "b"}
		p.InboundBufferSize = 64 << 20
		p.OutboundBufferSize = 64 << 20
		p.MaxQueuedPackets = 4096
	})
	if got := p.SelectedProtocol(); got != "c" {
		t.Fatalf("selected protocol %q, want c", got)
	}
	// 16 MiB messages, as the Autobahn suite sends, both types, kept apart.
	big := bytes.Repeat([]byte("0123456789abcdef"), 1<<20)
	if err := p.Send(big, wspeer.WriteModeBinary); err != nil {
		t.Fatal(err)
	}
	if err := p.Send(big, wspeer.WriteModeText); err != nil {
		t.Fatal(err)
	}
	for _, wantText := range []bool{false, true} {
		msg, text := recv(t, p, 20*time.Second)
		if text != wantText || !bytes.Equal(msg, big) {
			t.Fatalf("16 MiB echo: %d bytes, text %v (want %v)", len(msg), text, wantText)
		}
	}

	// Backpressure: many messages sent before any is read all come back.
	const n = 3000
	end := time.Now().Add(10 * time.Second)
	for i := range n {
		for p.SendText(fmt.Sprint(i)) != nil {
			if time.Now().After(end) {
				t.Fatalf("could not send message %d", i)
			}
			p.Poll() // the outbound buffer is bounded too: let it drain
		}
	}
	for i := range n {
		msg, _ := recv(t, p, 10*time.Second)
		if string(msg) != fmt.Sprint(i) {
			t.Fatalf("message %d came back as %q", i, msg)
		}
	}

	// A connect process sees its lines echoed.
	c := start(t, "connect", url)
	c.waitStderr("connected to", 5*time.Second)
	fmt.Fprintln(c.stdin, "ping")
	if got := c.line(5 * time.Second); got != "ping" {
		t.Fatalf("connect got %q", got)
	}

	benchRate(t, url)

	// SIGTERM closes the remaining peers with 1001.
	srv.cmd.Process.Signal(syscall.SIGTERM)
	// The grace is 1.5 s (p below answers only later); the bound is loose so
	// that a loaded machine does not fail the test.
	if code := srv.exit(10 * time.Second); code != 0 {
		t.Fatalf("echo exit %d", code)
	}
	if code := c.exit(5 * time.Second); code != 3 || c.lastStderrLine() != "closed 1001 server shutting down" { // 3: closed by the server, not with 1000
		t.Fatalf("connect exit %d, last line %q", code, c.lastStderrLine())
	}
	waitClosed(t, p)
	if p.CloseCode() != 1001 {
		t.Fatalf("library peer closed %d", p.CloseCode())
	}
}

// connect -echo sends back what it receives: on /chat, what a writes is
// broadcast to b (-echo), whose echo is broadcast back to a.
func TestConnectEchoMode(t *testing.T) {
	t.Parallel()
	_, url := startServer(t, "serve")
	b := start(t, "connect", "-echo", url+"/chat")
	b.waitStderr("connected to", 5*time.Second)
	a := start(t, "connect", url+"/chat")
	a.waitStderr("connected to", 5*time.Second)
	fmt.Fprintln(a.stdin, "boomerang")
	if got := a.line(5 * time.Second); got != "boomerang" {
		t.Fatalf("a got %q", got)
	}
	a.stdin.Close()
	if code := a.exit(5 * time.Second); code != 0 {
		t.Fatalf("a exit %d", code)
	}
	b.cmd.Process.Signal(syscall.SIGINT) // closes with 1000
	if code := b.exit(5 * time.Second); code != 0 || !strings.HasPrefix(b.lastStderrLine(), "closed 1000") {
		t.Fatalf("b exit %d, last line %q", code, b.lastStderrLine())
	}
}
