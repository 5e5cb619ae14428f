package godot

import (
	"bytes"
	"testing"
)

// FuzzDecode checks that decoding arbitrary bytes never panics or hangs,
// and that decode -> encode -> decode -> encode is stable: the first
// re-encoding normalises (e.g. a 64-bit int that fits 32 bits), after which
// the bytes no longer change; and that the text form parses back to the
// same text. The first byte picks the options.
func FuzzDecode(f *testing.F) {
	t := &testing.T{}
	for _, g := range readGolden(t, "testdata/godot4.txt") {
		f.Add(append([]byte{0}, g.bytes...))
		f.Add(append([]byte{1}, g.bytes...))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) == 0 {
			return
		}
		o := Options{Version: Godot4, AllowObjects: data[0]&2 != 0, RealIsDouble: data[0]&4 != 0}
		if data[0]&1 != 0 {
			o.Version = Godot3
		}
		v, err := o.Decode(data[1:])
		if err != nil {
			return
		}
		b1, err := o.Encode(v)
		if err != nil {
			t.Fatalf("decoded value does not encode: %v (%s)", err, Format(v, o.Version))
		}
		v2, err := o.Decode(b1)
		if err != nil {
			t.Fatalf("re-encoded bytes do not decode: %v", err)
		}
		b2, err := o.Encode(v2)
		if err != nil || !bytes.Equal(b1, b2) {
			t.Fatalf("unstable: %x then %x (%v)", b1, b2, err)
		}
		text := Format(v, o.Version)
		pv, err := Parse(text, o.Version)
		if err != nil {
			t.Fatalf("Parse(Format) = %v for %s", err, text)
		}
		if again := Format(pv, o.Version); again != text {
			t.Fatalf("text unstable: %s then %s", text, again)
		}
	})
}
