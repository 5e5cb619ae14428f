package main

// The tests run the built binary, as a user would: TestMain builds it once
// (with -race when the tests run with -race), and each test starts processes
// on loopback with -listen 127.0.0.1:0, reading the address they print.

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wspeer/wspeer"
)

// bin is the path of the built wspeer binary.
var bin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "wspeer-cmd-test")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	bin = filepath.Join(dir, "wspeer")
	args := []string{"build", "-o", bin}
	if raceEnabled {
		args = append(args, "-race")
	}
	build := exec.Command("go", append(args, ".")...)
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building wspeer:", err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// proc is a running wspeer process.
type proc struct {
	t      *testing.T
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	lines  chan string // stdout, line by line; closed at EOF
	stderr *lockedBuffer
	done   chan struct{}
	err    error // the Wait result, once done is closed
}

// lockedBuffer is a bytes.Buffer written by the process's stderr copier and
// read by the test.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// start runs wspeer with args; the process is killed at the end of the test.
func start(t *testing.T, args ...string) *proc {
	t.Helper()
	p := &proc{t: t, cmd: exec.Command(bin, args...), lines: make(chan string, 10000), stderr: &lockedBuffer{}, done: make(chan struct{})}
	p.cmd.Stderr = p.stderr
	stdout, err := p.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if p.stdin, err = p.cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		sc := bufio.NewScanner(stdout)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			p.lines <- sc.Text()
		}
		close(p.lines)
		p.err = p.cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			p.cmd.Process.Kill()
			<-p.done
		}
		if t.Failed() {
			t.Logf("wspeer %s stderr:\n%s", strings.Join(args, " "), p.stderr.String())
		}
	})
	return p
}

// line returns the next stdout line, failing the test after timeout.
func (p *proc) line(timeout time.Duration) string {
	p.t.Helper()
	select {
	case l, ok := <-p.lines:
		if !ok {
			p.t.Fatalf("stdout ended; stderr:\n%s", p.stderr.String())
		}
		return l
	case <-time.After(timeout):
		p.t.Fatalf("no stdout line within %v; stderr:\n%s", timeout, p.stderr.String())
	}
	return ""
}

// waitStderr waits until stderr contains s.
func (p *proc) waitStderr(s string, timeout time.Duration) {
	p.t.Helper()
	end := time.Now().Add(timeout)
	for !strings.Contains(p.stderr.String(), s) {
		if time.Now().After(end) {
			p.t.Fatalf("stderr has no %q within %v:\n%s", s, timeout, p.stderr.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// exit waits for the process to end and returns its exit status.
func (p *proc) exit(timeout time.Duration) int {
	p.t.Helper()
	select {
	case <-p.done:
	case <-time.After(timeout):
		p.t.Fatalf("process still running after %v; stderr:\n%s", timeout, p.stderr.String())
	}
	var ee *exec.ExitError
	if errors.As(p.err, &ee) {
		return ee.ExitCode()
	}
	if p.err != nil {
		p.t.Fatal(p.err)
	}
	return 0
}

// lastStderrLine returns the last non-empty line of stderr.
func (p *proc) lastStderrLine() string {
	lines := strings.Split(strings.TrimSpace(p.stderr.String()), "\n")
	return lines[len(lines)-1]
}

// startServer runs a server subcommand on a free loopback port and returns
// it with its ws:// URL, read from the first stdout line.
func startServer(t *testing.T, args ...string) (*proc, string) {
	t.Helper()
	p := start(t, append(args, "-listen", "127.0.0.1:0")...)
	l := p.line(10 * time.Second)
	url, ok := strings.CutPrefix(l, "listening on ")
	if !ok || !strings.HasPrefix(url, "ws://127.0.0.1:") {
		t.Fatalf("first stdout line %q, want listening on ws://127.0.0.1:PORT", l)
	}
	return p, url
}

// dial connects a library client to url and waits until it is open.
func dial(t *testing.T, url string, setup func(*wspeer.Peer)) *wspeer.Peer {
	t.Helper()
	return dialTLS(t, url, nil, setup)
}

// dialTLS is dial with a TLS configuration for wss://.
func dialTLS(t *testing.T, url string, tlsConf *tls.Config, setup func(*wspeer.Peer)) *wspeer.Peer {
	t.Helper()
	p := wspeer.NewPeer()
	if setup != nil {
		setup(p)
	}
	if err := p.ConnectToURL(url, tlsConf); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for p.ReadyState() == wspeer.StateConnecting && p.Wait(ctx) == nil {
		p.Poll()
	}
	if p.ReadyState() != wspeer.StateOpen {
		t.Fatalf("dial %s: %v, closed %d %v", url, p.ReadyState(), p.CloseCode(), p.CloseError())
	}
	t.Cleanup(func() { p.Close(-1, "") })
	return p
}

// recv waits for the next message on an open library client.
func recv(t *testing.T, p *wspeer.Peer, timeout time.Duration) (msg []byte, text bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	for {
		if msg, err := p.GetPacket(); err == nil {
			return msg, p.WasStringPacket()
		}
		if err := p.Wait(ctx); err != nil {
			t.Fatalf("no message within %v: %v (closed %d %v)", timeout, err, p.CloseCode(), p.CloseError())
		}
		p.Poll()
	}
}

func TestHelp(t *testing.T) {
	t.Parallel()
	p := start(t, "-h")
	if code := p.exit(5 * time.Second); code != 0 {
		t.Fatalf("wspeer -h: exit %d", code)
	}
	var out strings.Builder
	for l := range p.lines {
		out.WriteString(l + "\n")
	}
	for _, want := range []string{"serve", "echo", "connect", "autobahn", "bench", "version", "Example"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("wspeer -h lacks %q:\n%s", want, out.String())
		}
	}
	for _, c := range commands {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			p := start(t, c.name, "-h")
			if code := p.exit(10 * time.Second); code != 0 {
				t.Errorf("wspeer %s -h: exit %d", c.name, code)
			}
			var out strings.Builder
			for l := range p.lines {
				out.WriteString(l + "\n")
			}
			if !strings.Contains(out.String(), "Example:\n  wspeer "+c.name) && !strings.Contains(out.String(), "Example:\n  echo hello | wspeer "+c.name) {
				t.Errorf("wspeer %s -h has no example:\n%s", c.name, out.String())
			}
		})
	}
	p = start(t, "nosuchcommand")
	if code := p.exit(5 * time.Second); code != 2 {
		t.Errorf("unknown command: exit %d, want 2", code)
	}
}

// wspeer version says what was built, as the go command recorded it.
func TestVersion(t *testing.T) {
	t.Parallel()
	p := start(t, "version")
	v := p.line(5 * time.Second)
	if code := p.exit(5 * time.Second); code != 0 {
		t.Fatalf("wspeer version: exit %d", code)
	}
	// The expectation comes from "go version -m", which reads the same
	// build information independently.
	out, err := exec.Command("go", "version", "-m", bin).Output()
	if err != nil {
		t.Fatal(err)
	}
	want := "devel"
	info := map[string]string{}
	for _, l := range strings.Split(string(out), "\n") {
		f := strings.Fields(l)
		switch {
		case len(f) >= 3 && f[0] == "mod" && f[2] != "(devel)":
			want = f[2]
		case len(f) == 2 && f[0] == "build":
			k, val, _ := strings.Cut(f[1], "=")
			info[k] = val
		}
	}
	if rev := info["vcs.revision"]; want == "devel" && rev != "" {
		want += "-" + rev[:12]
		if info["vcs.modified"] == "true" {
			want += "-dirty"
		}
	}
	want = "wspeer " + want + " " + runtime.Version() + " " + runtime.GOOS + "/" + runtime.GOARCH
	if v != want {
		t.Fatalf("wspeer version: %q, want %q", v, want)
	}
}

func TestVersionString(t *testing.T) {
	t.Parallel()
	rev := "0123456789abcdef0123456789abcdef01234567"
	for _, tc := range []struct {
		bi   *debug.BuildInfo
		want string
	}{
		{nil, "devel"},
		{&debug.BuildInfo{Main: debug.Module{Version: "(devel)"}}, "devel"},
		{&debug.BuildInfo{Main: debug.Module{Version: "v1.2.3"}, Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: rev}}}, "v1.2.3"},
		{&debug.BuildInfo{Main: debug.Module{Version: "(devel)"}, Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: rev}, {Key: "vcs.modified", Value: "false"}}}, "devel-0123456789ab"},
		{&debug.BuildInfo{Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: rev}, {Key: "vcs.modified", Value: "true"}}}, "devel-0123456789ab-dirty"},
	} {
		if got := version(tc.bi); got != tc.want {
			t.Errorf("version(%+v) = %q, want %q", tc.bi, got, tc.want)
		}
	}
}

func TestErrText(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ in, want string }{
		{"wspeer: opening handshake failed: websocket: handshake failed: server answered HTTP 403 Forbidden", "opening handshake failed: server answered HTTP 403 Forbidden"},
		{"wspeer: opening handshake failed: wspeer: refused with HTTP 403 Forbidden: origin not allowed: wspeer: origin not allowed", "opening handshake failed: refused with HTTP 403 Forbidden: origin not allowed"},
		{"wspeer: dial failed: connecting to 127.0.0.1: dial tcp 127.0.0.1:1: connect: connection refused", "dial failed: connecting to 127.0.0.1: dial tcp 127.0.0.1:1: connect: connection refused"},
		{"listen tcp 127.0.0.1:80: bind: permission denied", "listen tcp 127.0.0.1:80: bind: permission denied"},
	} {
		if got := errText(errors.New(tc.in)); got != tc.want {
			t.Errorf("errText(%q)\n = %q\nwant %q", tc.in, got, tc.want)
		}
	}
}

// The README's "Command line" synopsis is the one each "wspeer CMD -h"
// prints (generated from the flags), in the overview's order.
func TestReadmeSynopsis(t *testing.T) {
	t.Parallel()
	readme, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(readme), "## Command line\n\n```\n")
	block, _, ok2 := strings.Cut(section, "```")
	if !ok || !ok2 {
		t.Fatal("README has no ``` block right after \"## Command line\"")
	}
	var want strings.Builder
	for _, c := range commands {
		p := start(t, c.name, "-h")
		if code := p.exit(10 * time.Second); code != 0 {
			t.Fatalf("wspeer %s -h: exit %d", c.name, code)
		}
		if l := <-p.lines; l != "Usage:" {
			t.Fatalf("wspeer %s -h starts with %q", c.name, l)
		}
		for l := range p.lines {
			if l == "" {
				break
			}
			want.WriteString(l + "\n")
		}
	}
	if block != want.String() {
		t.Fatalf("README's synopsis differs from -h; it should be:\n%s", want.String())
	}
}
