package proto

import (
	"bytes"
	"errors"
	"testing"
)

// runCodec is a test extension: a message is encoded as (count, byte) pairs,
// each decoding to count copies of byte, so a few encoded bytes can stand for
// many decoded ones (a decompression bomb in miniature). A zero count is
// invalid data (plain error); an odd encoded length is reported as a 1002
// protocol error of the codec's own.
type runCodec struct {
	rsv       byte
	threshold int
	in        []byte // encoded message being gathered, then decoded
	pos       int    // next pair of in
	left      int    // copies of in[pos+1] still to produce
	out       []byte
	releases  int
	greedy    bool // Decode ignores max (a broken codec)
}

func (c *runCodec) Rsv() byte                        { return c.rsv }
func (c *runCodec) MaxEncodedSize(limit int64) int64 { return 2*limit + 2 }

func (c *runCodec) Encode(dst []byte, _ Opcode, payload []byte) ([]byte, byte) {
	if len(payload) < c.threshold {
		return payload, 0
	}
	for i := 0; i < len(payload); {
		n := 1
		for i+n < len(payload) && payload[i+n] == payload[i] && n < 255 {
			n++
		}
		dst = append(dst, byte(n), payload[i])
		i += n
	}
	return dst, c.rsv
}

func (c *runCodec) Feed(p []byte, last bool) error {
	c.in = append(c.in, p...)
	if last && len(c.in)%2 != 0 {
		return protocolError(CloseProtocolError, "odd run data")
	}
	return nil
}

func (c *runCodec) Decode(max int) ([]byte, bool, error) {
	c.out = c.out[:0]
	if c.greedy {
		max = 1 << 30
	}
	for len(c.out) < max && c.pos < len(c.in) {
		if c.left == 0 {
			if c.left = int(c.in[c.pos]); c.left == 0 {
				return nil, false, errors.New("zero run")
			}
		}
		k := min(c.left, max-len(c.out))
		for range k {
			c.out = append(c.out, c.in[c.pos+1])
		}
		if c.left -= k; c.left == 0 {
			c.pos += 2
		}
	}
	done := c.pos == len(c.in)
	if done {
		c.in, c.pos = c.in[:0], 0
	}
	return c.out, done, nil
}

func (c *runCodec) Release() { c.releases++ }

// runs encodes n copies of b as the codec does.
func runs(n int, b byte) []byte {
	var out []byte
	for ; n > 0; n -= min(n, 255) {
		out = append(out, byte(min(n, 255)), b)
	}
	return out
}

func TestEngineExtensionRoundTrip(t *testing.T) {
	for _, rsv := range []byte{Rsv1, Rsv2} {
		cc, sc := &runCodec{rsv: rsv, threshold: 4}, &runCodec{rsv: rsv}
		c := client(Config{Extension: cc})
		s := server(Config{MaxMessageSize: 5000, Extension: sc})
		msgs := [][]byte{[]byte("abc"), bytes.Repeat([]byte("x"), 3000), []byte("aaabbbbbc"), []byte("héllo")}
		for _, msg := range msgs {
			w, err := c.AppendMessage(nil, OpText, msg)
			if err != nil {
				t.Fatal(err)
			}
			h, hn, _ := ParseHeader(w)
			if encoded := h.Rsv == rsv; encoded != (len(msg) >= 4) || h.Rsv&^rsv != 0 {
				t.Fatalf("%q went out with rsv %x", msg, h.Rsv)
			}
			// The header alone: a plain frame's payload may be read directly,
			// an encoded one's may not.
			n, _, _ := s.Parse(w[:hn], 7)
			if direct := s.DirectPayload(); (direct == 0) != (h.Rsv != 0) || n != hn {
				t.Fatalf("%q: DirectPayload %d after the header", msg, direct)
			}
			var got []byte
			in := w[hn:]
			for i := 0; i < 10000; i++ {
				n, ev, err := s.Parse(in, 7)
				if err != nil || len(ev.Data) > 7 {
					t.Fatalf("%q: %v, chunk of %d", msg, err, len(ev.Data))
				}
				in, got = in[n:], append(got, ev.Data...)
				if ev.Kind == EventData && ev.Rsv != h.Rsv {
					t.Fatalf("event rsv %x", ev.Rsv)
				}
				if ev.Fin {
					break
				}
			}
			if !bytes.Equal(got, msg) || len(in) != 0 || s.Inflating() || s.MessageInProgress() {
				t.Fatalf("%q: got %q, %d bytes left", msg, got, len(in))
			}
		}
	}
}

func TestEngineExtensionBackpressure(t *testing.T) {
	s := server(Config{MaxMessageSize: 100, Extension: &runCodec{rsv: Rsv1}})
	in := wireRsv(OpBinary, true, Rsv1, true, runs(30, 'z'))
	n, ev, err := s.Parse(in, 0)
	if err != nil || n != len(in) || ev.Kind != EventNone || !s.Inflating() {
		t.Fatalf("gathering: n=%d %v %v inflating=%v", n, ev.Kind, err, s.Inflating())
	}
	if n, ev, _ := s.Parse(nil, 0); n != 0 || ev.Kind != EventNone {
		t.Fatal("delivered with no room")
	}
	// The end of the message is announced before the bytes arriving
	// afterwards are read.
	if s.EndsAt(wire(OpClose, true, true, nil)) {
		t.Fatal("EndsAt while decoding")
	}
	total := 0
	for i := 0; i < 100 && s.Inflating(); i++ {
		_, ev, err := s.Parse(nil, 8)
		if err != nil || len(ev.Data) > 8 {
			t.Fatalf("%v %d", err, len(ev.Data))
		}
		total += len(ev.Data)
	}
	if total != 30 {
		t.Fatalf("decoded %d bytes", total)
	}
}

func TestEngineExtensionLimits(t *testing.T) {
	// Exactly the limit decodes; one byte more fails, after at most the limit
	// was delivered, however much room the caller gives.
	for _, size := range []int{1000, 1001, 100000} {
		for _, room := range []int{-1, 1000, 5} {
			codec := &runCodec{rsv: Rsv1}
			s := server(Config{MaxMessageSize: 1000, Extension: codec})
			in := wireRsv(OpBinary, true, Rsv1, true, runs(size, 'b'))
			delivered, fin := 0, false
			var err error
			for i := 0; i < 10000 && !fin && err == nil; i++ {
				var n int
				var ev Event
				n, ev, err = s.Parse(in, room)
				in, delivered, fin = in[n:], delivered+len(ev.Data), ev.Fin
			}
			if delivered > 1000 {
				t.Fatalf("size %d room %d: delivered %d", size, room, delivered)
			}
			if size == 1000 {
				if err != nil || !fin || delivered != 1000 {
					t.Fatalf("at the limit: %v fin=%v %d", err, fin, delivered)
				}
				continue
			}
			wantCode(t, err, 1009)
			if codec.releases == 0 || sentClose(t, s) != 1009 {
				t.Fatalf("size %d: released %d times", size, codec.releases)
			}
		}
	}
	// The encoded size is bounded by the codec's MaxEncodedSize, before any
	// payload arrives.
	s := server(Config{MaxMessageSize: 10, Extension: &runCodec{rsv: Rsv1}})
	_, _, err := s.Parse(AppendHeader(nil, Header{Fin: true, Rsv: Rsv1, Opcode: OpBinary, Masked: true, Length: 23}), -1)
	wantCode(t, err, 1009)
	s = server(Config{MaxMessageSize: 10, Extension: &runCodec{rsv: Rsv1}})
	if _, _, err := s.Parse(AppendHeader(nil, Header{Fin: true, Rsv: Rsv1, Opcode: OpBinary, Masked: true, Length: 22}), -1); err != nil {
		t.Fatalf("22 encoded bytes refused: %v", err)
	}
	// Plain messages keep the plain limit.
	s = server(Config{MaxMessageSize: 10, Extension: &runCodec{rsv: Rsv1}})
	_, _, err = s.Parse(AppendHeader(nil, Header{Fin: true, Opcode: OpBinary, Masked: true, Length: 11}), -1)
	wantCode(t, err, 1009)
}

func TestEngineExtensionErrors(t *testing.T) {
	tests := []struct {
		name string
		in   []byte
		code int
	}{
		{"decoded text not utf8", wireRsv(OpText, true, Rsv1, true, []byte{1, 'a', 1, 0xff}), 1007},
		{"decoded text cut", wireRsv(OpText, true, Rsv1, true, []byte{1, 'a', 1, 0xe2, 1, 0x82}), 1007},
		{"decode error", wireRsv(OpBinary, true, Rsv1, true, []byte{0, 'a'}), 1007},
		{"codec's own protocol error", wireRsv(OpBinary, true, Rsv1, true, []byte{3}), 1002},
		{"codec's own error, fragmented", append(wireRsv(OpBinary, false, Rsv1, true, []byte{3, 'a'}), wire(OpContinuation, true, true, []byte{1})...), 1002},
		{"bit on a continuation", append(wireRsv(OpText, false, Rsv1, true, nil), wireRsv(OpContinuation, true, Rsv1, true, nil)...), 1002},
		{"bit on a ping", wireRsv(OpPing, true, Rsv1, true, nil), 1002},
		{"a bit the codec does not own", wireRsv(OpBinary, true, Rsv3, true, []byte{1, 'a'}), 1002},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			codec := &runCodec{rsv: Rsv1}
			e := server(Config{MaxMessageSize: 100, Extension: codec})
			r := feed(e, tt.in, -1)
			wantCode(t, r.err, tt.code)
			if codec.releases != 1 || sentClose(t, e) != tt.code {
				t.Fatalf("released %d times", codec.releases)
			}
		})
	}
	// A codec that decodes more than asked cannot break the caller's budget.
	codec := &runCodec{rsv: Rsv1, greedy: true}
	e := server(Config{MaxMessageSize: 100, Extension: codec})
	r := feed(e, wireRsv(OpBinary, true, Rsv1, true, []byte{20, 'g'}), 10)
	wantCode(t, r.err, 1011)
	if len(r.events) != 0 || codec.releases != 1 {
		t.Fatalf("%d events, %d releases", len(r.events), codec.releases)
	}
	// Plain text is still checked when an extension is negotiated.
	r = feed(server(Config{Extension: &runCodec{rsv: Rsv1}}), wire(OpText, true, true, []byte{0xff}), -1)
	wantCode(t, r.err, 1007)
}

func TestEngineRelease(t *testing.T) {
	codec := &runCodec{rsv: Rsv1}
	e := server(Config{Extension: codec})
	e.Release()
	if codec.releases != 1 {
		t.Fatalf("released %d times", codec.releases)
	}
	server(Config{}).Release() // no codec: nothing to do
	// After our close frame, messages are no longer encoded.
	c := client(Config{Extension: &runCodec{rsv: Rsv1}})
	if err := c.Close(1000, "", t0); err != nil {
		t.Fatal(err)
	}
	if _, err := c.AppendMessage(nil, OpBinary, []byte("aaaa")); !errors.Is(err, ErrCloseSent) {
		t.Fatalf("after close: %v", err)
	}
}

// fakeNegotiator accepts the first offer of its name, answering it verbatim,
// unless refuse is set; Confirm fails with refuse.
type fakeNegotiator struct {
	name, offer string
	codec       bool  // accept with a codec
	refuse      error // what Confirm fails with; also declines every offer
	seen        []Extension
	made        []*runCodec
}

func (n *fakeNegotiator) Name() string  { return n.name }
func (n *fakeNegotiator) Offer() string { return n.offer }

func (n *fakeNegotiator) Accept(offers []Extension) (string, ExtensionCodec, bool) {
	n.seen = offers
	if n.refuse != nil {
		return "", nil, false
	}
	return offers[0].String(), n.newCodec(), true
}

func (n *fakeNegotiator) Confirm(resp Extension) (ExtensionCodec, error) {
	n.seen = append(n.seen, resp)
	if n.refuse != nil {
		return nil, n.refuse
	}
	return n.newCodec(), nil
}

func (n *fakeNegotiator) newCodec() ExtensionCodec {
	if !n.codec {
		return nil
	}
	c := &runCodec{rsv: Rsv1}
	n.made = append(n.made, c)
	return c
}

func TestOfferExtensions(t *testing.T) {
	negs := []ExtensionNegotiator{&fakeNegotiator{name: "a", offer: "a; x"}, &fakeNegotiator{name: "b"}, &fakeNegotiator{name: "c", offer: "c, c; y=1"}}
	if got := OfferExtensions(negs); got != "a; x, c, c; y=1" {
		t.Fatalf("got %q", got)
	}
	if got := OfferExtensions(nil); got != "" {
		t.Fatalf("got %q", got)
	}
}

func TestAcceptExtensions(t *testing.T) {
	offers, err := ParseExtensions([]string{"b; p=1, a; q, b; p=2, z"})
	if err != nil {
		t.Fatal(err)
	}
	declines := &fakeNegotiator{name: "a", refuse: errors.New("no")}
	b := &fakeNegotiator{name: "b", codec: true}
	never := &fakeNegotiator{name: "z", codec: true}
	resp, codec := AcceptExtensions([]ExtensionNegotiator{&fakeNegotiator{name: "none"}, declines, b, never}, offers)
	if resp != "b; p=1" || codec == nil {
		t.Fatalf("got %q %v", resp, codec)
	}
	// Each negotiator sees only its own offers, in the client's order; the
	// first acceptance ends the choice.
	if len(declines.seen) != 1 || declines.seen[0].Name != "a" || len(b.seen) != 2 || b.seen[1].String() != "b; p=2" || never.seen != nil {
		t.Fatalf("seen: %v %v %v", declines.seen, b.seen, never.seen)
	}
	if resp, codec := AcceptExtensions(nil, offers); resp != "" || codec != nil {
		t.Fatal("accepted without negotiators")
	}
}

func TestConfirmExtensions(t *testing.T) {
	negs := func() []ExtensionNegotiator {
		return []ExtensionNegotiator{&fakeNegotiator{name: "a", codec: true}, &fakeNegotiator{name: "b"}, &fakeNegotiator{name: "c", codec: true}}
	}
	if c, err := ConfirmExtensions(negs(), ""); c != nil || err != nil {
		t.Fatalf("empty answer: %v %v", c, err)
	}
	n := negs()
	if c, err := ConfirmExtensions(n, "b; v=1, a"); c == nil || err != nil || n[1].(*fakeNegotiator).seen[0].String() != "b; v=1" {
		t.Fatalf("b, a: %v %v", c, err)
	}
	if c, err := ConfirmExtensions(negs(), "b"); c != nil || err != nil {
		t.Fatalf("b alone: %v %v", c, err)
	}
	for _, resp := range []string{"x", "a, a", "b, b", "a, c", "a;", "a, x"} {
		n := negs()
		c, err := ConfirmExtensions(n, resp)
		if c != nil || !errors.Is(err, ErrBadResponse) {
			t.Errorf("%q: %v %v", resp, c, err)
		}
		// The codecs obtained before the failure are released.
		for _, neg := range n {
			for _, made := range neg.(*fakeNegotiator).made {
				if made.releases != 1 {
					t.Errorf("%q: a codec of %s released %d times", resp, neg.Name(), made.releases)
				}
			}
		}
	}
	bad := errors.New("refused")
	n = []ExtensionNegotiator{&fakeNegotiator{name: "a", refuse: bad}}
	if c, err := ConfirmExtensions(n, "a"); c != nil || !errors.Is(err, bad) {
		t.Fatalf("negotiator error: %v %v", c, err)
	}
}

func TestEngineExtensionEmptyFrames(t *testing.T) {
	// An encoded message may end with an empty continuation frame, or be
	// empty altogether; neither loses data nor leaks it into the next message.
	in := append(wireRsv(OpBinary, false, Rsv1, true, []byte{2, 'q'}), wire(OpContinuation, true, true, nil)...)
	in = append(in, wireRsv(OpBinary, true, Rsv1, true, nil)...)
	in = append(in, wireRsv(OpText, false, Rsv1, true, nil)...)
	in = append(in, wire(OpContinuation, false, true, []byte{1})...)
	in = append(in, wire(OpContinuation, true, true, []byte{'k'})...)
	r := feed(server(Config{MaxMessageSize: 10, Extension: &runCodec{rsv: Rsv1}}), in, -1)
	if r.err != nil || len(r.msgs) != 3 || string(r.msgs[0]) != "qq" || len(r.msgs[1]) != 0 || string(r.msgs[2]) != "k" {
		t.Fatalf("%v %q", r.err, r.msgs)
	}
}
