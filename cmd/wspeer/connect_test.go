package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/wspeer/wspeer"
)

// A line longer than -max-message is reported, closes with 1009 and gives
// exit status 1, whether the line is shorter than bufio.Scanner's default
// 64 KiB buffer (issue 19: connect used to retry it forever) or longer.
func TestConnectLineTooLong(t *testing.T) {
	t.Parallel()
	_, url := startServer(t, "serve", "-max-message", "1MiB")
	for _, tc := range []struct {
		max  string
		line string
		want string
	}{
		{"10", "01234567890123456789", "line 2 is longer than -max-message 10"},
		{"10", "0123456789", ""}, // exactly -max-message: sent
		{"100KiB", strings.Repeat("x", 200<<10), "line 2 is longer than -max-message 100KiB"},
	} {
		c := start(t, "connect", url+"/echo", "-max-message", tc.max)
		fmt.Fprintf(c.stdin, "ok\n%s\nlast\n", tc.line)
		c.stdin.Close()
		if tc.want == "" {
			for _, want := range []string{"ok", tc.line, "last"} {
				if got := c.line(5 * time.Second); got != want {
					t.Fatalf("-max-message %s: got %q, want %q", tc.max, got, want)
				}
			}
			if code := c.exit(10 * time.Second); code != 0 || c.lastStderrLine() != "closed 1000" {
				t.Errorf("-max-message %s: exit %d, stderr:\n%s", tc.max, code, c.stderr.String())
			}
			continue
		}
		if code := c.exit(10 * time.Second); code != 1 {
			t.Errorf("-max-message %s: exit %d, want 1", tc.max, code)
		}
		if !strings.Contains(c.stderr.String(), tc.want) {
			t.Errorf("-max-message %s: stderr lacks %q:\n%s", tc.max, tc.want, c.stderr.String())
		}
		if l := c.lastStderrLine(); l != "closed 1009 input line too long" {
			t.Errorf("-max-message %s: last stderr line %q", tc.max, l)
		}
	}
}

// delayedEchoServer stands in for servers such as Hypercorn: it echoes each
// message after delay, and drops what it has not echoed yet once the client's
// close arrives. It returns its URL and a channel that gets the close code
// of each connection.
func delayedEchoServer(t *testing.T, delay time.Duration) (string, <-chan int) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	codes := make(chan int, 10)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() { codes <- delayedEcho(c, delay) }()
		}
	}()
	return "ws://" + ln.Addr().String(), codes
}

func delayedEcho(c net.Conn, delay time.Duration) int {
	p := wspeer.NewPeer()
	if err := p.AcceptStream(c); err != nil {
		return -2
	}
	type held struct {
		msg []byte
		due time.Time
	}
	var queue []held
	end := time.Now().Add(20 * time.Second)
	for p.ReadyState() != wspeer.StateClosed && time.Now().Before(end) {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Millisecond)
		p.Wait(ctx)
		cancel()
		p.Poll()
		for {
			msg, err := p.GetPacket()
			if err != nil {
				break
			}
			queue = append(queue, held{msg, time.Now().Add(delay)})
		}
		if p.ReadyState() != wspeer.StateOpen {
			queue = nil // the client's close came: drop the rest
		}
		for len(queue) > 0 && time.Now().After(queue[0].due) {
			p.SendText(string(queue[0].msg))
			queue = queue[1:]
		}
	}
	p.Close(-1, "")
	return p.CloseCode()
}

// At the end of stdin, connect waits for the replies of a server that
// answers late and drops its answers once it sees a close (issue 19).
func TestConnectLingersAfterEOF(t *testing.T) {
	t.Parallel()
	url, codes := delayedEchoServer(t, 100*time.Millisecond)
	c := start(t, "connect", url, "-linger", "5s")
	fmt.Fprint(c.stdin, "a\nb\n")
	c.stdin.Close()
	for _, want := range []string{"a", "b"} {
		if got := c.line(10 * time.Second); got != want {
			t.Fatalf("got %q, want %q", got, want)
		}
	}
	if code := c.exit(10 * time.Second); code != 0 {
		t.Fatalf("exit %d", code)
	}
	if l := c.lastStderrLine(); l != "closed 1000" {
		t.Fatalf("last stderr line %q", l)
	}
	select {
	case code := <-codes:
		if code != 1000 {
			t.Fatalf("server saw close %d", code)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("server connection did not end")
	}
}

// A refused handshake shows the server's status and reason, and every
// message carries one prefix, in connect's output and in serve's log.
func TestConnectRefusalReason(t *testing.T) {
	t.Parallel()
	srv, url := startServer(t, "serve")
	c := start(t, "connect", url+"/echo", "-H", "Origin: http://evil.example")
	if code := c.exit(10 * time.Second); code != 1 {
		t.Fatalf("exit %d", code)
	}
	want := "wspeer connect: opening handshake failed: server answered HTTP 403 Forbidden: origin not allowed\nclosed -1\n"
	if got := c.stderr.String(); got != want {
		t.Fatalf("stderr:\n%s\nwant:\n%s", got, want)
	}
	srv.waitStderr(`err="opening handshake failed: refused with HTTP 403 Forbidden: origin not allowed"`, 5*time.Second)

	// An application's own reason, from Upgrader.Accept.
	up := &wspeer.Upgrader{Accept: func(r *http.Request) error {
		if r.Header.Get("Authorization") == "" {
			return wspeer.Reject(http.StatusUnauthorized, "token required")
		}
		return nil
	}}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hs := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if p, err := up.Upgrade(w, r); err == nil {
			p.Close(1000, "")
		}
	})}
	go hs.Serve(ln)
	t.Cleanup(func() { hs.Close() })
	c = start(t, "connect", "ws://"+ln.Addr().String()+"/")
	if code := c.exit(10 * time.Second); code != 1 {
		t.Fatalf("exit %d", code)
	}
	if got := c.stderr.String(); !strings.Contains(got, "HTTP 401 Unauthorized: token required\n") || strings.Count(got, "wspeer") != 1 || strings.Contains(got, "websocket:") {
		t.Fatalf("stderr:\n%s", got)
	}
}

// Command lines that cannot work are refused with status 2 and a reason in
// the flags' own words, before anything connects.
func TestUsageErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"connect"}, "wspeer connect: missing URL"},
		{[]string{"connect", "ws://127.0.0.1:1/", "ws://127.0.0.1:2/"}, `wspeer connect: unexpected argument "ws://127.0.0.1:2/"`},
		{[]string{"connect", "ws://127.0.0.1:1/", "-ping", "-1s"}, "wspeer connect: -ping and -linger must not be negative"},
		{[]string{"connect", "http://127.0.0.1:1/"}, `wspeer connect: invalid parameter: URL "http://127.0.0.1:1/": scheme must be ws or wss`},
		{[]string{"connect", "ws://127.0.0.1:1/", "-H", "nocolon"}, `wspeer connect: -H "nocolon": want 'Name: value'`},
		{[]string{"serve", "extra-arg"}, `wspeer serve: unexpected argument "extra-arg"`},
		{[]string{"echo", "extra-arg"}, `wspeer echo: unexpected argument "extra-arg"`},
		{[]string{"bench"}, "wspeer bench: -url is required"},
		{[]string{"autobahn"}, "wspeer autobahn: -url is required"},
		{[]string{"version", "x"}, `wspeer version: unexpected argument "x"`},
	} {
		p := start(t, tc.args...)
		if code := p.exit(5 * time.Second); code != 2 {
			t.Errorf("%v: exit %d, want 2", tc.args, code)
		}
		out := p.stderr.String()
		if first, _, _ := strings.Cut(out, "\n"); first != tc.want {
			t.Errorf("%v: first stderr line %q, want %q", tc.args, first, tc.want)
		}
		if strings.Contains(out, "closed -1") || strings.Contains(out, "HeartbeatInterval") {
			t.Errorf("%v: stderr:\n%s", tc.args, out)
		}
	}
}

// The exit status tells a close with 1000 from one with another code.
func TestConnectExitStatus(t *testing.T) {
	t.Parallel()
	_, url := startServer(t, "serve")
	// /chat closes a peer that sends binary with 1003.
	c := start(t, "connect", url+"/chat", "-binary")
	fmt.Fprintln(c.stdin, "x")
	if code := c.exit(10 * time.Second); code != 3 {
		t.Errorf("closed by the server with 1003: exit %d, want 3", code)
	}
	if l := c.lastStderrLine(); l != "closed 1003 chat accepts text messages only" {
		t.Errorf("last stderr line %q", l)
	}
}

// A URL without a scheme gets ws://, and says so.
func TestConnectNoScheme(t *testing.T) {
	t.Parallel()
	_, url := startServer(t, "serve")
	bare := strings.TrimPrefix(url, "ws://") + "/echo"
	c := start(t, "connect", bare, "-linger", "0")
	fmt.Fprintln(c.stdin, "hi")
	if got := c.line(5 * time.Second); got != "hi" {
		t.Fatalf("got %q", got)
	}
	c.stdin.Close()
	if code := c.exit(5 * time.Second); code != 0 {
		t.Fatalf("exit %d", code)
	}
	if want := fmt.Sprintf("wspeer connect: %q has no scheme, using ws://%s\n", bare, bare); !strings.HasPrefix(c.stderr.String(), want) {
		t.Fatalf("stderr:\n%s\nwant first line %q", c.stderr.String(), want)
	}
}

// connect -compress says whether the server accepted permessage-deflate.
func TestConnectCompressNote(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		server []string
		want   string
	}{
		{[]string{"serve", "-compress"}, " (permessage-deflate)"},
		{[]string{"serve"}, " (compression declined by the server)"},
	} {
		_, url := startServer(t, tc.server...)
		c := start(t, "connect", url+"/echo", "-compress", "-linger", "0")
		c.waitStderr("connected to", 5*time.Second)
		c.stdin.Close()
		c.exit(5 * time.Second)
		if want := "connected to " + url + "/echo" + tc.want + "\n"; !strings.HasPrefix(c.stderr.String(), want) {
			t.Errorf("%v: stderr:\n%s\nwant %q", tc.server, c.stderr.String(), want)
		}
	}
}
