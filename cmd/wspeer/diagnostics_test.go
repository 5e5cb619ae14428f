package main

import (
	"io"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"
)

// A port in use is one plain line naming the address and a way out, not a
// structured log line.
func TestServePortInUse(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	for _, cmd := range []string{"serve", "echo"} {
		p := start(t, cmd, "-listen", ln.Addr().String())
		if code := p.exit(5 * time.Second); code != 1 {
			t.Errorf("%s: exit %d, want 1", cmd, code)
		}
		want := "wspeer " + cmd + ": listen tcp " + ln.Addr().String() + ": bind: address already in use (another server has this port: pick another, or -listen 127.0.0.1:0 for a free one)\n"
		if got := p.stderr.String(); got != want {
			t.Errorf("%s: stderr %q, want %q", cmd, got, want)
		}
	}
}

// A server listening on every interface prints an address a client and a
// browser can open.
func TestHostPort(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		addr *net.TCPAddr
		want string
	}{
		{&net.TCPAddr{IP: net.IPv6unspecified, Port: 8080}, "127.0.0.1:8080"},
		{&net.TCPAddr{IP: net.IPv4zero, Port: 8080}, "127.0.0.1:8080"},
		{&net.TCPAddr{IP: net.IPv6loopback, Port: 8080}, "[::1]:8080"},
		{&net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 9}, "127.0.0.1:9"},
	} {
		if got := hostPort(fakeListener{tc.addr}, slog.New(slog.NewTextHandler(io.Discard, nil))); got != tc.want {
			t.Errorf("hostPort(%v) = %q, want %q", tc.addr, got, tc.want)
		}
	}
}

type fakeListener struct{ addr net.Addr }

func (fakeListener) Accept() (net.Conn, error) { return nil, net.ErrClosed }
func (fakeListener) Close() error              { return nil }
func (l fakeListener) Addr() net.Addr          { return l.addr }

// bench against an endpoint that does not echo says why it got nothing, and
// its header gives the duration asked for and the connection count in words.
func TestBenchNotEcho(t *testing.T) {
	t.Parallel()
	_, url := startServer(t, "serve")
	b := start(t, "bench", "-url", url+"/chat", "-conns", "1", "-duration", "1s")
	if code := b.exit(15 * time.Second); code != 1 {
		t.Fatalf("exit %d, want 1", code)
	}
	header := b.line(time.Second)
	if !strings.HasPrefix(header, "bench: 1 connection, 1024-byte binary messages, 8 in flight each, 1s (ended after ") {
		t.Errorf("header %q", header)
	}
	want := "wspeer bench: connection failed: the server closed the connection: 1003 chat accepts text messages only (is the URL an echo endpoint?)\nwspeer bench: no echo came back\n"
	if got := b.stderr.String(); got != want {
		t.Errorf("stderr:\n%s\nwant:\n%s", got, want)
	}
}

// autobahn against a server that is not a fuzzingserver says so and where to
// get one; its -h names the project's own.
func TestAutobahnNotFuzzingServer(t *testing.T) {
	t.Parallel()
	_, url := startServer(t, "serve")
	a := start(t, "autobahn", "-url", url)
	if code := a.exit(15 * time.Second); code != 1 {
		t.Fatalf("exit %d, want 1", code)
	}
	want := "wspeer autobahn: " + url + " does not look like a fuzzingserver: " + url + "/getCaseCount: opening handshake failed: server answered HTTP 404 Not Found\n" +
		"(\"wspeer autobahn -h\" says where to get one)\n"
	if got := a.stderr.String(); got != want {
		t.Errorf("stderr:\n%s\nwant:\n%s", got, want)
	}
	h := start(t, "autobahn", "-h")
	h.exit(5 * time.Second)
	var out strings.Builder
	for l := range h.lines {
		out.WriteString(l + "\n")
	}
	if !strings.Contains(out.String(), "go run ./internal/conformance/cmd/wsconform -serve 127.0.0.1:9001") {
		t.Errorf("autobahn -h does not name wsconform:\n%s", out.String())
	}
}
