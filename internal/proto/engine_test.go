package proto

import (
	"bytes"
	"errors"
	"testing"
	"time"
)

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// wire builds a frame as a peer would send it: masked when from a client. The
// masking is done byte by byte here, independently of Mask.
func wire(op Opcode, fin bool, masked bool, payload []byte) []byte {
	return wireRsv(op, fin, 0, masked, payload)
}

func wireRsv(op Opcode, fin bool, rsv byte, masked bool, payload []byte) []byte {
	h := Header{Fin: fin, Rsv: rsv, Opcode: op, Masked: masked, Mask: [4]byte{0xA1, 0xB2, 0xC3, 0xD4}, Length: int64(len(payload))}
	b := AppendHeader(nil, h)
	for i, c := range payload {
		if masked {
			c ^= h.Mask[i%4]
		}
		b = append(b, c)
	}
	return b
}

// collect feeds input to e in one go and returns the events, the reassembled
// messages and the first error.
type result struct {
	events []Event
	msgs   [][]byte
	types  []Opcode
	err    error
}

func feed(e *Engine, in []byte, maxData int) result {
	var r result
	var cur []byte
	for i := 0; i < 10000; i++ {
		n, ev, err := e.Parse(in, maxData)
		in = in[n:]
		if err != nil {
			r.err = err
			return r
		}
		if ev.Kind == EventNone {
			if n == 0 {
				return r
			}
			continue
		}
		ev.Data = append([]byte(nil), ev.Data...)
		r.events = append(r.events, ev)
		if ev.Kind == EventData {
			cur = append(cur, ev.Data...)
			if ev.Fin {
				r.msgs = append(r.msgs, append([]byte{}, cur...))
				r.types = append(r.types, ev.Opcode)
				cur = nil
			}
		}
	}
	panic("feed did not terminate")
}

func server(cfg Config) *Engine {
	cfg.Role = RoleServer
	return NewEngine(cfg, t0)
}

func client(cfg Config) *Engine {
	cfg.Role = RoleClient
	return NewEngine(cfg, t0)
}

func wantCode(t *testing.T, err error, code int) {
	t.Helper()
	var pe *ProtocolError
	if !errors.As(err, &pe) || pe.Code != code {
		t.Fatalf("err = %v, want close code %d", err, code)
	}
}

// sentClose extracts the close code of the close frame in the engine's output.
func sentClose(t *testing.T, e *Engine) int {
	t.Helper()
	out := e.AppendPending(nil)
	for len(out) > 0 {
		h, n, err := ParseHeader(out)
		if err != nil || n == 0 {
			t.Fatalf("bad output frame: % x", out)
		}
		p := append([]byte(nil), out[n:n+int(h.Length)]...)
		if h.Masked {
			maskBytes(h.Mask, 0, p)
		}
		out = out[n+int(h.Length):]
		if h.Opcode == OpClose {
			code, _, err := ParseClosePayload(p)
			if err != nil {
				t.Fatalf("engine sent an invalid close payload % x", p)
			}
			return code
		}
	}
	t.Fatal("no close frame sent")
	return 0
}

func TestEngineRFCExamples(t *testing.T) {
	// Unmasked "Hello" is what a client receives.
	r := feed(client(Config{}), []byte{0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f}, -1)
	if r.err != nil || len(r.msgs) != 1 || string(r.msgs[0]) != "Hello" || r.types[0] != OpText {
		t.Fatalf("unmasked: %+v", r)
	}
	// Masked "Hello" is what a server receives.
	r = feed(server(Config{}), []byte{0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58}, -1)
	if r.err != nil || len(r.msgs) != 1 || string(r.msgs[0]) != "Hello" {
		t.Fatalf("masked: %+v", r)
	}
	// Fragmented unmasked text.
	r = feed(client(Config{}), []byte{0x01, 0x03, 0x48, 0x65, 0x6c, 0x80, 0x02, 0x6c, 0x6f}, -1)
	if r.err != nil || len(r.msgs) != 1 || string(r.msgs[0]) != "Hello" {
		t.Fatalf("fragmented: %+v", r)
	}
	// Unmasked ping: the client answers with a masked pong of the same payload.
	e := client(Config{})
	r = feed(e, []byte{0x89, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f}, -1)
	if r.err != nil || len(r.events) != 1 || r.events[0].Kind != EventPing || string(r.events[0].Data) != "Hello" {
		t.Fatalf("ping: %+v", r)
	}
	out := e.AppendPending(nil)
	h, n, _ := ParseHeader(out)
	p := append([]byte(nil), out[n:]...)
	maskBytes(h.Mask, 0, p)
	if h.Opcode != OpPong || !h.Masked || !h.Fin || string(p) != "Hello" {
		t.Fatalf("pong % x", out)
	}
	// 256 bytes and 64 KiB binary messages.
	for _, size := range []int{256, 65536} {
		payload := bytes.Repeat([]byte{0xAB}, size)
		r = feed(client(Config{}), wire(OpBinary, true, false, payload), -1)
		if r.err != nil || len(r.msgs) != 1 || !bytes.Equal(r.msgs[0], payload) || r.types[0] != OpBinary {
			t.Fatalf("%d bytes: %v", size, r.err)
		}
	}
}

func TestEngineMaskingDirection(t *testing.T) {
	r := feed(server(Config{}), wire(OpText, true, false, []byte("hi")), -1)
	wantCode(t, r.err, 1002)
	r = feed(client(Config{}), wire(OpText, true, true, []byte("hi")), -1)
	wantCode(t, r.err, 1002)
	// Control frames obey it too.
	r = feed(server(Config{}), wire(OpPing, true, false, nil), -1)
	wantCode(t, r.err, 1002)
}

func TestEngineClientMasksWithFreshKeys(t *testing.T) {
	e := client(Config{})
	seen := map[[4]byte]bool{}
	for i := 0; i < 100; i++ {
		out, err := e.AppendMessage(nil, OpBinary, []byte("payload"))
		if err != nil {
			t.Fatal(err)
		}
		h, n, _ := ParseHeader(out)
		if !h.Masked {
			t.Fatal("client frame not masked")
		}
		p := append([]byte(nil), out[n:]...)
		maskBytes(h.Mask, 0, p)
		if string(p) != "payload" {
			t.Fatalf("unmasked payload %q", p)
		}
		seen[h.Mask] = true
	}
	if len(seen) < 95 {
		t.Fatalf("only %d distinct keys in 100 frames", len(seen))
	}
	// A server never masks.
	out, _ := server(Config{}).AppendMessage(nil, OpText, []byte("x"))
	if !bytes.Equal(out, []byte{0x81, 0x01, 'x'}) {
		t.Fatalf("server frame % x", out)
	}
}

func TestEngineFragmentationWithControlFrames(t *testing.T) {
	var in []byte
	in = append(in, wire(OpText, false, true, []byte("Hel"))...)
	in = append(in, wire(OpPing, true, true, []byte("PING"))...)
	in = append(in, wire(OpContinuation, false, true, nil)...)
	in = append(in, wire(OpPong, true, true, []byte("PONG"))...)
	in = append(in, wire(OpContinuation, true, true, []byte("lo"))...)
	e := server(Config{})
	r := feed(e, in, -1)
	if r.err != nil || len(r.msgs) != 1 || string(r.msgs[0]) != "Hello" {
		t.Fatalf("got %+v", r)
	}
	kinds := []EventKind{}
	for _, ev := range r.events {
		kinds = append(kinds, ev.Kind)
	}
	want := []EventKind{EventData, EventPing, EventData, EventPong, EventData}
	if len(kinds) != len(want) {
		t.Fatalf("events %v", kinds)
	}
	for i := range want {
		if kinds[i] != want[i] {
			t.Fatalf("events %v, want %v", kinds, want)
		}
	}
	if out := e.AppendPending(nil); !bytes.Equal(out, append([]byte{0x8A, 4}, "PING"...)) {
		t.Fatalf("pong % x", out)
	}
}

func TestEngineFramingErrors(t *testing.T) {
	cont := wire(OpContinuation, true, true, []byte("x"))
	tests := []struct {
		name string
		cfg  Config
		in   []byte
		code int
	}{
		{"continuation without start", Config{}, cont, 1002},
		{"new text inside fragmented", Config{}, append(wire(OpText, false, true, []byte("a")), wire(OpText, true, true, []byte("b"))...), 1002},
		{"new binary inside fragmented", Config{}, append(wire(OpBinary, false, true, []byte("a")), wire(OpBinary, true, true, []byte("b"))...), 1002},
		{"rsv1 without extension", Config{}, wireRsv(OpText, true, Rsv1, true, []byte("a")), 1002},
		{"rsv2", Config{}, wireRsv(OpBinary, true, Rsv2, true, nil), 1002},
		{"rsv3", Config{}, wireRsv(OpBinary, true, Rsv3, true, nil), 1002},
		{"rsv1 on control with extension", Config{AllowedRsv: Rsv1}, wireRsv(OpPing, true, Rsv1, true, nil), 1002},
		{"rsv1 on continuation with extension", Config{AllowedRsv: Rsv1}, append(wireRsv(OpText, false, Rsv1, true, []byte("a")), wireRsv(OpContinuation, true, Rsv1, true, nil)...), 1002},
		{"reserved opcode 3", Config{}, wire(3, true, true, nil), 1002},
		{"reserved opcode 7", Config{}, wire(7, true, true, nil), 1002},
		{"reserved opcode 0xB", Config{}, wire(0xB, true, true, nil), 1002},
		{"reserved opcode 0xF", Config{}, wire(0xF, true, true, []byte("x")), 1002},
		{"control too long", Config{}, wire(OpPing, true, true, make([]byte, 126)), 1002},
		{"fragmented control", Config{}, wire(OpPing, false, true, nil), 1002},
		{"non-minimal length", Config{}, []byte{0x82, 0xFE, 0x00, 0x05, 1, 2, 3, 4}, 1002},
		{"64-bit top bit", Config{}, []byte{0x82, 0xFF, 0x80, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4}, 1002},
		{"message too big one frame", Config{MaxMessageSize: 10}, wire(OpBinary, true, true, make([]byte, 11)), 1009},
		{"message too big fragmented", Config{MaxMessageSize: 10}, append(wire(OpBinary, false, true, make([]byte, 6)), wire(OpContinuation, true, true, make([]byte, 5))...), 1009},
		{"huge announced length", Config{MaxMessageSize: 1 << 20}, []byte{0x82, 0xFF, 0x7F, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 1, 2, 3, 4}, 1009},
		{"too many fragments", Config{MaxFragments: 3}, bytes.Join([][]byte{wire(OpBinary, false, true, nil), wire(OpContinuation, false, true, nil), wire(OpContinuation, false, true, nil), wire(OpContinuation, true, true, nil)}, nil), 1009},
		{"invalid utf8", Config{}, wire(OpText, true, true, []byte{'a', 0xFF}), 1007},
		{"utf8 cut at fin", Config{}, wire(OpText, true, true, []byte{'a', 0xE2, 0x82}), 1007},
		{"bad close code", Config{}, wire(OpClose, true, true, []byte{0x03, 0xED}), 1002},
		{"one-byte close", Config{}, wire(OpClose, true, true, []byte{0x03}), 1002},
		{"close reason not utf8", Config{}, wire(OpClose, true, true, []byte{0x03, 0xE8, 0xFF}), 1007},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := server(tt.cfg)
			r := feed(e, tt.in, -1)
			wantCode(t, r.err, tt.code)
			if !e.Done() || !e.Failed() || !e.CloseSent() {
				t.Fatal("engine not failed")
			}
			if got := sentClose(t, e); got != tt.code {
				t.Fatalf("sent close %d, want %d", got, tt.code)
			}
			// Input after a failure is swallowed without events.
			n, ev, err := e.Parse(wire(OpText, true, true, []byte("late")), -1)
			if n == 0 || ev.Kind != EventNone || err != nil {
				t.Fatalf("after failure: %d %v %v", n, ev.Kind, err)
			}
		})
	}
}

func TestEngineAllowsRsv1WithExtension(t *testing.T) {
	in := append(wireRsv(OpText, false, Rsv1, true, []byte{0xFF}), wire(OpContinuation, true, true, []byte{0xFE})...)
	r := feed(server(Config{AllowedRsv: Rsv1}), in, -1)
	// Compressed text is not UTF-8 checked by the engine: the inflater's job.
	if r.err != nil || len(r.msgs) != 1 || r.events[0].Rsv != Rsv1 || r.events[1].Rsv != Rsv1 {
		t.Fatalf("%+v", r)
	}
}

func TestEngineUTF8FailFastAcrossFragments(t *testing.T) {
	e := server(Config{})
	// "κ" then, in the next fragment, a byte that cannot follow: the error comes
	// with that fragment, before the message's end is known.
	r := feed(e, wire(OpText, false, true, []byte{0xCE, 0xBA, 0xE1}), -1)
	if r.err != nil || len(r.events) != 1 {
		t.Fatalf("first fragment: %+v", r)
	}
	r = feed(e, wire(OpContinuation, false, true, []byte{0xBD, 0xC0}), -1)
	wantCode(t, r.err, 1007)

	// Fail fast inside a frame whose payload has only partly arrived.
	e = server(Config{})
	frame := wire(OpText, true, true, append([]byte("hello"), 0xF5, 'x', 'y', 'z'))
	r = feed(e, frame[:6+6], -1) // header (2+4) and 6 payload bytes: "hello" + 0xF5
	wantCode(t, r.err, 1007)

	// A multi-byte character split across fragments is fine.
	e = server(Config{})
	in := append(wire(OpText, false, true, []byte{0xF0, 0x9F}), wire(OpContinuation, true, true, []byte{0x98, 0x80})...)
	r = feed(e, in, -1)
	if r.err != nil || string(r.msgs[0]) != "😀" {
		t.Fatalf("%+v", r)
	}
}

func TestEngineByteByByte(t *testing.T) {
	var in []byte
	in = append(in, wire(OpText, false, true, []byte("héllo "))...)
	in = append(in, wire(OpPing, true, true, []byte("p"))...)
	in = append(in, wire(OpContinuation, true, true, []byte("wörld"))...)
	in = append(in, wire(OpBinary, true, true, make([]byte, 300))...)
	in = append(in, wire(OpClose, true, true, []byte{0x03, 0xE8, 'o', 'k'})...)
	e := server(Config{})
	var buf []byte
	var msgs []string
	var cur []byte
	var closed *Event
	for _, c := range in {
		buf = append(buf, c)
		for {
			n, ev, err := e.Parse(buf, -1)
			if err != nil {
				t.Fatal(err)
			}
			buf = buf[n:]
			if ev.Kind == EventData {
				cur = append(cur, ev.Data...)
				if ev.Fin {
					msgs = append(msgs, string(cur))
					cur = nil
				}
			}
			if ev.Kind == EventClose {
				closed = &ev
			}
			if n == 0 {
				break
			}
		}
	}
	if len(msgs) != 2 || msgs[0] != "héllo wörld" || len(msgs[1]) != 300 {
		t.Fatalf("msgs %q", msgs)
	}
	if closed == nil || closed.Code != 1000 || closed.Reason != "ok" || !e.Done() || e.Failed() {
		t.Fatalf("close %+v", closed)
	}
}

func TestEngineBackpressure(t *testing.T) {
	e := server(Config{})
	in := wire(OpBinary, true, true, []byte("0123456789"))
	n, ev, err := e.Parse(in, 0)
	// The header is consumed, no payload delivered.
	if err != nil || ev.Kind != EventNone || n != 6 {
		t.Fatalf("n=%d ev=%v err=%v", n, ev.Kind, err)
	}
	in = in[n:]
	if n, _, _ := e.Parse(in, 0); n != 0 {
		t.Fatalf("consumed %d with no room", n)
	}
	n, ev, _ = e.Parse(in, 4)
	if n != 4 || string(ev.Data) != "0123" || ev.Fin {
		t.Fatalf("n=%d %q fin=%v", n, ev.Data, ev.Fin)
	}
	n, ev, _ = e.Parse(in[4:], 100)
	if n != 6 || string(ev.Data) != "456789" || !ev.Fin {
		t.Fatalf("n=%d %q fin=%v", n, ev.Data, ev.Fin)
	}
	// Control frames pass even with no room for data.
	e = server(Config{})
	r := feed(e, wire(OpPing, true, true, []byte("x")), 0)
	if len(r.events) != 1 || r.events[0].Kind != EventPing {
		t.Fatalf("%+v", r)
	}
}

func TestEngineEmptyMessages(t *testing.T) {
	in := append(wire(OpText, true, true, nil), wire(OpBinary, false, true, nil)...)
	in = append(in, wire(OpContinuation, true, true, nil)...)
	r := feed(server(Config{}), in, 0)
	if r.err != nil || len(r.msgs) != 2 || len(r.msgs[0]) != 0 || r.types[0] != OpText || r.types[1] != OpBinary {
		t.Fatalf("%+v", r)
	}
}

func TestEngineRemoteClose(t *testing.T) {
	e := server(Config{})
	in := wire(OpClose, true, true, append([]byte{0x0F, 0xA0}, "bye"...))
	in = append(in, wire(OpText, true, true, []byte("after close"))...)
	in = append(in, wire(OpPing, true, true, nil)...)
	r := feed(e, in, -1)
	if r.err != nil || len(r.events) != 1 || r.events[0].Kind != EventClose || r.events[0].Code != 4000 || r.events[0].Reason != "bye" {
		t.Fatalf("%+v", r)
	}
	if !e.CloseReceived() || !e.CloseSent() || !e.Done() || e.Failed() {
		t.Fatal("state")
	}
	// The echo carries the same code and reason, and no pong follows.
	if out := e.AppendPending(nil); !bytes.Equal(out, append([]byte{0x88, 5, 0x0F, 0xA0}, "bye"...)) {
		t.Fatalf("echo % x", out)
	}
	if _, err := e.AppendMessage(nil, OpText, nil); !errors.Is(err, ErrCloseSent) {
		t.Fatal("data after close")
	}
	// An empty close is reported as 1005 and echoed empty.
	e = server(Config{})
	r = feed(e, wire(OpClose, true, true, nil), -1)
	if r.events[0].Code != CloseNoStatus {
		t.Fatalf("%+v", r.events)
	}
	if out := e.AppendPending(nil); !bytes.Equal(out, []byte{0x88, 0}) {
		t.Fatalf("echo % x", out)
	}
}

func TestEngineLocalClose(t *testing.T) {
	e := client(Config{CloseTimeout: time.Second})
	if err := e.Close(1005+1, "", t0); !errors.Is(err, ErrInvalidClose) {
		t.Fatal("1006 accepted")
	}
	if err := e.Close(4001, "done", t0); err != nil {
		t.Fatal(err)
	}
	if err := e.Close(1000, "", t0); !errors.Is(err, ErrCloseSent) {
		t.Fatal("second close")
	}
	if got := sentClose(t, e); got != 4001 {
		t.Fatalf("sent %d", got)
	}
	// Data still arrives until the peer's close; no pong after our close.
	r := feed(e, append(wire(OpText, true, false, []byte("late")), wire(OpPing, true, false, nil)...), -1)
	if len(r.msgs) != 1 || e.Pending() {
		t.Fatalf("%+v pending=%v", r, e.Pending())
	}
	if d := e.NextDeadline(); !d.Equal(t0.Add(time.Second)) {
		t.Fatalf("deadline %v", d)
	}
	if err := e.Tick(t0.Add(999 * time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	if err := e.Tick(t0.Add(time.Second)); !errors.Is(err, ErrCloseTimeout) {
		t.Fatalf("tick: %v", err)
	}
	r = feed(e, wire(OpClose, true, false, []byte{0x0F, 0xA1}), -1)
	if r.events[0].Code != 4001 || !e.Done() || e.Pending() {
		t.Fatalf("%+v", r)
	}
	if err := e.Tick(t0.Add(time.Hour)); err != nil || !e.NextDeadline().IsZero() {
		t.Fatal("timer after done")
	}
}

func TestEngineHeartbeat(t *testing.T) {
	e := client(Config{HeartbeatInterval: 10 * time.Second, HeartbeatTimeout: 3 * time.Second})
	if d := e.NextDeadline(); !d.Equal(t0.Add(10 * time.Second)) {
		t.Fatalf("first ping due %v", d)
	}
	_ = e.Tick(t0.Add(5 * time.Second))
	if e.Pending() {
		t.Fatal("ping before the interval")
	}
	_ = e.Tick(t0.Add(10 * time.Second))
	out := e.AppendPending(nil)
	if h, _, _ := ParseHeader(out); h.Opcode != OpPing {
		t.Fatalf("no ping: % x", out)
	}
	if d := e.NextDeadline(); !d.Equal(t0.Add(13 * time.Second)) {
		t.Fatalf("pong deadline %v", d)
	}
	// Any pong clears the wait.
	feed(e, wire(OpPong, true, false, []byte("unrelated")), -1)
	if d := e.NextDeadline(); !d.Equal(t0.Add(20 * time.Second)) {
		t.Fatalf("next ping %v", d)
	}
	_ = e.Tick(t0.Add(20 * time.Second))
	e.AppendPending(nil)
	if err := e.Tick(t0.Add(22 * time.Second)); err != nil {
		t.Fatal(err)
	}
	if err := e.Tick(t0.Add(23 * time.Second)); !errors.Is(err, ErrHeartbeatTimeout) {
		t.Fatalf("missed pong: %v", err)
	}
	if got := sentClose(t, e); got != 1011 || !e.Done() {
		t.Fatalf("sent %d", got)
	}
	// Off by default.
	e = client(Config{})
	if err := e.Tick(t0.Add(time.Hour)); err != nil || e.Pending() || !e.NextDeadline().IsZero() {
		t.Fatal("heartbeat without interval")
	}
}

func TestEnginePing(t *testing.T) {
	e := server(Config{})
	if err := e.Ping(make([]byte, 126)); err == nil {
		t.Fatal("long ping accepted")
	}
	if err := e.Ping([]byte("x")); err != nil || !bytes.Equal(e.AppendPending(nil), []byte{0x89, 1, 'x'}) {
		t.Fatal("ping")
	}
	_ = e.Close(1000, "", t0)
	if err := e.Ping(nil); !errors.Is(err, ErrCloseSent) {
		t.Fatal("ping after close")
	}
}

type failingReader struct{}

func (failingReader) Read([]byte) (int, error) { return 0, errors.New("no entropy") }

func TestEngineKeySourceFailure(t *testing.T) {
	e := client(Config{Rand: failingReader{}})
	if _, err := e.AppendMessage(nil, OpText, []byte("x")); err == nil {
		t.Fatal("frame without a key")
	}
	_ = e.Ping(nil)
	if e.Err() == nil || !e.Failed() {
		t.Fatal("key failure not recorded")
	}
}
