package interop

// Tests against the real Godot engine: Godot 3.2's WebSocketClient and
// WebSocketServer (headless, Debian's godot3-server) running godot/peer.gd,
// in both roles, against the wspeer library (godot_test.go) and the wspeer
// command (godot_tools_test.go). COMPATIBILITY.md, "Godot 3.2 (real engine)
// findings", explains the Godot behaviour the checks allow for.

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/wspeer/wspeer"
)

const (
	godotProject    = "godot"   // peer.gd and the project.godot that raises Godot's limits
	godotScript     = "peer.gd" // see its header for modes, steps and events
	godotRunTimeout = 40 * time.Second
	godotWait       = 20 * time.Second // for one event
)

// godotEvent is one JSON line of peer.gd.
type godotEvent struct {
	Event     string `json:"event"`
	Protocol  string `json:"protocol"`
	Text      bool   `json:"text"`
	Len       int    `json:"len"`
	SHA256    string `json:"sha256"`
	Code      int    `json:"code"`
	Reason    string `json:"reason"`
	Clean     bool   `json:"clean"`
	Initiated bool   `json:"initiated"`
	What      string `json:"what"`
}

// godotPeer is one running peer.gd.
type godotPeer struct{ *proc }

// peer starts peer.gd in the test project with args (its mode and mode
// arguments).
func (g *godot) peer(t *testing.T, args ...string) godotPeer {
	return godotPeer{g.run(t, godotRunTimeout, godotProject, godotScript, args...)}
}

// next returns the next event, skipping Godot's banner; a "fail" event is an
// error.
func (gp godotPeer) next(ctx context.Context) (godotEvent, error) {
	for {
		l, err := gp.line(ctx, godotWait)
		if err != nil {
			return godotEvent{}, err
		}
		if !strings.HasPrefix(l, "{") {
			continue
		}
		var ev godotEvent
		if err := json.Unmarshal([]byte(l), &ev); err != nil {
			return ev, fmt.Errorf("%s: bad event line %q: %v", gp.name, l, err)
		}
		if ev.Event == "fail" {
			return ev, fmt.Errorf("%s failed: %s; stderr: %s", gp.name, ev.What, gp.stderr.String())
		}
		return ev, nil
	}
}

// expect returns the next event, which must be of kind.
func (gp godotPeer) expect(ctx context.Context, t *testing.T, kind string) godotEvent {
	t.Helper()
	ev, err := gp.next(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if ev.Event != kind {
		t.Fatalf("Godot: got event %+v, want %q", ev, kind)
	}
	return ev
}

// listening waits for a server's "listening PORT" line.
func (gp godotPeer) listening(ctx context.Context, t *testing.T) {
	t.Helper()
	for {
		l, err := gp.line(ctx, godotWait)
		if err != nil {
			t.Fatal(err)
		}
		if strings.HasPrefix(l, "listening ") {
			return
		}
		if strings.HasPrefix(l, "{") {
			t.Fatalf("Godot server: %s; stderr: %s", l, gp.stderr.String())
		}
	}
}

// expectClose expects the events of a close started by the other side with
// code and reason: Godot reports the request, then a clean disconnection.
func (gp godotPeer) expectClose(ctx context.Context, t *testing.T, code int, reason string) {
	t.Helper()
	ev := gp.expect(ctx, t, "close_request")
	if ev.Code != code || ev.Reason != reason {
		t.Errorf("Godot received close %d %q, want %d %q", ev.Code, ev.Reason, code, reason)
	}
	ev = gp.expect(ctx, t, "close")
	if !ev.Clean || ev.Initiated {
		t.Errorf("Godot: %+v, want a clean close started by the other side", ev)
	}
}

// expectOwnClose expects the end of a close Godot started. Godot 3.2 ignores
// the other side's reply: it reports no code and was_clean_close false.
func (gp godotPeer) expectOwnClose(ctx context.Context, t *testing.T) {
	t.Helper()
	ev := gp.expect(ctx, t, "close")
	if !ev.Initiated {
		t.Errorf("Godot: %+v, want the close it started", ev)
	}
	t.Logf("Godot after its own close: code %d, was_clean_close %v (3.2 ignores the reply)", ev.Code, ev.Clean)
}

// godotMsg is a message generated on both sides from scenario.go's patterns.
type godotMsg struct {
	text bool
	n    int
}

func (m godotMsg) data() []byte {
	if m.text {
		return textPattern(m.n)
	}
	return pattern(m.n)
}

// step is the peer.gd step that sends m.
func (m godotMsg) step() string {
	kind := "binary"
	if m.text {
		kind = "text"
	}
	return "send:" + kind + ":" + strconv.Itoa(m.n)
}

// check compares a "message" event with m.
func (m godotMsg) check(ev godotEvent) error {
	sum := sha256.Sum256(m.data())
	if ev.Event != "message" || ev.Text != m.text || ev.Len != m.n || ev.SHA256 != hex.EncodeToString(sum[:]) {
		return fmt.Errorf("Godot received %+v, want text %v, %d bytes, sha256 %x", ev, m.text, m.n, sum)
	}
	return nil
}

// godotBig are the large messages each Godot case carries both ways.
var godotBig = []godotMsg{{true, 64 << 10}, {false, 64 << 10}, {true, 1 << 20}, {false, 1 << 20}}

// sendSteps returns the steps sending msgs, then waiting for as many replies.
func sendSteps(msgs []godotMsg) []string {
	var steps []string
	for _, m := range msgs {
		steps = append(steps, m.step())
	}
	return append(steps, "recv:"+strconv.Itoa(len(msgs)))
}

// expectMessages expects Godot to report msgs, in order.
func (gp godotPeer) expectMessages(ctx context.Context, t *testing.T, msgs []godotMsg) {
	t.Helper()
	for i, m := range msgs {
		if err := m.check(gp.expect(ctx, t, "message")); err != nil {
			t.Fatalf("message %d: %v", i, err)
		}
	}
}

// godotReason checks a close reason sent by Godot 3.2, which appends the NUL
// that ends its C string to the reason bytes.
func godotReason(t *testing.T, got, want string) {
	t.Helper()
	trimmed, nul := strings.CutSuffix(got, "\x00")
	if trimmed != want {
		t.Errorf("close reason from Godot %q, want %q (optionally NUL-terminated)", got, want)
	}
	t.Logf("Godot's close reason %q (trailing NUL: %v)", got, nul)
}

// godotScenarios are scenario.go's messages that Godot can echo: all but the
// empty ones (Godot 3's put_packet sends nothing for an empty array).
func godotScenarios() []Scenario {
	var out []Scenario
	for _, s := range Scenarios() {
		if len(s.Data) > 0 {
			out = append(out, s)
		}
	}
	return out
}

// godotConnect makes one connection between a wspeer library peer and a
// peer.gd agent, both open.
type godotConnect func(ctx context.Context, t *testing.T, o opts) (*ourConn, godotPeer)

// TestGodotLibraryServer: Godot's WebSocketClient against a wspeer server
// made of AcceptStream and a Wait loop.
func TestGodotLibraryServer(t *testing.T) {
	g := requireGodot(t)
	runGodotAgent(t, func(ctx context.Context, t *testing.T, o opts) (*ourConn, godotPeer) {
		ln := listen(t)
		gp := g.peer(t, "client", "ws://"+ln.Addr().String()+"/godot")
		c, err := acceptOurs(ctx, ln, o)
		if err != nil {
			t.Fatalf("%v; Godot stderr: %s", err, gp.stderr.String())
		}
		return c, gp
	})
}

// TestGodotLibraryClient: a wspeer client against Godot's WebSocketServer.
func TestGodotLibraryClient(t *testing.T) {
	g := requireGodot(t)
	runGodotAgent(t, func(ctx context.Context, t *testing.T, o opts) (*ourConn, godotPeer) {
		port := strconv.Itoa(freePort(t))
		gp := g.peer(t, "server", port)
		gp.listening(ctx, t)
		c, err := dialOurs(ctx, "ws://127.0.0.1:"+port+"/godot", o)
		if err != nil {
			t.Fatalf("%v; Godot stderr: %s", err, gp.stderr.String())
		}
		return c, gp
	})
	t.Run("empty-messages", func(t *testing.T) { godotEmptyMessages(t, g) })
}

// runGodotAgent runs the cases on two connections: the first echoes every
// scenario and bursts both ways and is closed by wspeer; the second checks
// that Godot answers our heartbeat pings and is closed by Godot.
func runGodotAgent(t *testing.T, connect godotConnect) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	open := func(t *testing.T, o opts) (*ourConn, godotPeer) {
		c, gp := connect(ctx, t, o)
		t.Cleanup(c.abort)
		if ev := gp.expect(ctx, t, "open"); ev.Protocol != WantProtocol {
			t.Errorf("Godot selected protocol %q, want %q", ev.Protocol, WantProtocol)
		}
		checkHello(ctx, t, c, side{})
		return c, gp
	}
	t.Run("messages-and-our-close", func(t *testing.T) {
		c, gp := open(t, opts{})
		godotMessagesAndOurClose(ctx, t, c, gp)
	})
	t.Run("heartbeat-and-their-close", func(t *testing.T) {
		c, gp := open(t, opts{heartbeat: heartbeat})
		godotHeartbeatAndTheirClose(ctx, t, c, gp)
	})
}

func godotMessagesAndOurClose(ctx context.Context, t *testing.T, c *ourConn, gp godotPeer) {
	for _, sc := range godotScenarios() {
		if err := echo(ctx, c, sc.Text, sc.Data); err != nil {
			t.Fatalf("%s: %v", sc.Name, err)
		}
	}
	for i := range BurstCount {
		if err := c.send(true, []byte(BurstMessage(i))); err != nil {
			t.Fatalf("send %d: %v", i, err)
		}
	}
	expectBurst(ctx, t, c)
	if err := c.send(true, []byte(CmdBurst+strconv.Itoa(BurstCount))); err != nil {
		t.Fatal(err)
	}
	expectBurst(ctx, t, c)
	if err := c.p.Close(CloseCode, CloseReason); err != nil {
		t.Fatal(err)
	}
	if code, reason := waitCleanClose(ctx, t, c); code != CloseCode || reason != CloseReason {
		t.Errorf("Godot's reply: close %d %q, want the echo %d %q", code, reason, CloseCode, CloseReason)
	}
	gp.expectClose(ctx, t, CloseCode, CloseReason)
}

func godotHeartbeatAndTheirClose(ctx context.Context, t *testing.T, c *ourConn, gp godotPeer) {
	// Godot 3 answers pings by itself (wslay); a missing pong would close
	// the connection within two intervals.
	select {
	case <-time.After(5*heartbeat + 100*time.Millisecond):
	case <-c.done:
	}
	if st := c.p.ReadyState(); st.String() != "OPEN" {
		t.Fatalf("state %v after %v of heartbeats: code %d, error %v", st, 5*heartbeat, c.p.CloseCode(), c.p.CloseError())
	}
	if err := echo(ctx, c, true, []byte("still here ✓")); err != nil {
		t.Fatal(err)
	}
	if err := c.send(true, []byte(CmdPing)); err != nil {
		t.Fatal(err)
	}
	if got, err := c.recvText(ctx, msgTimeout); err != nil || got != PongUnsupported {
		t.Fatalf("ping command: %q %v, want %q (Godot 3 has no ping API)", got, err, PongUnsupported)
	}
	if err := c.send(true, []byte(CmdClose)); err != nil {
		t.Fatal(err)
	}
	code, reason := waitCleanClose(ctx, t, c)
	if code != CloseCode {
		t.Errorf("close code from Godot %d, want %d", code, CloseCode)
	}
	godotReason(t, reason, CloseReason)
	gp.expectOwnClose(ctx, t)
}

// waitCleanClose waits until c is CLOSED, checks that the closing handshake
// completed and returns the close code and reason wspeer received.
func waitCleanClose(ctx context.Context, t *testing.T, c *ourConn) (int, string) {
	t.Helper()
	if err := c.waitClosed(ctx, closeTimeout); err != nil {
		t.Fatal(err)
	}
	if err := c.p.CloseError(); err != nil {
		t.Errorf("closing handshake not clean: %v", err)
	}
	return c.p.CloseCode(), c.p.CloseReason()
}

// godotEmptyMessages: Godot receives empty text and binary messages, but its
// put_packet sends nothing for an empty array (the first message wspeer
// receives is the one sent after two empty ones).
func godotEmptyMessages(t *testing.T, g *godot) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	port := strconv.Itoa(freePort(t))
	gp := g.peer(t, "drive-server", port, "echo.v2", "recv:3", "send:text:0", "send:binary:0", "send:text:1", "close")
	gp.listening(ctx, t)
	c, err := dialPeer(ctx, "ws://127.0.0.1:"+port+"/", []string{WantProtocol}, opts{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.abort()
	gp.expect(ctx, t, "open")
	sent := []godotMsg{{true, 0}, {false, 0}, {true, 1}}
	for _, m := range sent {
		if err := c.send(m.text, m.data()); err != nil {
			t.Fatal(err)
		}
	}
	gp.expectMessages(ctx, t, sent)
	m, err := c.recv(ctx, msgTimeout)
	if err != nil {
		t.Fatal(err)
	}
	if err := same(m, message{true, textPattern(1)}); err != nil {
		t.Errorf("first message from Godot after two empty put_packet calls: %v", err)
	}
	if code, _ := waitCleanClose(ctx, t, c); code != CloseCode {
		t.Errorf("close code from Godot %d, want %d", code, CloseCode)
	}
	gp.expectOwnClose(ctx, t)
}

// TestGodotDefaultLimits: without the project settings of godot/project.godot,
// Godot 3.2 stores inbound messages in a 64 KiB ring (65535 usable bytes) and
// has wslay refuse longer frames with close 1009.
func TestGodotDefaultLimits(t *testing.T) {
	g := requireGodot(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	script, err := os.ReadFile(filepath.Join(godotProject, godotScript))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, godotScript), script, 0o644); err != nil {
		t.Fatal(err)
	}
	port := strconv.Itoa(freePort(t))
	gp := godotPeer{g.run(t, godotRunTimeout, dir, godotScript, "server", port)}
	gp.listening(ctx, t)
	c, err := dialOurs(ctx, "ws://127.0.0.1:"+port+"/", opts{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.abort()
	if err := echo(ctx, c, false, pattern(65535)); err != nil {
		t.Fatalf("65535 bytes, the most the default ring holds: %v", err)
	}
	if err := c.send(false, pattern(70000)); err != nil {
		t.Fatal(err)
	}
	if err := c.waitClosed(ctx, closeTimeout); err != nil {
		t.Fatal(err)
	}
	if c.p.CloseCode() != 1009 {
		t.Errorf("after a 70000-byte message: close %d %q, error %v; want Godot's 1009", c.p.CloseCode(), c.p.CloseReason(), c.p.CloseError())
	}
}

// TestGodotInvalidUTF8: Godot 3.2 sends a text message that is not UTF-8 as it
// is (its native build does not validate outgoing text); a wspeer server
// closes the connection with 1007 and Godot reports that close.
func TestGodotInvalidUTF8(t *testing.T) {
	g := requireGodot(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	ln := listen(t)
	// Godot waits for a first message: wspeer must be OPEN before the bad one.
	gp := g.peer(t, "drive-client", "ws://"+ln.Addr().String()+"/", "-", "recv:1", "send:invalid-utf8")
	c, err := acceptOurs(ctx, ln, opts{})
	if err != nil {
		t.Fatalf("%v; Godot stderr: %s", err, gp.stderr.String())
	}
	defer c.abort()
	gp.expect(ctx, t, "open")
	if err := c.send(true, []byte("go")); err != nil {
		t.Fatal(err)
	}
	gp.expect(ctx, t, "message")
	if err := c.waitClosed(ctx, closeTimeout); err != nil {
		t.Fatal(err)
	}
	if c.p.CloseCode() != 1007 || !errors.Is(c.p.CloseError(), wspeer.ErrInvalidPayload) {
		t.Errorf("wspeer: close %d, error %v; want 1007 and ErrInvalidPayload", c.p.CloseCode(), c.p.CloseError())
	}
	ev := gp.expect(ctx, t, "close_request")
	if ev.Code != 1007 {
		t.Errorf("Godot received close %d %q, want 1007", ev.Code, ev.Reason)
	}
	t.Logf("Godot received close %d %q", ev.Code, ev.Reason)
	if ev = gp.expect(ctx, t, "close"); !ev.Clean {
		t.Errorf("Godot: %+v, want a clean close", ev)
	}
}
