package interop

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestGodotTools runs Godot 3.2 against the wspeer command: Godot clients
// against `wspeer echo` and `wspeer serve` (/echo, and /chat with two Godot
// clients), `wspeer connect` against a Godot server, and the Godot 3 chat
// example of examples/godot against `wspeer serve`.
func TestGodotTools(t *testing.T) {
	g := requireGodot(t)
	bin := buildWspeer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	t.Run("echo", func(t *testing.T) { godotClientOfEcho(ctx, t, g, bin, "echo", "/any/path") })
	t.Run("serve-echo", func(t *testing.T) { godotClientOfEcho(ctx, t, g, bin, "serve", "/echo") })
	t.Run("serve-chat", func(t *testing.T) { godotChat(ctx, t, g, bin) })
	t.Run("connect", func(t *testing.T) { godotServerOfConnect(ctx, t, g, bin) })
	t.Run("connect-closes", func(t *testing.T) { godotServerClosedByConnect(ctx, t, g, bin) })
	t.Run("example", func(t *testing.T) { godotExample(ctx, t, g, bin) })
}

// godotClientProtocols is what peer.gd's drivers offer (as its agent does).
const godotClientProtocols = "x-unknown,echo.v2,echo.v1"

// waitLog waits until a wspeer server's stderr log matches re.
func waitLog(ctx context.Context, t *testing.T, p *proc, re *regexp.Regexp) {
	t.Helper()
	for range 200 {
		if re.MatchString(p.stderr.String()) {
			return
		}
		select {
		case <-time.After(50 * time.Millisecond):
		case <-ctx.Done():
			t.Fatal(ctx.Err())
		}
	}
	t.Fatalf("%s: no log line matching %s in:\n%s", p.name, re, p.stderr.String())
}

// closedLog matches a server's log line for a connection closed with code and
// (when reason is not empty) reason, possibly NUL-terminated by Godot 3.2.
func closedLog(path string, code int, reason string) *regexp.Regexp {
	r := `msg=closed remote=\S+ ` + path + `code=` + strconv.Itoa(code) + ` `
	if reason != "" {
		r += regexp.QuoteMeta(`reason="`+reason) + `(\\x00)?" err=<nil>`
	}
	return regexp.MustCompile(r)
}

// chatJoined matches `wspeer serve`'s log line for a peer that has joined
// /chat (logged once it receives broadcasts).
var chatJoined = regexp.MustCompile(`msg=open remote=\S+ path=/chat `)

// interrupt sends SIGINT (os.Interrupt) to a process.
func interrupt(t *testing.T, p *proc) {
	t.Helper()
	if err := p.cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
}

// godotClientOfEcho: `wspeer <cmd>` selects echo.v2 from the Godot client's
// offer and echoes 64 KiB and 1 MiB text and binary messages; Godot closes
// with 4000 and the server logs it; a second Godot client is closed by the
// server's shutdown with 1001.
func godotClientOfEcho(ctx context.Context, t *testing.T, g *godot, bin, cmd, path string) {
	args := []string{cmd, "-protocol", "echo.v1", "-protocol", "echo.v2"}
	if cmd == "echo" {
		args = append(args, "-v") // echo logs connections only when asked
	}
	srv, url := startWspeerServer(ctx, t, bin, args...)
	gp := g.peer(t, append([]string{"drive-client", url + path, godotClientProtocols}, append(sendSteps(godotBig), "close")...)...)
	if ev := gp.expect(ctx, t, "open"); ev.Protocol != WantProtocol {
		t.Errorf("Godot: selected protocol %q, want %q", ev.Protocol, WantProtocol)
	}
	gp.expectMessages(ctx, t, godotBig)
	gp.expectOwnClose(ctx, t)
	if err := waitExit(ctx, gp.proc, godotWait); err != nil {
		t.Error(err)
	}
	logPath := ""
	if cmd == "serve" {
		logPath = "path=" + path + " "
	}
	waitLog(ctx, t, srv, closedLog(logPath, CloseCode, CloseReason))

	gp = g.peer(t, "drive-client", url+path, "-", "send:text:16", "recv:1")
	gp.expect(ctx, t, "open")
	gp.expectMessages(ctx, t, []godotMsg{{true, 16}})
	interrupt(t, srv)
	gp.expectClose(ctx, t, 1001, "server shutting down")
	if err := waitExit(ctx, srv, 10*time.Second); err != nil {
		t.Errorf("wspeer %s after SIGINT: %v", cmd, err)
	}
	waitLog(ctx, t, srv, closedLog(logPath, 1001, "server shutting down"))
}

// godotChat: two Godot clients on `wspeer serve`'s /chat. B's 64 KiB and
// 1 MiB text messages reach A; A, once it has them, sends its own, which
// reach B. B's binary message makes the server close it with 1003; the
// server's shutdown closes A with 1001.
func godotChat(ctx context.Context, t *testing.T, g *godot, bin string) {
	srv, url := startWspeerServer(ctx, t, bin, "serve")
	chat := []godotMsg{{true, 64 << 10}, {true, 1 << 20}}
	a := g.peer(t, append([]string{"drive-client", url + "/chat", "-", "recv:2"}, sendSteps(chat)[:2]...)...)
	a.expect(ctx, t, "open")
	waitLog(ctx, t, srv, chatJoined) // A is in the chat before B sends
	b := g.peer(t, append([]string{"drive-client", url + "/chat", "-"}, append(sendSteps(chat), "send:binary:16")...)...)
	b.expect(ctx, t, "open")
	a.expectMessages(ctx, t, chat)
	b.expectMessages(ctx, t, chat)
	b.expectClose(ctx, t, 1003, "chat accepts text messages only")
	waitLog(ctx, t, srv, closedLog(`path=/chat `, 1003, "chat accepts text messages only"))
	interrupt(t, srv)
	a.expectClose(ctx, t, 1001, "server shutting down")
	for _, p := range []*proc{a.proc, b.proc, srv} {
		if err := waitExit(ctx, p, 10*time.Second); err != nil {
			t.Error(err)
		}
	}
}

// godotServerOfConnect: `wspeer connect -echo -ping 250ms` offers x-unknown,
// echo.v2, echo.v1 and gets echo.v2 from a Godot server supporting echo.v1
// and echo.v2 (the client's order wins, as in Godot 4); it echoes the
// server's 64 KiB and 1 MiB text and binary messages, stays open for six
// heartbeat intervals (Godot answers the pings by itself) and reports Godot's
// close 4000 with exit status 0.
func godotServerOfConnect(ctx context.Context, t *testing.T, g *godot, bin string) {
	port := strconv.Itoa(freePort(t))
	steps := append(sendSteps(godotBig), "idle:"+strconv.Itoa(int(6*heartbeat/time.Millisecond)), "close")
	gp := g.peer(t, append([]string{"drive-server", port, "echo.v1,echo.v2"}, steps...)...)
	gp.listening(ctx, t)
	url := "ws://127.0.0.1:" + port + "/godot"
	cp := startProc(t, bin, "connect", url, "-protocol", "x-unknown", "-protocol", "echo.v2", "-protocol", "echo.v1",
		"-echo", "-ping", heartbeat.String())
	if ev := gp.expect(ctx, t, "open"); ev.Protocol != WantProtocol {
		t.Errorf("Godot server selected %q, want %q", ev.Protocol, WantProtocol)
	}
	gp.expectMessages(ctx, t, godotBig)
	gp.expectOwnClose(ctx, t)
	// The server closed cleanly with 4000, not 1000: connect's exit status
	// is 3 (see wspeer connect -h).
	var ee *exec.ExitError
	if err := waitExit(ctx, cp, closeTimeout); !errors.As(err, &ee) || ee.ExitCode() != 3 {
		t.Errorf("wspeer connect: %v (want exit status 3)", err)
	}
	stderr := cp.stderr.String()
	if !strings.Contains(stderr, "connected to "+url+" (protocol echo.v2)") {
		t.Errorf("wspeer connect stderr has no connected line with protocol echo.v2:\n%s", stderr)
	}
	last := stderr[strings.LastIndex(strings.TrimSuffix(stderr, "\n"), "\n")+1:]
	godotReason(t, strings.TrimPrefix(strings.TrimSuffix(last, "\n"), "closed "+strconv.Itoa(CloseCode)+" "), CloseReason)
}

// godotServerClosedByConnect: SIGINT makes `wspeer connect` close with 1000
// "interrupted"; the Godot server reports that close, and connect Godot's
// echo of it.
func godotServerClosedByConnect(ctx context.Context, t *testing.T, g *godot, bin string) {
	port := strconv.Itoa(freePort(t))
	gp := g.peer(t, "drive-server", port, "-", "send:binary:300", "recv:1")
	gp.listening(ctx, t)
	cp := startProc(t, bin, "connect", "ws://127.0.0.1:"+port+"/", "-echo")
	gp.expect(ctx, t, "open")
	gp.expectMessages(ctx, t, []godotMsg{{false, 300}})
	interrupt(t, cp)
	gp.expectClose(ctx, t, 1000, "interrupted")
	if err := waitExit(ctx, cp, closeTimeout); err != nil {
		t.Errorf("wspeer connect: %v (want exit status 0)", err)
	}
	if s := cp.stderr.String(); !strings.HasSuffix(s, "closed 1000 interrupted\n") {
		t.Errorf("wspeer connect stderr does not end with Godot's echo \"closed 1000 interrupted\":\n%s", s)
	}
	if err := waitExit(ctx, gp.proc, godotWait); err != nil {
		t.Error(err)
	}
}

// godotExample: examples/godot/godot3 (the Godot 3 twin of the Godot 4 chat
// example) joins `wspeer serve`'s /chat with a wspeer client: its greeting
// reaches the client, the client's message reaches it, and after that one
// message it leaves with 1000.
func godotExample(ctx context.Context, t *testing.T, g *godot, bin string) {
	srv, url := startWspeerServer(ctx, t, bin, "serve")
	c, err := dialPeer(ctx, url+"/chat", nil, opts{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.abort()
	waitLog(ctx, t, srv, chatJoined) // the client is in the chat before the greeting
	ex := g.run(t, godotRunTimeout, "../examples/godot/godot3", "", url+"/chat", "say=hello from Godot 3 ✓", "quit-after=1")
	got, err := c.recvText(ctx, godotWait)
	if err != nil || got != "hello from Godot 3 ✓" {
		t.Fatalf("greeting: %q, %v; example stderr: %s", got, err, ex.stderr.String())
	}
	if err := c.p.SendText("hi Godot, from Go ✓"); err != nil {
		t.Fatal(err)
	}
	want := []string{"connected to " + url + "/chat", "chat: hi Godot, from Go ✓", "closed"}
	for _, w := range want {
		for {
			l, err := ex.line(ctx, godotWait)
			if err != nil {
				t.Fatalf("waiting for %q: %v", w, err)
			}
			if strings.HasPrefix(l, w) {
				break
			}
		}
	}
	if err := waitExit(ctx, ex, godotWait); err != nil {
		t.Error(err)
	}
	waitLog(ctx, t, srv, closedLog(`path=/chat `, 1000, "bye"))
}
