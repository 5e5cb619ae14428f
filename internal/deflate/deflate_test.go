package deflate

import (
	"bytes"
	"compress/flate"
	"errors"
	"math/rand"
	"strings"
	"testing"
	"time"

	"github.com/wspeer/wspeer/internal/proto"
)

var start = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// engine returns an engine running a codec negotiated as d.
func engine(role proto.Role, maxMsg int64, d Params) *proto.Engine {
	return proto.NewEngine(proto.Config{Role: role, MaxMessageSize: maxMsg, Extension: NewCodec(d)}, start)
}

func deflateServer(d Params) *proto.Engine { return engine(proto.RoleServer, 1<<20, d) }

// frame builds one frame as a peer sends it: a client's is masked (byte by
// byte here, independently of proto.Mask).
func frame(op proto.Opcode, fin bool, rsv byte, masked bool, payload []byte) []byte {
	h := proto.Header{Fin: fin, Rsv: rsv, Opcode: op, Masked: masked, Mask: [4]byte{9, 8, 7, 6}, Length: int64(len(payload))}
	out := proto.AppendHeader(nil, h)
	for i, c := range payload {
		if masked {
			c ^= h.Mask[i&3]
		}
		out = append(out, c)
	}
	return out
}

// received is what run got out of an engine: whole messages and the first error.
type received struct {
	msgs  [][]byte
	types []proto.Opcode
	err   error
}

// run parses all of in with no delivery bound and reassembles the messages.
func run(e *proto.Engine, in []byte) received {
	var r received
	var cur []byte
	for step := 0; step < 100000; step++ {
		n, ev, err := e.Parse(in, -1)
		in = in[n:]
		if err != nil {
			r.err = err
			break
		}
		if n == 0 && ev.Kind == proto.EventNone {
			break
		}
		if ev.Kind != proto.EventData {
			continue
		}
		cur = append(cur, ev.Data...)
		if ev.Fin {
			r.msgs, r.types, cur = append(r.msgs, cur), append(r.types, ev.Opcode), nil
		}
	}
	return r
}

// closeCode returns the code of the close frame an engine queued, or 0.
func closeCode(e *proto.Engine) int {
	out := e.AppendPending(nil)
	for len(out) > 0 {
		h, n, err := proto.ParseHeader(out)
		if err != nil || n == 0 || len(out) < n+int(h.Length) {
			return -1
		}
		if h.Opcode == proto.OpClose {
			code, _, _ := proto.ParseClosePayload(out[n : n+int(h.Length)])
			return code
		}
		out = out[n+int(h.Length):]
	}
	return 0
}

// failsWith checks that err is a protocol error with close code code.
func failsWith(t *testing.T, err error, code int) {
	t.Helper()
	if pe := (*proto.ProtocolError)(nil); !errors.As(err, &pe) || pe.Code != code {
		t.Fatalf("error %v, want close %d", err, code)
	}
}

func TestDeflateRFC7692Examples(t *testing.T) {
	// Section 7.2.3.1: "Hello" compressed, unmasked (server to client).
	c := engine(proto.RoleClient, 1<<20, Params{PeerNoContextTakeover: true})
	r := run(c, []byte{0xc1, 0x07, 0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00})
	if r.err != nil || len(r.msgs) != 1 || string(r.msgs[0]) != "Hello" || r.types[0] != proto.OpText {
		t.Fatalf("%+v", r)
	}
	// The same, fragmented: only the first frame has RSV1.
	c = engine(proto.RoleClient, 1<<20, Params{})
	r = run(c, []byte{0x41, 0x03, 0xf2, 0x48, 0xcd, 0x80, 0x04, 0xc9, 0xc9, 0x07, 0x00})
	if r.err != nil || len(r.msgs) != 1 || string(r.msgs[0]) != "Hello" {
		t.Fatalf("%+v", r)
	}
	// The same, ending with an empty frame; then an empty message.
	c = engine(proto.RoleClient, 1<<20, Params{})
	r = run(c, []byte{0x41, 0x07, 0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00, 0x80, 0x00, 0xc2, 0x00})
	if r.err != nil || len(r.msgs) != 2 || string(r.msgs[0]) != "Hello" || len(r.msgs[1]) != 0 {
		t.Fatalf("empty frames: %v %q", r.err, r.msgs)
	}
	// Section 7.2.3.2: with context takeover the second "Hello" refers back.
	c = engine(proto.RoleClient, 1<<20, Params{})
	in := []byte{0xc1, 0x07, 0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00, 0xc1, 0x05, 0xf2, 0x00, 0x11, 0x00, 0x00}
	r = run(c, in)
	if r.err != nil || len(r.msgs) != 2 || string(r.msgs[1]) != "Hello" {
		t.Fatalf("takeover: %+v", r)
	}
	// Section 7.2.3.3: a stored (uncompressed) block.
	c = engine(proto.RoleClient, 1<<20, Params{})
	r = run(c, []byte{0xc1, 0x0b, 0x00, 0x05, 0x00, 0xfa, 0xff, 0x48, 0x65, 0x6c, 0x6c, 0x6f, 0x00})
	if r.err != nil || string(r.msgs[0]) != "Hello" {
		t.Fatalf("stored: %+v", r)
	}
	// Uncompressed messages are still allowed.
	r = run(c, []byte{0x81, 0x02, 'h', 'i'})
	if r.err != nil || string(r.msgs[0]) != "hi" {
		t.Fatalf("plain: %+v", r)
	}
}

func TestDeflateRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	random := make([]byte, 200000)
	rng.Read(random)
	texts := strings.Repeat("The quick brown fox jumps over the lazy dog. ", 5000)
	for _, own := range []int{15, 9} {
		for _, level := range []int{0, 1, 6, 9} {
			client := engine(proto.RoleClient, 0, Params{OwnWindowBits: own, Level: level, Threshold: 10})
			server := deflateServer(Params{PeerNoContextTakeover: true})
			for _, msg := range [][]byte{[]byte(texts), random, []byte("short"), []byte(texts[:20]), nil, random[:70000]} {
				wire, err := client.AppendMessage(nil, proto.OpBinary, msg)
				if err != nil {
					t.Fatal(err)
				}
				h, _, _ := proto.ParseHeader(wire)
				if compressed := h.Rsv&proto.Rsv1 != 0; compressed != (len(msg) >= 10) {
					t.Fatalf("len %d compressed=%v", len(msg), compressed)
				}
				// Small reads and a small delivery budget exercise resumption.
				var got []byte
				buf := wire
				for i := 0; i < 1e6 && (len(buf) > 0 || server.MessageInProgress()); i++ {
					n, ev, err := server.Parse(buf[:min(len(buf), 1000)], 777)
					if err != nil {
						t.Fatalf("own=%d level=%d len %d: %v", own, level, len(msg), err)
					}
					buf = buf[n:]
					got = append(got, ev.Data...)
					if ev.Fin {
						break
					}
				}
				if !bytes.Equal(got, msg) {
					t.Fatalf("own=%d level=%d: round trip of %d bytes gave %d", own, level, len(msg), len(got))
				}
			}
		}
	}
	// Huffman-only output has no back-references: a repetitive text cannot
	// shrink below one bit per byte, while LZ77 shrinks it far more.
	huff := compressMessage(nil, []byte(texts), 1, true)
	lz := compressMessage(nil, []byte(texts), 1, false)
	if len(huff) < len(texts)/8 || len(lz) > len(texts)/20 {
		t.Fatalf("huffman %d, lz77 %d bytes for %d", len(huff), len(lz), len(texts))
	}
}

func TestDeflateContextTakeoverAcrossMessages(t *testing.T) {
	// A peer compressing with takeover (a stdlib writer that is flushed,
	// never reset, between messages) is inflated with the kept window.
	var stream bytes.Buffer
	fw, _ := flate.NewWriter(&stream, 6)
	server := deflateServer(Params{})
	for i := 0; i < 20; i++ {
		msg := []byte(strings.Repeat("takeover message number "+string(rune('a'+i)), 200+i*50))
		start := stream.Len()
		fw.Write(msg)
		fw.Flush()
		payload := bytes.TrimSuffix(stream.Bytes()[start:], []byte{0, 0, 0xff, 0xff})
		r := run(server, frame(proto.OpText, true, proto.Rsv1, true, payload))
		if r.err != nil || len(r.msgs) != 1 || !bytes.Equal(r.msgs[0], msg) {
			t.Fatalf("message %d: %v", i, r.err)
		}
	}
}

func TestDeflateBombStopsAtBudget(t *testing.T) {
	// 16 MiB of zeros compress to about 16 KiB; the budget is 1 MiB.
	var z bytes.Buffer
	fw, _ := flate.NewWriter(&z, flate.BestSpeed)
	zeros := make([]byte, 1<<20)
	for i := 0; i < 16; i++ {
		fw.Write(zeros)
	}
	fw.Flush()
	payload := bytes.TrimSuffix(z.Bytes(), []byte{0, 0, 0xff, 0xff})
	server := deflateServer(Params{})
	delivered := 0
	in := frame(proto.OpBinary, true, proto.Rsv1, true, payload)
	var err error
	for i := 0; i < 1e5; i++ {
		var n int
		var ev proto.Event
		n, ev, err = server.Parse(in, -1)
		in = in[n:]
		delivered += len(ev.Data)
		if err != nil || (n == 0 && ev.Kind == proto.EventNone) {
			break
		}
	}
	if !errors.Is(err, proto.ErrMessageTooBig) {
		t.Fatalf("err %v after %d bytes", err, delivered)
	}
	if delivered > 1<<20 {
		t.Fatalf("delivered %d bytes past a 1 MiB budget", delivered)
	}
	if code := closeCode(server); code != 1009 {
		t.Fatalf("sent %d", code)
	}
}

func TestDeflateErrors(t *testing.T) {
	tests := []struct {
		name string
		in   []byte
		code int
	}{
		{"corrupt data", frame(proto.OpBinary, true, proto.Rsv1, true, []byte{0xff, 0xff, 0xff}), 1007},
		{"inflated text not utf8", frame(proto.OpText, true, proto.Rsv1, true, compressMessage(nil, []byte{'a', 0xff}, 1, false)), 1007},
		{"inflated text cut", frame(proto.OpText, true, proto.Rsv1, true, compressMessage(nil, []byte{'a', 0xe2, 0x82}, 1, false)), 1007},
		{"rsv1 on continuation", append(frame(proto.OpText, false, proto.Rsv1, true, nil), frame(proto.OpContinuation, true, proto.Rsv1, true, nil)...), 1002},
		{"rsv1 on ping", frame(proto.OpPing, true, proto.Rsv1, true, nil), 1002},
		{"compressed too big", frame(proto.OpBinary, true, proto.Rsv1, true, make([]byte, 1<<20+1<<20/64+65)), 1009},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := run(deflateServer(Params{}), tt.in)
			failsWith(t, r.err, tt.code)
		})
	}
}

// confirm validates a whole answer header value as a client's handshake does,
// and returns the parameters of the codec it yields (nil when declined).
func confirm(resp string) (*Params, error) {
	c, err := proto.ConfirmExtensions([]proto.ExtensionNegotiator{&Negotiator{}}, resp)
	if err != nil || c == nil {
		return nil, err
	}
	p := c.(*Codec).p
	return &p, nil
}

func TestNegotiateDeflate(t *testing.T) {
	tests := []struct {
		offer    string
		response string
		ok       bool
		own      int
		peerNoCT bool
	}{
		{"permessage-deflate", "permessage-deflate; server_no_context_takeover", true, 15, false},
		{"permessage-deflate; client_max_window_bits", "permessage-deflate; server_no_context_takeover", true, 15, false},
		{"permessage-deflate; client_no_context_takeover", "permessage-deflate; server_no_context_takeover; client_no_context_takeover", true, 15, true},
		{"permessage-deflate; server_max_window_bits=10", "permessage-deflate; server_no_context_takeover; server_max_window_bits=10", true, 10, false},
		{"permessage-deflate; server_no_context_takeover", "permessage-deflate; server_no_context_takeover", true, 15, false},
		// Declined offers, then an acceptable one: the first acceptable wins.
		{"permessage-deflate; foo, permessage-deflate; server_max_window_bits=7, permessage-deflate; client_max_window_bits=9", "permessage-deflate; server_no_context_takeover", true, 15, false},
		{"permessage-deflate; server_max_window_bits", "", false, 0, false},
		{"permessage-deflate; server_max_window_bits=16", "", false, 0, false},
		{"permessage-deflate; server_max_window_bits=010", "", false, 0, false},
		{"permessage-deflate; client_no_context_takeover; client_no_context_takeover", "", false, 0, false},
		{"permessage-deflate; server_no_context_takeover=1", "", false, 0, false},
		{"x-webkit-deflate-frame", "", false, 0, false},
	}
	for _, tt := range tests {
		exts, err := proto.ParseExtensions([]string{tt.offer})
		if err != nil {
			t.Fatalf("%s: %v", tt.offer, err)
		}
		resp, d, ok := Negotiate(exts)
		if ok != tt.ok || resp != tt.response || (ok && (d.OwnWindowBits != tt.own || d.PeerNoContextTakeover != tt.peerNoCT)) {
			t.Errorf("%q: %q %+v %v", tt.offer, resp, d, ok)
		}
		if ok {
			// Our own client accepts every answer our server gives.
			if _, err := confirm(resp); err != nil {
				t.Errorf("client refuses %q: %v", resp, err)
			}
		}
	}
}

func TestConfirmDeflate(t *testing.T) {
	good := map[string]Params{
		"permessage-deflate":                               {OwnWindowBits: 15, PeerWindowBits: 15},
		"permessage-deflate; server_no_context_takeover":   {OwnWindowBits: 15, PeerWindowBits: 15, PeerNoContextTakeover: true},
		"permessage-deflate; client_max_window_bits=8":     {OwnWindowBits: 8, PeerWindowBits: 15},
		"permessage-deflate; client_no_context_takeover":   {OwnWindowBits: 15, PeerWindowBits: 15},
		"permessage-deflate;client_max_window_bits=\"12\"": {OwnWindowBits: 12, PeerWindowBits: 15},
		"permessage-deflate; server_max_window_bits=10":    {OwnWindowBits: 15, PeerWindowBits: 10}, // RFC 7692 7.1.2.1: allowed unasked
	}
	for resp, want := range good {
		d, err := confirm(resp)
		if err != nil || d == nil || *d != want {
			t.Errorf("%q: %+v %v", resp, d, err)
		}
	}
	if d, err := confirm(""); d != nil || err != nil {
		t.Error("declined")
	}
	for _, resp := range []string{
		"permessage-deflate; client_max_window_bits", // needs a value in a response
		"permessage-deflate; unknown",
		"permessage-deflate; client_max_window_bits=7",
		"permessage-deflate, permessage-deflate",
		"other-extension",
		"permessage-deflate; =",
	} {
		if _, err := confirm(resp); err == nil {
			t.Errorf("%q accepted", resp)
		}
	}
}

// TestNegotiatorHandshake runs a client's offer through a server's choice and
// back through the client's confirmation, as the opening handshake does, and
// then a message each way below and at the threshold.
func TestNegotiatorHandshake(t *testing.T) {
	clientNeg := []proto.ExtensionNegotiator{&Negotiator{Threshold: 50, Level: 9}}
	serverNeg := []proto.ExtensionNegotiator{&Negotiator{Threshold: 50}}
	offer := proto.OfferExtensions(clientNeg)
	offers, err := proto.ParseExtensions([]string{"x-other; a=1, " + offer})
	if err != nil {
		t.Fatal(err)
	}
	resp, sc := proto.AcceptExtensions(serverNeg, offers)
	if resp != Name+"; server_no_context_takeover; client_no_context_takeover" || sc == nil {
		t.Fatalf("server answered %q", resp)
	}
	cc, err := proto.ConfirmExtensions(clientNeg, resp)
	if err != nil || cc == nil {
		t.Fatalf("client: %v", err)
	}
	if p := cc.(*Codec).p; p != (Params{OwnWindowBits: 15, PeerWindowBits: 15, PeerNoContextTakeover: true, Threshold: 50, Level: 9}) {
		t.Fatalf("client params %+v", p)
	}
	if p := sc.(*Codec).p; p != (Params{OwnWindowBits: 15, PeerWindowBits: 15, PeerNoContextTakeover: true, Threshold: 50}) {
		t.Fatalf("server params %+v", p)
	}
	client := proto.NewEngine(proto.Config{Role: proto.RoleClient, MaxMessageSize: 1000, Extension: cc}, start)
	server := proto.NewEngine(proto.Config{Role: proto.RoleServer, MaxMessageSize: 1000, Extension: sc}, start)
	for _, size := range []int{49, 50, 1000} {
		msg := benchText(size)
		for _, dir := range []struct{ from, to *proto.Engine }{{client, server}, {server, client}} {
			w, err := dir.from.AppendMessage(nil, proto.OpText, msg)
			if err != nil {
				t.Fatal(err)
			}
			if h, _, _ := proto.ParseHeader(w); (h.Rsv == proto.Rsv1) != (size >= 50) {
				t.Fatalf("%d bytes sent with rsv %x", size, h.Rsv)
			}
			if r := run(dir.to, w); r.err != nil || len(r.msgs) != 1 || !bytes.Equal(r.msgs[0], msg) {
				t.Fatalf("%d bytes: %v", size, r.err)
			}
		}
	}
	// Without an offer of permessage-deflate, nothing is accepted.
	if resp, c := proto.AcceptExtensions(serverNeg, offers[:1]); resp != "" || c != nil {
		t.Fatalf("accepted %q", resp)
	}
}

func TestCodecRelease(t *testing.T) {
	// Released in the middle of a message (the connection ended), the codec
	// gives its inflater back and keeps no buffers; releasing again is harmless.
	c := NewCodec(Params{})
	msg := benchText(40000)
	if err := c.Feed(compressMessage(nil, msg, 1, false), true); err != nil {
		t.Fatal(err)
	}
	chunk, done, err := c.Decode(100)
	if err != nil || done || !bytes.Equal(chunk, msg[:100]) || c.inf.r == nil {
		t.Fatalf("%v %v %d", err, done, len(chunk))
	}
	c.Release()
	c.Release()
	if c.inf.r != nil || c.inf.window != nil || c.inf.out != nil || len(c.inf.zin) != 0 {
		t.Fatal("resources kept after Release")
	}
	// An engine that fails the connection releases its codec.
	c = NewCodec(Params{})
	e := proto.NewEngine(proto.Config{Role: proto.RoleServer, MaxMessageSize: 10, Extension: c}, start)
	r := run(e, frame(proto.OpBinary, true, proto.Rsv1, true, compressMessage(nil, msg, 1, false)))
	failsWith(t, r.err, 1009)
	if c.inf.r != nil || c.inf.window != nil {
		t.Fatal("resources kept after a failure")
	}
}
