package proto

import (
	"testing"
)

// BenchmarkParseHeader decodes a masked 16-bit-length header.
func BenchmarkParseHeader(b *testing.B) {
	h := AppendHeader(nil, Header{Fin: true, Opcode: OpBinary, Masked: true, Mask: [4]byte{1, 2, 3, 4}, Length: 1024})
	b.SetBytes(int64(len(h)))
	for b.Loop() {
		if _, n, _ := ParseHeader(h); n != len(h) {
			b.Fatal(n)
		}
	}
}

// BenchmarkEngineParse runs a server engine over a buffer of masked frames, as
// one Poll would: header decoding, unmasking, UTF-8 validation of text.
func BenchmarkEngineParse(b *testing.B) {
	for _, tc := range []struct {
		name string
		op   Opcode
		size int
	}{{"binary-64", OpBinary, 64}, {"binary-1K", OpBinary, 1024}, {"text-1K", OpText, 1024}, {"binary-16K", OpBinary, 16 << 10}} {
		b.Run(tc.name, func(b *testing.B) {
			payload := make([]byte, tc.size)
			for i := range payload {
				payload[i] = 'a' + byte(i%26)
			}
			var frames []byte
			for len(frames) < 256<<10 {
				frames = append(frames, wire(tc.op, true, true, payload)...)
			}
			buf := make([]byte, len(frames))
			b.SetBytes(int64(len(frames)))
			for b.Loop() {
				copy(buf, frames) // parsing unmasks in place
				e := NewEngine(Config{Role: RoleServer, MaxMessageSize: 1 << 20}, t0)
				p := buf
				for len(p) > 0 {
					n, _, err := e.Parse(p, -1)
					if err != nil || n == 0 {
						b.Fatal(err, n)
					}
					p = p[n:]
				}
			}
		})
	}
}

// BenchmarkAppendFrame builds masked client frames.
func BenchmarkAppendFrame(b *testing.B) {
	e := NewEngine(Config{Role: RoleClient}, t0)
	payload := make([]byte, 1024)
	dst := make([]byte, 0, 2048)
	b.SetBytes(int64(len(payload)))
	for b.Loop() {
		dst, _ = e.AppendMessage(dst[:0], OpBinary, payload)
	}
}
