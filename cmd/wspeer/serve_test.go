package main

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/wspeer/wspeer"
)

func TestServeEchoThroughConnect(t *testing.T) {
	t.Parallel()
	_, url := startServer(t, "serve")
	c := start(t, "connect", url+"/echo")
	c.waitStderr("connected to", 5*time.Second)
	for _, msg := range []string{"hello", "wörld ✓"} {
		fmt.Fprintln(c.stdin, msg)
		if got := c.line(5 * time.Second); got != msg {
			t.Fatalf("echo: got %q, want %q", got, msg)
		}
	}
	c.stdin.Close() // end of stdin closes with 1000
	if code := c.exit(5 * time.Second); code != 0 {
		t.Fatalf("connect exit %d", code)
	}
	if l := c.lastStderrLine(); l != "closed 1000" {
		t.Fatalf("last stderr line %q, want closed 1000", l)
	}

	// -binary sends binary messages, printed as a hex summary.
	b := start(t, "connect", url+"/echo", "-binary")
	b.waitStderr("connected to", 5*time.Second)
	fmt.Fprintln(b.stdin, "hi")
	if got := b.line(5 * time.Second); got != "[binary 2 bytes] 6869" {
		t.Fatalf("binary echo printed %q", got)
	}
	b.stdin.Close()
	b.exit(5 * time.Second)
}

func TestServeChatBroadcastAndShutdown(t *testing.T) {
	t.Parallel()
	srv, url := startServer(t, "serve")
	if l := srv.line(5 * time.Second); !strings.HasPrefix(l, "chat page at http://127.0.0.1:") {
		t.Fatalf("second stdout line %q", l)
	}
	httpURL := "http" + strings.TrimPrefix(url, "ws") + "/"
	resp, err := http.Get(httpURL)
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(page), "wspeer chat") {
		t.Fatalf("GET /: %d\n%s", resp.StatusCode, page)
	}

	a := start(t, "connect", url+"/chat")
	b := start(t, "connect", url+"/chat")
	a.waitStderr("connected to", 5*time.Second)
	b.waitStderr("connected to", 5*time.Second)
	fmt.Fprintln(a.stdin, "hello from a")
	if got := b.line(5 * time.Second); got != "hello from a" {
		t.Fatalf("b got %q", got)
	}
	// A library peer sees it too; the sender does not get its own message.
	p := dial(t, url+"/chat", nil)
	// The server registers a peer just after its 101 response: once a message
	// of p's is broadcast, p is surely in the room.
	if err := p.SendText("hello from p"); err != nil {
		t.Fatal(err)
	}
	for _, c := range []*proc{a, b} {
		if got := c.line(5 * time.Second); got != "hello from p" {
			t.Fatalf("got %q, want hello from p", got)
		}
	}
	fmt.Fprintln(b.stdin, "hello from b")
	if got := a.line(5 * time.Second); got != "hello from b" {
		t.Fatalf("a got %q", got)
	}
	if msg, text := recv(t, p, 5*time.Second); string(msg) != "hello from b" || !text {
		t.Fatalf("library peer got %q (text %v)", msg, text)
	}
	select {
	case l := <-b.lines:
		t.Fatalf("sender got its own message back: %q", l)
	case <-time.After(100 * time.Millisecond):
	}
	// A binary message is refused with 1003.
	if err := p.PutPacket([]byte{1, 2}); err != nil {
		t.Fatal(err)
	}
	waitClosed(t, p)
	if p.CloseCode() != 1003 {
		t.Fatalf("binary on /chat: closed %d %q", p.CloseCode(), p.CloseReason())
	}

	// SIGTERM: every peer gets 1001 and the server exits within 2 s.
	begin := time.Now()
	srv.cmd.Process.Signal(syscall.SIGTERM)
	if code := srv.exit(3 * time.Second); code != 0 {
		t.Fatalf("serve exit %d", code)
	}
	if d := time.Since(begin); d > 2*time.Second {
		t.Fatalf("serve took %v to exit", d)
	}
	for _, c := range []*proc{a, b} {
		if code := c.exit(5 * time.Second); code != 3 {
			t.Errorf("connect exit %d, want 3 (closed by the server with 1001)", code)
		}
		if l := c.lastStderrLine(); l != "closed 1001 server shutting down" {
			t.Errorf("last stderr line %q", l)
		}
	}
}

func waitClosed(t *testing.T, p *wspeer.Peer) {
	t.Helper()
	end := time.Now().Add(5 * time.Second)
	for p.ReadyState() != wspeer.StateClosed {
		if time.Now().After(end) {
			t.Fatalf("peer still %v", p.ReadyState())
		}
		p.Poll()
		time.Sleep(time.Millisecond)
	}
}

func TestConnectRefused(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now
	c := start(t, "connect", "ws://"+addr+"/")
	if code := c.exit(10 * time.Second); code == 0 {
		t.Fatal("connect to a closed port: exit 0")
	}
	if l := c.lastStderrLine(); l != "closed -1" {
		t.Fatalf("last stderr line %q, want closed -1", l)
	}
	if !strings.Contains(c.stderr.String(), "refused") {
		t.Fatalf("stderr does not say why:\n%s", c.stderr.String())
	}
}

// benchRate runs wspeer bench against url and returns its messages/s.
func benchRate(t *testing.T, url string) float64 {
	t.Helper()
	b := start(t, "bench", "-url", url, "-conns", "4", "-inflight", "4", "-size", "256", "-duration", "1s")
	if code := b.exit(15 * time.Second); code != 0 {
		t.Fatalf("bench exit %d", code)
	}
	var out strings.Builder
	for l := range b.lines {
		out.WriteString(l + "\n")
	}
	m := regexp.MustCompile(`(?m)^messages/s: (\d+)$`).FindStringSubmatch(out.String())
	if m == nil {
		t.Fatalf("bench output has no messages/s:\n%s", out.String())
	}
	rate, _ := strconv.ParseFloat(m[1], 64)
	if rate <= 0 || !strings.Contains(out.String(), "rtt p99: ") || !strings.Contains(out.String(), "errors: 0 bad echoes, 0 failed") {
		t.Fatalf("bench output:\n%s", out.String())
	}
	t.Logf("bench:\n%s", out.String())
	return rate
}

func TestServeBench(t *testing.T) {
	t.Parallel()
	_, url := startServer(t, "serve")
	benchRate(t, url+"/echo")
}
