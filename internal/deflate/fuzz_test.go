package deflate

import (
	"bytes"
	"errors"
	"testing"
	"unicode/utf8"

	"github.com/wspeer/wspeer/internal/proto"
)

// FuzzInflate hands arbitrary bytes to a server engine as the payload of a
// compressed message, split into two frames at split, and drains it with a
// delivery bound of room: the engine must never panic, never deliver more
// than room per event or more than the budget per message, fail only with a
// protocol error, and deliver only valid UTF-8 as text. When the input is
// instead compressed first, the message must come back unchanged.
func FuzzInflate(f *testing.F) {
	f.Add(compressMessage(nil, []byte("hello hello hello"), 1, false), uint16(3), uint16(4), false, true)
	f.Add(compressMessage(nil, make([]byte, 5000), 1, false), uint16(10), uint16(700), false, false)
	f.Add([]byte{0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00}, uint16(2), uint16(1), false, true)
	f.Add([]byte("plain text that gets compressed by the test"), uint16(5), uint16(9), true, true)
	f.Fuzz(func(t *testing.T, data []byte, split, room uint16, roundTrip, text bool) {
		const budget = 2000
		op := proto.OpBinary
		if text {
			op = proto.OpText
		}
		if roundTrip && text && !utf8.Valid(data) {
			return
		}
		payload := data
		if roundTrip {
			payload = compressMessage(nil, data, 1, len(data)%2 == 0)
		}
		at := min(int(split), len(payload))
		in := append(frame(op, false, proto.Rsv1, true, payload[:at]), frame(proto.OpContinuation, true, 0, true, payload[at:])...)
		e := engine(proto.RoleServer, budget, Params{PeerNoContextTakeover: len(data)%3 == 0})
		var msg []byte
		for step := 0; step < 1e6; step++ {
			n, ev, err := e.Parse(in, int(room))
			in = in[n:]
			if err != nil {
				if pe := (*proto.ProtocolError)(nil); !errors.As(err, &pe) || !e.Failed() {
					t.Fatalf("error %v", err)
				}
				if roundTrip && len(data) <= budget {
					t.Fatalf("round trip of %d bytes failed: %v", len(data), err)
				}
				return
			}
			if len(ev.Data) > int(room) || len(msg)+len(ev.Data) > budget {
				t.Fatalf("delivered %d with room %d after %d", len(ev.Data), room, len(msg))
			}
			msg = append(msg, ev.Data...)
			if ev.Fin {
				if text && !utf8.Valid(msg) {
					t.Fatal("invalid UTF-8 delivered as text")
				}
				if roundTrip && !bytes.Equal(msg, data) {
					t.Fatalf("round trip changed %d bytes into %d", len(data), len(msg))
				}
				return
			}
			if n == 0 && ev.Kind == proto.EventNone && !e.Inflating() {
				break
			}
		}
		// With no room at all nothing may be delivered: an encoded message
		// waits for room even when it inflates to nothing, since only
		// inflating it tells (the Peer drains its queue, and room comes).
		if room > 0 {
			t.Fatalf("message neither delivered nor refused (%d bytes so far)", len(msg))
		}
	})
}
