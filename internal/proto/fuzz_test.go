package proto

import (
	"bytes"
	"errors"
	"testing"
	"unicode/utf8"
)

func FuzzParseHeader(f *testing.F) {
	f.Add([]byte{0x81, 0x05})
	f.Add([]byte{0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d})
	f.Add([]byte{0x82, 0x7E, 0x01, 0x00})
	f.Add([]byte{0x82, 0x7F, 0, 0, 0, 0, 0, 1, 0, 0})
	f.Add([]byte{0x82, 0x7F, 0x80, 0, 0, 0, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		h, n, err := ParseHeader(b)
		if err != nil {
			if !errors.Is(err, ErrProtocol) || n != 0 {
				t.Fatalf("error %v with n=%d", err, n)
			}
			return
		}
		if n == 0 {
			return
		}
		if n > MaxHeaderSize || n > len(b) || h.Length < 0 || n != h.Size() {
			t.Fatalf("n=%d len=%d size=%d", n, h.Length, h.Size())
		}
		// The encoding is canonical: re-encoding gives the same bytes.
		if enc := AppendHeader(nil, h); !bytes.Equal(enc, b[:n]) {
			t.Fatalf("re-encoded % x, parsed from % x", enc, b[:n])
		}
	})
}

func FuzzClosePayload(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte{0x03})
	f.Add([]byte{0x03, 0xE8, 'o', 'k'})
	f.Add([]byte{0x03, 0xED})
	f.Add([]byte{0x0F, 0xA0, 0xFF})
	f.Fuzz(func(t *testing.T, p []byte) {
		code, reason, err := ParseClosePayload(p)
		if err != nil {
			var pe *ProtocolError
			if !errors.As(err, &pe) || (pe.Code != 1002 && pe.Code != 1007) {
				t.Fatalf("bad error %v", err)
			}
			return
		}
		if len(p) == 0 {
			if code != CloseNoStatus {
				t.Fatal("empty payload")
			}
			return
		}
		if !ValidCloseCode(code) || !utf8.ValidString(reason) {
			t.Fatalf("accepted %d %q", code, reason)
		}
		if err := CheckClose(code, reason); err != nil {
			t.Fatalf("accepted payload fails CheckClose: %v", err)
		}
		if !bytes.Equal(AppendClosePayload(nil, code, reason), p) {
			t.Fatal("round trip")
		}
	})
}

// FuzzEngine drives a server engine with arbitrary bytes in arbitrary chunks and
// budgets, checking it never panics, never delivers more than allowed, and
// leaves only whole, valid control frames in its output.
func FuzzEngine(f *testing.F) {
	f.Add(wire(OpText, true, true, []byte("hello")), uint8(3), uint16(100), false)
	f.Add(append(wire(OpText, false, true, []byte{0xCE}), wire(OpContinuation, true, true, []byte{0xBA})...), uint8(1), uint16(5), false)
	f.Add(append(wire(OpPing, true, true, []byte("p")), wire(OpClose, true, true, []byte{3, 0xE8})...), uint8(7), uint16(0), false)
	f.Add(wire(OpBinary, true, true, make([]byte, 300)), uint8(50), uint16(64), false)
	f.Add(wireRsv(OpText, true, Rsv1, true, []byte{3, 'h', 2, 'e', 1, 'y'}), uint8(4), uint16(3), true)
	f.Add(wireRsv(OpBinary, true, Rsv1, true, runs(5000, 0)), uint8(9), uint16(700), true)
	f.Add(append(wireRsv(OpText, false, Rsv1, true, []byte{2}), wire(OpContinuation, true, true, []byte{0xce, 1, 0xba})...), uint8(2), uint16(1), true)
	f.Fuzz(func(t *testing.T, in []byte, chunk uint8, limit uint16, compress bool) {
		const maxMsg = 1000
		cfg := Config{MaxMessageSize: maxMsg, MaxFragments: 8}
		if compress {
			cfg.Extension = &runCodec{rsv: Rsv1} // the engine's side of any codec
		}
		e := server(cfg)
		step := int(chunk%16) + 1
		var buf []byte
		msgSize := 0
		for i := 0; i < len(in) || len(buf) > 0; {
			if i < len(in) {
				end := min(i+step, len(in))
				buf = append(buf, in[i:end]...)
				i = end
			}
			progressed := false
			for guard := 0; guard < 100000; guard++ {
				n, ev, err := e.Parse(buf, int(limit))
				if n < 0 || n > len(buf) {
					t.Fatalf("consumed %d of %d", n, len(buf))
				}
				buf = buf[n:]
				if err != nil {
					var pe *ProtocolError
					if !errors.As(err, &pe) || !e.Done() {
						t.Fatalf("error %v", err)
					}
					return
				}
				if ev.Kind == EventData {
					if len(ev.Data) > int(limit) {
						t.Fatalf("delivered %d with limit %d", len(ev.Data), limit)
					}
					msgSize += len(ev.Data)
					if msgSize > maxMsg {
						t.Fatalf("message of %d bytes", msgSize)
					}
					if ev.Fin {
						msgSize = 0
					}
				}
				if n == 0 && ev.Kind == EventNone {
					break
				}
				progressed = true
			}
			if !progressed && i >= len(in) {
				break
			}
		}
		out := e.AppendPending(nil)
		for len(out) > 0 {
			h, n, err := ParseHeader(out)
			if err != nil || n == 0 || !h.Opcode.IsControl() || h.Masked || int64(len(out)-n) < h.Length {
				t.Fatalf("bad output % x", out)
			}
			out = out[n+int(h.Length):]
		}
	})
}
