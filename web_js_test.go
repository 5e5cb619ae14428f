package wspeer

// Tests of the browser build. They need a browser's WebSocket and the native
// test server of internal/wasmtest, which builds this package's tests for
// GOOS=js, runs them in headless Chromium and passes the server's addresses in
// WSPEER_WS (ws://127.0.0.1:port) and WSPEER_WS6 (ws://[::1]:port, when the
// host has IPv6 loopback), a URL answered with 403 in WSPEER_REJECT and a
// closed port in WSPEER_REFUSED. Elsewhere they skip. The server echoes every
// message with its type, records the close code it saw under the URL's id
// query parameter (checked by the harness), and on /close4000 closes with
// 4000 "server bye" after echoing the first message.

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"
	"time"
)

func serverURL(t *testing.T, env, path string) string {
	t.Helper()
	base := os.Getenv(env)
	if base == "" {
		t.Skipf("%s not set: run through internal/wasmtest (headless Chromium)", env)
	}
	return base + path
}

// waitFor runs a Wait/Poll loop until cond holds, failing after 10 s or when
// the peer closes first.
func waitFor(t *testing.T, p *Peer, what string, cond func() bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for !cond() {
		err := p.Wait(ctx)
		p.Poll()
		if cond() {
			return
		}
		if err != nil {
			t.Fatalf("waiting for %s: %v (state %v, close %d %q, %v)", what, err, p.ReadyState(), p.CloseCode(), p.CloseReason(), p.CloseError())
		}
	}
}

func open(t *testing.T, rawURL string, setup func(*Peer)) *Peer {
	t.Helper()
	p := NewPeer()
	if setup != nil {
		setup(p)
	}
	if err := p.ConnectToURL(rawURL, nil); err != nil {
		t.Fatalf("ConnectToURL(%q): %v", rawURL, err)
	}
	if s := p.ReadyState(); s != StateConnecting {
		t.Fatalf("state after ConnectToURL = %v, want CONNECTING", s)
	}
	waitFor(t, p, "OPEN", func() bool { return p.ReadyState() == StateOpen })
	t.Cleanup(func() { p.Close(-1, "") })
	return p
}

func recv(t *testing.T, p *Peer) ([]byte, bool) {
	t.Helper()
	waitFor(t, p, "a packet", func() bool { return p.AvailablePacketCount() > 0 })
	b, err := p.GetPacket()
	if err != nil {
		t.Fatal(err)
	}
	return b, p.WasStringPacket()
}

func closed(t *testing.T, p *Peer) {
	t.Helper()
	waitFor(t, p, "CLOSED", func() bool { return p.ReadyState() == StateClosed })
}

func TestWebEcho(t *testing.T) {
	u := serverURL(t, "WSPEER_WS", "/echo?id=echo#fragment")
	p := open(t, u, func(p *Peer) { p.SupportedProtocols = []string{"chat", "superchat"} })
	if got := p.SelectedProtocol(); got != "superchat" {
		t.Errorf("SelectedProtocol = %q, want superchat", got)
	}
	if got := p.RequestedURL(); got != u {
		t.Errorf("RequestedURL = %q, want %q", got, u)
	}
	if err := p.SendText("héllo ✓"); err != nil {
		t.Fatal(err)
	}
	if err := p.Send([]byte{0, 1, 2, 0xff}, WriteModeBinary); err != nil {
		t.Fatal(err)
	}
	if err := p.Send(nil, WriteModeText); err != nil {
		t.Fatal(err)
	}
	if err := p.PutPacket(nil); err != nil { // sends nothing, as in Godot
		t.Fatal(err)
	}
	if err := p.Send([]byte{0xff}, WriteModeText); !errors.Is(err, ErrInvalidUTF8) {
		t.Errorf("Send(invalid UTF-8, text) = %v, want ErrInvalidUTF8", err)
	}
	for _, want := range []struct {
		data string
		text bool
	}{{"héllo ✓", true}, {"\x00\x01\x02\xff", false}, {"", true}} {
		b, text := recv(t, p)
		if string(b) != want.data || text != want.text {
			t.Errorf("echo = %q text=%v, want %q text=%v", b, text, want.data, want.text)
		}
	}
	if err := p.Close(1000, "bye"); err != nil {
		t.Fatal(err)
	}
	if s := p.ReadyState(); s != StateClosing {
		t.Errorf("state after Close = %v, want CLOSING", s)
	}
	closed(t, p)
	if p.CloseCode() != 1000 || p.CloseReason() != "bye" || p.CloseError() != nil {
		t.Errorf("close = %d %q %v, want 1000 \"bye\" <nil>", p.CloseCode(), p.CloseReason(), p.CloseError())
	}
	if err := p.SendText("late"); !errors.Is(err, ErrNotOpen) {
		t.Errorf("SendText after close = %v, want ErrNotOpen", err)
	}
	if p.SelectedProtocol() != "superchat" {
		t.Error("SelectedProtocol did not survive the close")
	}
}

func TestWebClientClose(t *testing.T) {
	p := open(t, serverURL(t, "WSPEER_WS", "/echo?id=client4001"), nil)
	if err := p.Close(4001, "client bye"); err != nil {
		t.Fatal(err)
	}
	closed(t, p)
	if p.CloseCode() != 4001 || p.CloseReason() != "client bye" {
		t.Errorf("close = %d %q, want the server's echo 4001 \"client bye\"", p.CloseCode(), p.CloseReason())
	}
}

func TestWebServerClose(t *testing.T) {
	p := open(t, serverURL(t, "WSPEER_WS", "/close4000?id=server4000"), nil)
	if err := p.SendText("last words"); err != nil {
		t.Fatal(err)
	}
	closed(t, p)
	if p.CloseCode() != 4000 || p.CloseReason() != "server bye" || p.CloseError() != nil {
		t.Errorf("close = %d %q %v, want 4000 \"server bye\" <nil>", p.CloseCode(), p.CloseReason(), p.CloseError())
	}
	// The echo that arrived before the close stays readable (Godot #107442).
	if b, err := p.GetPacket(); err != nil || string(b) != "last words" {
		t.Errorf("GetPacket after close = %q, %v", b, err)
	}
}

func TestWebCloseRefusedLocally(t *testing.T) {
	p := open(t, serverURL(t, "WSPEER_WS", "/echo?id=refused"), nil)
	for _, c := range []struct {
		code   int
		reason string
		unsupp bool // valid natively, not from a browser
	}{
		{1001, "", true}, {1011, "", true}, {5000, "", false}, {999, "", false},
		{1005, "", false}, {1000, strings.Repeat("x", 124), false}, {3000, "\xff", false},
	} {
		err := p.Close(c.code, c.reason)
		if !errors.Is(err, ErrInvalidParameter) || errors.Is(err, ErrUnsupported) != c.unsupp {
			t.Errorf("Close(%d, %d bytes) = %v, want ErrInvalidParameter (ErrUnsupported too: %v)", c.code, len(c.reason), err, c.unsupp)
		}
		if s := p.ReadyState(); s != StateOpen {
			t.Fatalf("state after refused Close(%d) = %v, want OPEN", c.code, s)
		}
	}
	// The connection still works, and 123 bytes is the limit, not 122.
	if err := p.SendText("still open"); err != nil {
		t.Fatal(err)
	}
	if b, _ := recv(t, p); string(b) != "still open" {
		t.Errorf("echo = %q", b)
	}
	reason := strings.Repeat("r", 123)
	if err := p.Close(4999, reason); err != nil {
		t.Fatal(err)
	}
	closed(t, p)
	if p.CloseCode() != 4999 || p.CloseReason() != reason {
		t.Errorf("close = %d %q", p.CloseCode(), p.CloseReason())
	}
}

func TestWebConstructorException(t *testing.T) {
	base := serverURL(t, "WSPEER_WS", "/echo")
	// Invalid subprotocols would make the constructor throw: refused first.
	for _, protos := range [][]string{{"a b"}, {"x", "x"}, {""}} {
		p := NewPeer()
		p.SupportedProtocols = protos
		if err := p.ConnectToURL(base, nil); !errors.Is(err, ErrInvalidParameter) || p.ReadyState() != StateClosed {
			t.Errorf("protocols %q: %v, state %v; want ErrInvalidParameter, CLOSED", protos, err, p.ReadyState())
		}
	}
	// Go's URL parser accepts '<' in a host name, the browser's does not:
	// its constructor throws a SyntaxError. Godot's Web build stays
	// CONNECTING for ever after a constructor exception.
	p := NewPeer()
	if err := p.ConnectToURL("ws://bad<host:8080/", nil); err != nil {
		t.Fatal(err)
	}
	closed(t, p)
	err := p.CloseError()
	if p.CloseCode() != -1 || !errors.Is(err, ErrDial) || !strings.Contains(err.Error(), "refused to open") {
		t.Errorf("constructor exception: close %d, %v; want -1 and ErrDial from the constructor", p.CloseCode(), err)
	}
	t.Logf("constructor exception: %v", err)
	// A port browsers block (SMTP): whether the constructor throws or the
	// connection fails later depends on the browser; it must end CLOSED.
	p = NewPeer()
	if err := p.ConnectToURL("ws://127.0.0.1:25/", nil); err != nil {
		t.Fatal(err)
	}
	closed(t, p)
	if p.CloseCode() != -1 || !errors.Is(p.CloseError(), ErrDial) {
		t.Errorf("blocked port: close %d, %v; want -1 and ErrDial", p.CloseCode(), p.CloseError())
	}
}

func TestWebConnectFailure(t *testing.T) {
	// WSPEER_REJECT answers the handshake with 403, WSPEER_REFUSED is a
	// closed port: the browser reports 1006 for both and no detail.
	for _, env := range []string{"WSPEER_REJECT", "WSPEER_REFUSED"} {
		p := NewPeer()
		if err := p.ConnectToURL(serverURL(t, env, ""), nil); err != nil {
			t.Fatal(err)
		}
		closed(t, p)
		if err := p.CloseError(); p.CloseCode() != -1 || !errors.Is(err, ErrDial) || !errors.Is(err, ErrHandshake) {
			t.Errorf("%s: close %d, %v; want -1, ErrDial and ErrHandshake", env, p.CloseCode(), err)
		}
	}
	// Close while CONNECTING ends the attempt at once.
	p := NewPeer()
	if err := p.ConnectToURL(serverURL(t, "WSPEER_WS", "/echo?id=abandoned"), nil); err != nil {
		t.Fatal(err)
	}
	if err := p.Close(1000, ""); err != nil || p.ReadyState() != StateClosed || !errors.Is(p.CloseError(), ErrDropped) {
		t.Errorf("Close while CONNECTING: %v, state %v, %v", err, p.ReadyState(), p.CloseError())
	}
}

func TestWebIPv6(t *testing.T) {
	u := serverURL(t, "WSPEER_WS6", "/echo?id=ipv6")
	p := open(t, u, nil)
	if err := p.SendText("over IPv6"); err != nil {
		t.Fatal(err)
	}
	if b, text := recv(t, p); string(b) != "over IPv6" || !text {
		t.Errorf("echo = %q text=%v", b, text)
	}
	if p.RequestedURL() != u {
		t.Errorf("RequestedURL = %q, want %q (brackets kept)", p.RequestedURL(), u)
	}
}

func TestWebWait(t *testing.T) {
	p := open(t, serverURL(t, "WSPEER_WS", "/echo?id=wait"), nil)
	// Nothing happens: Wait parks until the context ends, with no busy loop.
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	returns := 0
	for p.Wait(ctx) == nil {
		p.Poll()
		if returns++; returns > 5 {
			t.Fatal("Wait keeps returning while idle")
		}
	}
	cancel()
	// A message wakes it.
	start := time.Now()
	if err := p.SendText("wake"); err != nil {
		t.Fatal(err)
	}
	ctx, cancel = context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for p.AvailablePacketCount() == 0 {
		if err := p.Wait(ctx); err != nil {
			t.Fatalf("Wait: %v", err)
		}
		p.Poll()
	}
	t.Logf("echo woke Wait after %v", time.Since(start))
	p.Close(-1, "")
	if err := p.Wait(ctx); !errors.Is(err, ErrClosed) {
		t.Errorf("Wait on a CLOSED peer = %v, want ErrClosed", err)
	}
	if !errors.Is(p.CloseError(), ErrDropped) || p.CloseCode() != -1 {
		t.Errorf("Close(-1): %d %v", p.CloseCode(), p.CloseError())
	}
}

func TestWebBudgets(t *testing.T) {
	p := open(t, serverURL(t, "WSPEER_WS", "/echo?id=outbound"), func(p *Peer) { p.OutboundBufferSize = 10 })
	if err := p.PutPacket(make([]byte, 11)); !errors.Is(err, ErrTooLarge) {
		t.Errorf("11 bytes with a budget of 10: %v, want ErrTooLarge", err)
	}
	if err := p.PutPacket(make([]byte, 10)); err != nil { // queued + new > budget fails, = does not
		t.Errorf("10 bytes with a budget of 10: %v", err)
	}
	if n := p.CurrentOutboundBufferedAmount(); n != 10 && n != 0 {
		t.Errorf("CurrentOutboundBufferedAmount = %d", n)
	}

	p = open(t, serverURL(t, "WSPEER_WS", "/echo?id=toobig"), func(p *Peer) { p.InboundBufferSize = 16 })
	if err := p.PutPacket(make([]byte, 17)); err != nil {
		t.Fatal(err)
	}
	closed(t, p)
	if p.CloseCode() != 1009 || !errors.Is(p.CloseError(), ErrMessageTooBig) || !errors.Is(p.CloseError(), ErrProtocol) {
		t.Errorf("too big: %d %v, want 1009 ErrMessageTooBig", p.CloseCode(), p.CloseError())
	}

	p = open(t, serverURL(t, "WSPEER_WS", "/echo?id=queuefull"), func(p *Peer) { p.MaxQueuedPackets = 2 })
	for _, s := range []string{"1", "2", "3"} {
		if err := p.SendText(s); err != nil {
			t.Fatal(err)
		}
	}
	closed(t, p)
	if p.CloseCode() != 1009 || !errors.Is(p.CloseError(), ErrMessageTooBig) || p.AvailablePacketCount() != 2 {
		t.Errorf("queue full: %d %v, %d packets; want 1009 ErrMessageTooBig, 2", p.CloseCode(), p.CloseError(), p.AvailablePacketCount())
	}
}

func TestWebUnsupported(t *testing.T) {
	p := NewPeer()
	if err := p.AcceptStream(nil); !errors.Is(err, ErrUnsupported) {
		t.Errorf("AcceptStream = %v", err)
	}
	if err := p.SetNoDelay(true); !errors.Is(err, ErrUnsupported) {
		t.Errorf("SetNoDelay = %v", err)
	}
	if p.ConnectedHost() != "" || p.ConnectedPort() != 0 || p.RequestHeader() != nil || p.ResponseHeader() != nil {
		t.Error("connection details should be empty in the browser")
	}
	p.HandshakeHeaders = map[string][]string{"X-Token": {"1"}}
	if err := p.ConnectToURL("ws://127.0.0.1:1/", nil); !errors.Is(err, ErrUnsupported) {
		t.Errorf("HandshakeHeaders: %v, want ErrUnsupported", err)
	}
	p.HandshakeHeaders = nil
	if err := p.ConnectToURL("ws://user:pw@127.0.0.1:1/", nil); !errors.Is(err, ErrUnsupported) {
		t.Errorf("userinfo: %v, want ErrUnsupported", err)
	}
	for _, u := range []string{"", "http://x", "ws://", "ws://x:0", "ws://x:65536", "ws://x:", "ws://[::1"} {
		if err := p.ConnectToURL(u, nil); !errors.Is(err, ErrInvalidParameter) {
			t.Errorf("ConnectToURL(%q) = %v, want ErrInvalidParameter", u, err)
		}
	}
	if p.ReadyState() != StateClosed {
		t.Errorf("state = %v after refused connects", p.ReadyState())
	}
	if _, err := p.GetPacket(); !errors.Is(err, ErrNoPacket) {
		t.Errorf("GetPacket = %v, want ErrNoPacket", err)
	}
}
