package main

import (
	"bufio"
	"bytes"
	"context"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/wspeer/wspeer"
)

// rawUpgrade sends a WebSocket request with host and extra header lines to
// the server at url (ws://HOST:PORT) and returns the status and body.
func rawUpgrade(t *testing.T, url, host, extra string) (int, string) {
	t.Helper()
	c, err := net.Dial("tcp", strings.TrimPrefix(url, "ws://"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	req := "GET /echo HTTP/1.1\r\nHost: " + host + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n" + extra + "\r\n"
	if _, err := c.Write([]byte(req)); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("reading the answer: %v", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusSwitchingProtocols {
		return resp.StatusCode, ""
	}
	var body bytes.Buffer
	body.ReadFrom(resp.Body)
	return resp.StatusCode, body.String()
}

// TestServeHostAllowlist: serve on loopback answers only loopback names
// unless -allow-host adds others; a rebinding page's Host and Origin get
// 403 with a reason (issue 15 item 7, F7).
func TestServeHostAllowlist(t *testing.T) {
	t.Parallel()
	_, url := startServer(t, "serve")
	port := url[strings.LastIndexByte(url, ':')+1:]
	evil := "evil.example:" + port
	if st, body := rawUpgrade(t, url, evil, "Origin: http://"+evil+"\r\n"); st != 403 || !strings.Contains(body, "host not allowed") {
		t.Errorf("Host %s: %d %q, want 403 host not allowed", evil, st, body)
	}
	for _, h := range []string{"localhost:" + port, "127.0.0.1:" + port, "[::1]:" + port} {
		if st, body := rawUpgrade(t, url, h, "Origin: http://"+h+"\r\n"); st != 101 {
			t.Errorf("Host %s: %d %q, want 101", h, st, body)
		}
	}
	_, url2 := startServer(t, "serve", "-allow-host", "*.example")
	port2 := url2[strings.LastIndexByte(url2, ':')+1:]
	if st, body := rawUpgrade(t, url2, "evil.example:"+port2, ""); st != 101 {
		t.Errorf("-allow-host *.example: %d %q, want 101", st, body)
	}
}

// TestServeHeadLimit: serve refuses heads above -max-head (8 KiB by
// default) with 431, whether net/http or the Upgrader sees it first (issue
// 15 item 1, F1).
func TestServeHeadLimit(t *testing.T) {
	t.Parallel()
	_, url := startServer(t, "serve")
	for _, n := range []int{9000, 20000, 1 << 20} {
		if st, _ := rawUpgrade(t, url, "127.0.0.1", "X-Big: "+strings.Repeat("b", n)+"\r\n"); st != 431 {
			t.Errorf("%d bytes of header: status %d, want 431", n, st)
		}
	}
	if st, _ := rawUpgrade(t, url, "127.0.0.1", "X-Big: "+strings.Repeat("b", 7000)+"\r\n"); st != 101 {
		t.Errorf("7000 bytes of header: status %d, want 101", st)
	}
	_, url2 := startServer(t, "serve", "-max-head", "16KiB")
	if st, _ := rawUpgrade(t, url2, "127.0.0.1", "X-Big: "+strings.Repeat("b", 12000)+"\r\n"); st != 101 {
		t.Errorf("-max-head 16KiB, 12000 bytes: status %d, want 101", st)
	}
}

// TestServeChatRateLimit: a chat peer sending faster than -chat-rate is
// closed with 1008; one within the rate is not (issue 15 item 11, F11).
func TestServeChatRateLimit(t *testing.T) {
	t.Parallel()
	_, url := startServer(t, "serve", "-chat-rate", "5")
	calm := dial(t, url+"/chat/rate", nil)
	flood := dial(t, url+"/chat/rate", nil)
	for i := range 3 {
		if err := calm.SendText("calm " + strings.Repeat("x", i)); err != nil {
			t.Fatal(err)
		}
	}
	for i := 0; i < 40 && flood.ReadyState() == wspeer.StateOpen; i++ {
		flood.SendText("flood")
		flood.Poll()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for flood.ReadyState() != wspeer.StateClosed && flood.Wait(ctx) == nil {
		flood.Poll()
		for {
			if _, err := flood.GetPacket(); err != nil {
				break
			}
		}
	}
	if flood.CloseCode() != 1008 || flood.CloseReason() != "message rate exceeded" {
		t.Errorf("flooder closed %d %q, want 1008 message rate exceeded", flood.CloseCode(), flood.CloseReason())
	}
	calm.Poll()
	if calm.ReadyState() != wspeer.StateOpen {
		t.Errorf("calm peer %v, closed %d", calm.ReadyState(), calm.CloseCode())
	}
}

// TestRateLimit checks the token bucket against hand-computed figures.
func TestRateLimit(t *testing.T) {
	t0 := time.Unix(0, 0)
	l := newRateLimit(10, t0)
	n := 0
	for l.allow(t0) {
		n++
	}
	if n != 20 {
		t.Errorf("burst %d, want 20", n)
	}
	if !l.allow(t0.Add(100*time.Millisecond)) || l.allow(t0.Add(100*time.Millisecond)) {
		t.Error("100 ms later: want exactly one more")
	}
	if off := newRateLimit(0, t0); !off.allow(t0) {
		t.Error("rate 0 refused")
	}
}

// TestEchoerReleasesBuffer: after echoing a 1 MiB message, an echoer whose
// queue is empty holds no buffer above 64 KiB (issue 15 item 2, F2).
func TestEchoerReleasesBuffer(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	big := func(p *wspeer.Peer) { p.InboundBufferSize, p.OutboundBufferSize = 2<<20, 2<<20 }
	srvDone := make(chan *echoer, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		p := wspeer.NewPeer()
		big(p)
		p.AcceptStream(c)
		defer p.Close(-1, "")
		e := echoer{trim: &memTrimmer{}}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		for p.Wait(ctx) == nil {
			p.Poll()
			e.pump(p)
			if e.echoed == 1 && p.CurrentOutboundBufferedAmount() == 0 {
				srvDone <- &e
				return
			}
		}
		srvDone <- nil
	}()
	c := dial(t, "ws://"+ln.Addr().String()+"/", big)
	if err := c.Send(bytes.Repeat([]byte{7}, 1<<20), wspeer.WriteModeBinary); err != nil {
		t.Fatal(err)
	}
	if msg, _ := recv(t, c, 10*time.Second); len(msg) != 1<<20 {
		t.Fatalf("echo of %d bytes", len(msg))
	}
	e := <-srvDone
	if e == nil {
		t.Fatal("server did not echo")
	}
	for _, pk := range append(e.held, e.pks...) {
		if pk.Data != nil {
			t.Errorf("idle echoer holds a %d-byte message", len(pk.Data))
		}
	}
	e.trim.mu.Lock()
	defer e.trim.mu.Unlock()
	if e.trim.t == nil {
		t.Error("no memory trim scheduled after releasing the buffer")
	}
}

// TestEscapeControls: what a terminal would act on is shown escaped; text,
// newlines and tabs are kept (issue 15 item 10, F10).
func TestEscapeControls(t *testing.T) {
	tests := []struct{ in, want string }{
		{"plain wörld ✓", "plain wörld ✓"},
		{"a\nb\tc", "a\nb\tc"},
		{"\x1b[31mred\x1b]0;title\x07", `\x1b[31mred\x1b]0;title\x07`},
		{"over\rwrite\b", `over\x0dwrite\x08`},
		{"\u009b2J csi", `\u009b2J csi`},
		{"del\x7f bad\xff", `del\x7f bad\xff`},
	}
	for _, tt := range tests {
		if got := string(escapeControls([]byte(tt.in))); got != tt.want {
			t.Errorf("escapeControls(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	// A rune cut between two writes is not mistaken for bad bytes.
	var out bytes.Buffer
	w := &escWriter{w: &out}
	s := []byte("é\x1b✓")
	for i := range s {
		w.Write(s[i : i+1])
	}
	if got := out.String(); got != `é\x1b✓` {
		t.Errorf("byte by byte: %q", got)
	}
}

// TestTerminalSafe: escaping applies to a terminal only, and -raw turns it
// off; piped output is raw.
func TestTerminalSafe(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	if _, ok := terminalSafe(w, false).(*escWriter); ok {
		t.Error("a pipe gets escaped output")
	}
	tty, err := os.OpenFile("/dev/ptmx", os.O_RDWR, 0)
	if err != nil {
		t.Skipf("no pseudo-terminal: %v", err)
	}
	defer tty.Close()
	if _, ok := terminalSafe(tty, false).(*escWriter); !ok {
		t.Error("a terminal gets raw output")
	}
	if _, ok := terminalSafe(tty, true).(*escWriter); ok {
		t.Error("-raw: a terminal gets escaped output")
	}
}

// TestConnectPipedRaw: piped, connect prints the server's text byte for
// byte, controls included.
func TestConnectPipedRaw(t *testing.T) {
	t.Parallel()
	_, url := startServer(t, "serve")
	for _, args := range [][]string{{"connect", url + "/echo"}, {"connect", "-raw", url + "/echo"}} {
		c := start(t, args...)
		c.waitStderr("connected to", 5*time.Second)
		c.stdin.Write([]byte("\x1b[31mred\x1b[0m\n"))
		if got := c.line(5 * time.Second); got != "\x1b[31mred\x1b[0m" {
			t.Errorf("%v: printed %q", args, got)
		}
		c.stdin.Close()
		c.exit(5 * time.Second)
	}
}

// TestServeLogBounded: 5 requests with 8 KB of bad extension header grow
// serve's log by at most 4 KB (issue 15 item 4, F4: 4.5 MB each before).
func TestServeLogBounded(t *testing.T) {
	t.Parallel()
	srv, url := startServer(t, "serve", "-max-head", "16KiB")
	time.Sleep(100 * time.Millisecond) // let the start-up lines land first
	before := len(srv.stderr.String())
	bad := "Sec-WebSocket-Extensions: " + strings.Repeat("x", 4000) + "@" + strings.Repeat("y", 4000) + "\r\n"
	for range 5 {
		if st, _ := rawUpgrade(t, url, "127.0.0.1", bad); st != 400 {
			t.Fatalf("status %d, want 400", st)
		}
	}
	srv.waitStderr("upgrade refused", 5*time.Second)
	time.Sleep(200 * time.Millisecond) // the five lines are written before the answers; margin for the pipe
	grown := len(srv.stderr.String()) - before
	t.Logf("log grew by %d bytes for 5 requests", grown)
	if grown > 4096 || strings.Count(srv.stderr.String(), "upgrade refused") != 5 {
		t.Errorf("log grew by %d bytes, %d refusals logged:\n%s", grown, strings.Count(srv.stderr.String(), "upgrade refused"), srv.stderr.String())
	}
}

// TestServeHeartbeat: serve pings its peers (-heartbeat, 30 s by default)
// and closes one that stops answering.
func TestServeHeartbeat(t *testing.T) {
	t.Parallel()
	_, url := startServer(t, "serve", "-heartbeat", "200ms")
	c := dial(t, url+"/echo", nil)
	time.Sleep(time.Second) // no Poll: the pings go unanswered
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for c.ReadyState() != wspeer.StateClosed && c.Wait(ctx) == nil {
		c.Poll()
	}
	if c.CloseCode() != 1011 {
		t.Errorf("closed %d %q, want 1011 from the heartbeat", c.CloseCode(), c.CloseReason())
	}
}
