package proto

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"time"
)

// connDriver runs a Conn the way the documented driver contract says, with a
// fake clock and an in-memory transport: no sockets, no sleeping.
type connDriver struct {
	t       *testing.T
	c       *Conn
	now     time.Time
	in      []byte // received and not yet parsed
	eof     bool   // the remote closed its side once in is consumed
	stalled bool   // writes make no progress
	queued  []byte // taken from the Conn, not yet written
	out     []byte // written to the remote
	msgs    []string
	cur     []byte
	holds   int
	errs    []error
}

func newDriver(t *testing.T, c *Conn) *connDriver {
	return &connDriver{t: t, c: c, now: t0}
}

func serverCfg() ConnConfig {
	return ConnConfig{
		MaxMessageSize:   1 << 20,
		HandshakeTimeout: 5 * time.Second,
		CloseTimeout:     3 * time.Second,
		Protocols:        []string{"superchat"},
	}
}

func openServerDriver(t *testing.T, cfg ConnConfig) *connDriver {
	cfg.Role = RoleServer
	return newDriver(t, NewOpenConn(cfg, "", t0))
}

// turn is one turn: Tick, parse all input, write, Settle.
func (d *connDriver) turn() {
	c := d.c
	c.Tick(d.now)
	if !c.Ended() && c.Reading() {
		for len(d.in) > 0 || c.Inflating() {
			n, ev, err := c.Parse(d.in, 1<<20, d.now)
			d.in = d.in[n:]
			if err != nil {
				d.errs = append(d.errs, err)
				d.in = nil
				break
			}
			if ev.Kind == EventHold {
				d.holds++
				break
			}
			if ev.Kind == EventNone && n == 0 {
				break
			}
			d.event(ev)
		}
		if d.eof && len(d.in) == 0 {
			c.ReadFailed(io.EOF)
		}
	}
	d.queued = c.AppendPending(d.queued)
	if !d.stalled {
		d.out = append(d.out, d.queued...)
		d.queued = d.queued[:0]
	}
	if !c.Ended() {
		c.Settle(d.now, len(d.queued) == 0)
	}
}

func (d *connDriver) event(ev Event) {
	if ev.Kind != EventData {
		return
	}
	d.cur = append(d.cur, ev.Data...)
	if ev.Fin {
		kind := "b:"
		if ev.Opcode == OpText {
			kind = "t:"
		}
		d.msgs = append(d.msgs, kind+string(d.cur))
		d.cur = d.cur[:0]
	}
}

// poll repeats turns while the step changes, as a Peer's Poll does, but
// not past a hold.
func (d *connDriver) poll() {
	for range 4 {
		s, holds := d.c.Step(), d.holds
		d.turn()
		if d.c.Step() == s || d.holds > holds {
			return
		}
	}
}

// at moves the clock to t0+off and polls.
func (d *connDriver) at(off time.Duration) {
	d.now = t0.Add(off)
	d.poll()
}

func (d *connDriver) want(state ConnState, step Step) {
	d.t.Helper()
	if d.c.State() != state || d.c.Step() != step {
		d.t.Fatalf("state %d step %d, want %d %d (result %+v)", d.c.State(), d.c.Step(), state, step, d.c.Result())
	}
}

func (d *connDriver) wantEnd(kind EndKind, code int) Result {
	d.t.Helper()
	r := d.c.Result()
	if !d.c.Ended() || d.c.State() != StateClosed || r.Kind != kind || r.Code != code {
		d.t.Fatalf("ended %v state %d result %+v, want kind %d code %d", d.c.Ended(), d.c.State(), r, kind, code)
	}
	return r
}

// takeOut returns what was written since the last call.
func (d *connDriver) takeOut() []byte {
	b := d.out
	d.out = nil
	return b
}

// closeFrames returns the close codes among the frames in b (server frames
// are unmasked, client frames masked).
func closeCodes(t *testing.T, b []byte) []int {
	t.Helper()
	var codes []int
	for len(b) > 0 {
		h, n, err := ParseHeader(b)
		if err != nil || n == 0 || len(b) < n+int(h.Length) {
			t.Fatalf("bad frames in output %q: %v", b, err)
		}
		payload := append([]byte(nil), b[n:n+int(h.Length)]...)
		if h.Masked {
			for i := range payload {
				payload[i] ^= h.Mask[i%4]
			}
		}
		if h.Opcode == OpClose {
			code := CloseNoStatus
			if len(payload) >= 2 {
				code = int(payload[0])<<8 | int(payload[1])
			}
			codes = append(codes, code)
		}
		b = b[n+int(h.Length):]
	}
	return codes
}

func closePayload(code int, reason string) []byte {
	return append([]byte{byte(code >> 8), byte(code)}, reason...)
}

func TestConnServerHandshake(t *testing.T) {
	d := newDriver(t, NewServerConn(serverCfg(), t0))
	d.want(StateConnecting, StepHead)
	req := hsHead(hsRFCRequest...)
	// The request arrives in two pieces, with a first frame pipelined after it.
	d.in = req[:20]
	d.at(time.Millisecond)
	d.want(StateConnecting, StepHead)
	if len(d.takeOut()) != 0 {
		t.Fatal("answered a partial request")
	}
	d.in = append(append([]byte(nil), req[20:]...), wire(OpText, true, true, []byte("hi"))...)
	d.at(2 * time.Millisecond)
	d.want(StateOpen, StepOpen)
	resp := string(d.takeOut())
	if !strings.HasPrefix(resp, "HTTP/1.1 101 ") || !strings.Contains(resp, "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n") ||
		!strings.Contains(resp, "Sec-WebSocket-Protocol: superchat\r\n") {
		t.Fatalf("response %q", resp)
	}
	if len(d.msgs) != 1 || d.msgs[0] != "t:hi" {
		t.Fatalf("pipelined frame: %q", d.msgs)
	}
	hs := d.c.Handshake()
	if hs.Protocol != "superchat" || hs.Host != "server.example.com" || hs.Target != "/chat" || !bytes.Equal(hs.RequestHead, req) {
		t.Fatalf("handshake info %+v", hs)
	}
}

func TestConnServerOpensOnlyOnce101IsWritten(t *testing.T) {
	d := newDriver(t, NewServerConn(serverCfg(), t0))
	d.stalled = true
	d.in = hsHead(hsRFCRequest...)
	d.at(time.Millisecond)
	d.want(StateConnecting, StepAnswer)
	// Still unwritten at the handshake deadline: it times out.
	d.at(5 * time.Second)
	d.wantEnd(EndHandshakeTimeout, -1)
}

func TestConnServerRejects(t *testing.T) {
	cases := []struct {
		name   string
		head   []byte
		status string
	}{
		{"no key", hsReplace("Sec-WebSocket-Key", ""), "400"},
		{"POST", hsReplace("GET", "POST /chat HTTP/1.1"), "405"},
		{"version 8", hsReplace("Sec-WebSocket-Version", "Sec-WebSocket-Version: 8"), "426"},
		{"head too large", hsAdd("X-Big: " + strings.Repeat("a", DefaultMaxHandshakeSize)), "431"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d := newDriver(t, NewServerConn(serverCfg(), t0))
			d.in = tc.head
			d.at(time.Millisecond)
			r := d.wantEnd(EndHandshake, -1)
			var he *HTTPError
			if !errors.As(r.Err, &he) || r.Detail != DetailRejected || !errors.Is(r.Err, ErrBadRequest) {
				t.Fatalf("result %+v", r)
			}
			if out := string(d.takeOut()); !strings.HasPrefix(out, "HTTP/1.1 "+tc.status+" ") {
				t.Fatalf("answer %q", out)
			}
		})
	}
}

func TestConnServerRejectionLingersAtMostASecond(t *testing.T) {
	d := newDriver(t, NewServerConn(serverCfg(), t0))
	d.stalled = true
	d.in = hsReplace("Sec-WebSocket-Key", "")
	d.at(0)
	d.want(StateConnecting, StepReject)
	d.at(time.Second - time.Nanosecond)
	d.want(StateConnecting, StepReject)
	d.at(time.Second)
	d.wantEnd(EndHandshake, -1)
}

func TestConnHandshakeTimeoutAndLoss(t *testing.T) {
	d := newDriver(t, NewServerConn(serverCfg(), t0))
	d.at(5*time.Second - time.Nanosecond)
	d.want(StateConnecting, StepHead)
	if dl := d.c.NextDeadline(); !dl.Equal(t0.Add(5 * time.Second)) {
		t.Fatalf("next deadline %v", dl)
	}
	d.at(5 * time.Second)
	d.wantEnd(EndHandshakeTimeout, -1)

	d = newDriver(t, NewServerConn(serverCfg(), t0))
	d.in, d.eof = []byte("GET / HT"), true
	d.at(time.Millisecond)
	if r := d.wantEnd(EndHandshake, -1); r.Detail != DetailLost || !errors.Is(r.Err, io.ErrUnexpectedEOF) {
		t.Fatalf("result %+v", r)
	}
	if out := d.takeOut(); len(out) != 0 {
		t.Fatalf("a dead connection got an answer: %q", out)
	}
}

func clientCfg() ConnConfig {
	cfg := serverCfg()
	cfg.Request = &ClientRequest{Target: "/chat", Host: "server.example.com", Key: hsRFCKey, Protocols: []string{"chat", "superchat"}}
	return cfg
}

func TestConnClientHandshake(t *testing.T) {
	d := newDriver(t, NewClientConn(clientCfg(), t0))
	d.at(0)
	if req := string(d.takeOut()); !strings.HasPrefix(req, "GET /chat HTTP/1.1\r\n") || !strings.Contains(req, "Sec-WebSocket-Key: "+hsRFCKey) {
		t.Fatalf("request %q", req)
	}
	resp := "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\nSec-WebSocket-Protocol: chat\r\n\r\n"
	d.in = append([]byte(resp), wire(OpBinary, true, false, []byte{1, 2})...)
	d.at(time.Millisecond)
	d.want(StateOpen, StepOpen)
	if hs := d.c.Handshake(); hs.Protocol != "chat" || hs.ResponseHeader.Get("Upgrade") != "websocket" {
		t.Fatalf("handshake %+v", hs)
	}
	if len(d.msgs) != 1 || d.msgs[0] != "b:\x01\x02" {
		t.Fatalf("frame after the response: %q", d.msgs)
	}
}

func TestConnClientRefusesBadResponses(t *testing.T) {
	for name, resp := range map[string]string{
		"403":        "HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n",
		"bad accept": "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: xxx\r\n\r\n",
		"garbage":    "SSH-2.0-OpenSSH\r\n\r\n",
	} {
		t.Run(name, func(t *testing.T) {
			d := newDriver(t, NewClientConn(clientCfg(), t0))
			d.in = []byte(resp)
			d.at(time.Millisecond)
			if r := d.wantEnd(EndHandshake, -1); r.Err == nil || d.c.Handshake().Protocol != "" {
				t.Fatalf("result %+v", r)
			}
		})
	}
}

// remoteClose is the close frame a client sends (masked).
func remoteClose(code int, reason string) []byte {
	return wire(OpClose, true, true, closePayload(code, reason))
}

func TestConnRemoteCloseServer(t *testing.T) {
	d := openServerDriver(t, serverCfg())
	d.in = remoteClose(4001, "bye")
	d.at(time.Millisecond)
	// The echo is written and a server closes TCP at once.
	d.wantEnd(EndClean, 4001)
	if r := d.c.Result(); r.Reason != "bye" || r.Err != nil {
		t.Fatalf("result %+v", r)
	}
	if codes := closeCodes(t, d.takeOut()); len(codes) != 1 || codes[0] != 4001 {
		t.Fatalf("echo %v", codes)
	}
}

func TestConnLocalCloseAndTimeouts(t *testing.T) {
	d := openServerDriver(t, serverCfg())
	if err := d.c.Close(1000, "done", d.now); err != nil {
		t.Fatal(err)
	}
	d.at(time.Millisecond)
	d.want(StateClosing, StepOpen)
	if codes := closeCodes(t, d.takeOut()); len(codes) != 1 || codes[0] != 1000 {
		t.Fatalf("close frame %v", codes)
	}
	if d.c.CanSend() {
		t.Fatal("can send after Close")
	}
	// The remote never answers: CloseTimeout (3 s) from Close.
	d.at(3*time.Second - time.Nanosecond)
	d.want(StateClosing, StepOpen)
	d.at(3 * time.Second)
	if r := d.wantEnd(EndCloseTimeout, -1); !errors.Is(r.Err, ErrCloseTimeout) {
		t.Fatalf("result %+v", r)
	}
}

func TestConnClientWaitsForServerTCPClose(t *testing.T) {
	newOpenClient := func() *connDriver {
		d := newDriver(t, NewOpenConn(clientCfg(), "", t0))
		if d.c.Role() != RoleClient {
			t.Fatal("role")
		}
		if err := d.c.Close(1000, "", d.now); err != nil {
			t.Fatal(err)
		}
		d.in = wire(OpClose, true, false, closePayload(1000, ""))
		d.at(time.Millisecond)
		d.want(StateClosing, StepAwaitEOF)
		return d
	}
	// The server closes TCP: clean end at once.
	d := newOpenClient()
	d.in, d.eof = wire(OpText, true, false, []byte("ignored")), true
	d.at(2 * time.Millisecond)
	d.wantEnd(EndClean, 1000)
	if len(d.msgs) != 0 {
		t.Fatalf("data after the close delivered: %q", d.msgs)
	}
	// It does not: the wait is bounded (1 s, within the close timeout).
	d = newOpenClient()
	d.at(time.Millisecond + time.Second - time.Nanosecond)
	d.want(StateClosing, StepAwaitEOF)
	d.at(time.Millisecond + time.Second)
	d.wantEnd(EndClean, 1000)
}

func TestConnSimultaneousClose(t *testing.T) {
	d := openServerDriver(t, serverCfg())
	_ = d.c.Close(1001, "going", d.now)
	// The remote's own close crosses ours: each side reports the other's.
	d.in = remoteClose(4000, "mine")
	d.at(time.Millisecond)
	r := d.wantEnd(EndClean, 4000)
	if r.Reason != "mine" {
		t.Fatalf("result %+v", r)
	}
	if codes := closeCodes(t, d.takeOut()); len(codes) != 1 || codes[0] != 1001 {
		t.Fatalf("we sent %v, want only our own 1001", codes)
	}
}

func TestConnHoldsCloseBackForTheApplication(t *testing.T) {
	d := openServerDriver(t, serverCfg())
	d.in = append(wire(OpText, true, true, []byte("last words")), remoteClose(1000, "")...)
	d.at(time.Millisecond)
	// The message is delivered; the close waits for the next turn, so that
	// the application can still answer.
	if d.holds != 1 || len(d.msgs) != 1 || d.c.State() != StateOpen || !d.c.CanSend() {
		t.Fatalf("holds %d msgs %q state %d", d.holds, d.msgs, d.c.State())
	}
	out, err := d.c.AppendMessage(nil, OpText, []byte("answer"))
	if err != nil {
		t.Fatal(err)
	}
	d.out = append(d.out, out...)
	d.at(2 * time.Millisecond)
	d.wantEnd(EndClean, 1000)
	if !bytes.Contains(d.out, []byte("answer")) {
		t.Fatal("answer not written before the close")
	}
}

func TestConnClientHoldsCloseThatCameWithTheResponse(t *testing.T) {
	d := newDriver(t, NewClientConn(clientCfg(), t0))
	d.at(0)
	resp := "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n"
	d.in = append([]byte(resp), wire(OpText, true, false, []byte("Hello World!"))...)
	d.in = append(d.in, wire(OpClose, true, false, closePayload(1000, ""))...)
	d.at(time.Millisecond)
	// Opened, the message delivered, and the close not yet acted on.
	d.want(StateOpen, StepOpen)
	if len(d.msgs) != 1 || d.holds != 1 || !d.c.CanSend() {
		t.Fatalf("msgs %q holds %d", d.msgs, d.holds)
	}
	d.at(2 * time.Millisecond)
	d.want(StateClosing, StepAwaitEOF)
}

func TestConnProtocolErrorEndsOnceWritten(t *testing.T) {
	d := openServerDriver(t, serverCfg())
	d.stalled = true
	d.in = wire(OpText, true, false, []byte("unmasked")) // a client must mask
	d.at(time.Millisecond)
	d.want(StateClosing, StepFlush)
	d.stalled = false
	d.at(2 * time.Millisecond)
	r := d.wantEnd(EndProtocol, CloseProtocolError)
	var pe *ProtocolError
	if !errors.As(r.Err, &pe) || len(d.errs) != 1 {
		t.Fatalf("result %+v errs %v", r, d.errs)
	}
	if codes := closeCodes(t, d.takeOut()); len(codes) != 1 || codes[0] != CloseProtocolError {
		t.Fatalf("close %v", codes)
	}
}

func TestConnFlushBoundedByCloseTimeout(t *testing.T) {
	d := openServerDriver(t, serverCfg())
	d.stalled = true
	d.in = remoteClose(1000, "")
	d.at(0)
	d.want(StateClosing, StepFlush)
	d.at(3*time.Second - time.Nanosecond)
	d.want(StateClosing, StepFlush)
	d.at(3 * time.Second)
	d.wantEnd(EndClean, 1000)
}

func TestConnHeartbeat(t *testing.T) {
	cfg := serverCfg()
	cfg.HeartbeatInterval = 10 * time.Second
	d := openServerDriver(t, cfg)
	d.at(10 * time.Second)
	if out := d.takeOut(); len(out) < 2 || Opcode(out[0]&0x0F) != OpPing {
		t.Fatalf("no ping at the interval: %q", out)
	}
	d.in = wire(OpPong, true, true, nil)
	d.at(15 * time.Second)
	d.at(20*time.Second - time.Nanosecond)
	d.want(StateOpen, StepOpen)
	d.at(20 * time.Second) // second ping, never answered
	d.takeOut()
	d.at(30 * time.Second)
	if r := d.wantEnd(EndHeartbeat, -1); !errors.Is(r.Err, ErrHeartbeatTimeout) {
		t.Fatalf("result %+v", r)
	}
	if codes := closeCodes(t, d.takeOut()); len(codes) != 1 || codes[0] != CloseInternalError {
		t.Fatalf("heartbeat failure close %v", codes)
	}
}

func TestConnTransportLoss(t *testing.T) {
	d := openServerDriver(t, serverCfg())
	d.in, d.eof = wire(OpBinary, true, true, []byte{7}), true
	d.at(time.Millisecond)
	if r := d.wantEnd(EndLost, -1); !errors.Is(r.Err, io.ErrUnexpectedEOF) || len(d.msgs) != 1 {
		t.Fatalf("result %+v msgs %q", r, d.msgs)
	}
	// A close received, then the transport fails before our echo is out:
	// the remote's code is kept.
	d = openServerDriver(t, serverCfg())
	d.c.WriteFailed(errors.New("broken pipe"))
	d.in = remoteClose(4002, "x")
	d.stalled = true
	d.at(time.Millisecond)
	d.wantEnd(EndClean, 4002)
}

func TestConnReleasesHandshakeOnceOpen(t *testing.T) {
	d := newDriver(t, NewServerConn(serverCfg(), t0))
	d.c.ReleaseHandshake() // still CONNECTING: kept
	d.in = hsHead(hsRFCRequest...)
	d.at(0)
	d.want(StateOpen, StepOpen)
	if hs := d.c.Handshake(); hs == nil || hs.Protocol != "superchat" {
		t.Fatalf("handshake info %+v", hs)
	}
	d.c.ReleaseHandshake()
	if d.c.Handshake() != nil || d.c.Pending() {
		t.Fatal("handshake state kept after release")
	}
	// The connection goes on without it, to a clean close.
	d.in = remoteClose(1000, "")
	d.at(time.Millisecond)
	d.wantEnd(EndClean, 1000)
}

func TestConnCloseWhileConnectingDrops(t *testing.T) {
	d := newDriver(t, NewServerConn(serverCfg(), t0))
	if err := d.c.Close(1000, "", t0); err != nil {
		t.Fatal(err)
	}
	if r := d.wantEnd(EndDropped, -1); r.Detail != DetailConnecting {
		t.Fatalf("result %+v", r)
	}
	d = openServerDriver(t, serverCfg())
	d.c.Drop("")
	d.wantEnd(EndDropped, -1)
	if d.c.Reading() || d.c.Pending() {
		t.Fatal("a dropped connection still reads or writes")
	}
}

func TestConnNegotiatesExtensionsAndReleasesThem(t *testing.T) {
	head := hsAdd("Sec-WebSocket-Extensions: x-run; level=2")
	for _, on := range []bool{false, true} {
		cfg := serverCfg()
		neg := &fakeNegotiator{name: "x-run", codec: true}
		if on {
			cfg.Negotiators = []ExtensionNegotiator{neg}
		}
		d := newDriver(t, NewServerConn(cfg, t0))
		d.in = head
		d.at(0)
		d.want(StateOpen, StepOpen)
		resp := string(d.takeOut())
		if got := strings.Contains(resp, "Sec-WebSocket-Extensions: x-run; level=2\r\n"); got != on || (d.c.Handshake().Extension != nil) != on {
			t.Fatalf("negotiator %v: response %q", on, resp)
		}
		d.in = remoteClose(1000, "")
		d.at(time.Millisecond)
		d.wantEnd(EndClean, 1000)
		if on && neg.made[0].releases == 0 {
			t.Fatal("codec not released when the connection ended")
		}
	}
	// Client: the server's answer is confirmed by the negotiator that offered.
	cfg := clientCfg()
	neg := &fakeNegotiator{name: "x-run", offer: "x-run", codec: true}
	cfg.Negotiators = []ExtensionNegotiator{neg}
	cfg.Request.Extensions = OfferExtensions(cfg.Negotiators)
	d := newDriver(t, NewClientConn(cfg, t0))
	d.in = []byte("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\nSec-WebSocket-Extensions: x-run\r\n\r\n")
	d.at(0)
	d.want(StateOpen, StepOpen)
	if d.c.Handshake().Extension == nil || len(neg.made) != 1 {
		t.Fatalf("client extension not confirmed: %+v", d.c.Handshake())
	}
	// Dropping it releases the codec too.
	d.c.Drop("")
	if neg.made[0].releases == 0 {
		t.Fatal("codec not released on drop")
	}
}
