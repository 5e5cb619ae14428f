package proto

import (
	"bytes"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"
)

var utf8Cases = []struct {
	name     string
	in       string
	write    bool // Write's result after the whole input
	complete bool
}{
	{"empty", "", true, true},
	{"ascii", "Hello, world! 0123456789 long enough to use the word path", true, true},
	{"2-byte", "\u00e9\u00df\u07ff", true, true},
	{"3-byte", "\u0800\u20ac\ud7ff\ue000", true, true},
	{"4-byte", "\U00010000\U0001F600", true, true},
	{"emoji in ascii", "pre \U0001F4A9 post and a long ascii tail........", true, true},
	{"U+FFFF", "\uffff", true, true},
	{"U+10FFFF", "\U0010FFFF", true, true},
	{"NUL", "\x00", true, true},
	{"lone continuation", "\x80", false, false},
	{"continuation after ascii", "abcdefghij\xbf", false, false},
	{"C0 overlong", "\xc0\x80", false, false},
	{"C1 overlong", "\xc1\xbf", false, false},
	{"E0 overlong", "\xe0\x80\x80", false, false},
	{"E0 9F overlong", "\xe0\x9f\xbf", false, false},
	{"F0 overlong", "\xf0\x8f\xbf\xbf", false, false},
	{"surrogate D800", "\xed\xa0\x80", false, false},
	{"surrogate DFFF", "\xed\xbf\xbf", false, false},
	{"above U+10FFFF", "\xf4\x90\x80\x80", false, false},
	{"F5", "\xf5\x80\x80\x80", false, false},
	{"FE", "\xfe", false, false},
	{"FF", "\xff", false, false},
	{"2-byte then ascii", "\xc3A", false, false},
	{"3-byte cut short by ascii", "\xe2\x82A", false, false},
	{"truncated 2-byte", "ok\xc3", true, false},
	{"truncated 3-byte", "ok\xe2\x82", true, false},
	{"truncated 4-byte", "ok\xf0\x9f\x98", true, false},
	{"truncated F4", "\xf4\x8f", true, false},
	{"invalid after valid block", strings.Repeat("a", 40) + "\xe0\x80" + strings.Repeat("b", 40), false, false},
}

func TestUTF8ValidatorTable(t *testing.T) {
	for _, tc := range utf8Cases {
		t.Run(tc.name, func(t *testing.T) {
			var v UTF8Validator
			if got := v.Write([]byte(tc.in)); got != tc.write {
				t.Errorf("Write(%q) = %v, want %v", tc.in, got, tc.write)
			}
			if got := v.Complete(); got != tc.complete {
				t.Errorf("Complete after %q = %v, want %v", tc.in, got, tc.complete)
			}
			if tc.complete != utf8.ValidString(tc.in) {
				t.Errorf("table disagrees with utf8.ValidString(%q)", tc.in)
			}
			if !tc.write && v.Write([]byte("a")) {
				t.Errorf("Write after failure returned true")
			}
			v.Reset()
			if !v.Write([]byte("ok")) || !v.Complete() {
				t.Errorf("validator not usable after Reset")
			}
		})
	}
}

// properPrefixes holds every proper, non-empty prefix of every valid
// encoding, found by encoding all code points rather than by the rules the
// validator implements, so that the oracle is independent of it.
var properPrefixes = sync.OnceValue(func() map[string]bool {
	m := make(map[string]bool)
	var buf [utf8.UTFMax]byte
	for r := rune(0); r <= utf8.MaxRune; r++ {
		if !utf8.ValidRune(r) {
			continue
		}
		n := utf8.EncodeRune(buf[:], r)
		for i := 1; i < n; i++ {
			m[string(buf[:i])] = true
		}
	}
	return m
})

// extendable reports whether some continuation can turn p into valid UTF-8:
// p is valid, or a valid string followed by a cut-off character.
func extendable(p []byte) bool {
	if utf8.Valid(p) {
		return true
	}
	for k := 1; k <= 3 && k <= len(p); k++ {
		if properPrefixes()[string(p[len(p)-k:])] && utf8.Valid(p[:len(p)-k]) {
			return true
		}
	}
	return false
}

// checkFailFast feeds data one byte at a time and checks every answer.
func checkFailFast(t *testing.T, data []byte) {
	t.Helper()
	var v UTF8Validator
	for i := range data {
		got := v.Write(data[i : i+1])
		if want := extendable(data[:i+1]); got != want {
			t.Fatalf("input % x: Write after byte %d = %v, oracle says %v", data, i, got, want)
		}
	}
	if got, want := v.Complete(), utf8.Valid(data); got != want {
		t.Fatalf("input % x: Complete = %v, utf8.Valid = %v", data, got, want)
	}
}

// utf8Inputs mixes random bytes with strings built from UTF-8-shaped pieces,
// since uniformly random bytes almost never get past their first lead byte.
func utf8Inputs(rng *rand.Rand, count int) [][]byte {
	pieces := []string{
		"a", "z", "\x00", "\x7f", "\u00e9", "\u07ff", "\u0800", "\u20ac", "\ud7ff", "\ue000",
		"\uffff", "\U00010000", "\U0001F600", "\U0010FFFF",
		"\x80", "\xbf", "\xc0", "\xc1", "\xc2", "\xdf", "\xe0", "\xe0\x9f", "\xe0\xa0", "\xed",
		"\xed\x9f", "\xed\xa0", "\xef", "\xf0", "\xf0\x8f", "\xf0\x90", "\xf3", "\xf4", "\xf4\x8f",
		"\xf4\x90", "\xf5", "\xff",
	}
	var out [][]byte
	for i := 0; i < count; i++ {
		var b []byte
		n := rng.IntN(24)
		if i%3 == 0 {
			for range n {
				b = append(b, byte(rng.Uint32()))
			}
		} else {
			for range n {
				b = append(b, pieces[rng.IntN(len(pieces))]...)
			}
		}
		out = append(out, b)
	}
	return out
}

func TestUTF8ValidatorFailFast(t *testing.T) {
	for _, tc := range utf8Cases {
		checkFailFast(t, []byte(tc.in))
	}
	// Every one- and two-byte string, then random and adversarial ones.
	for a := range 256 {
		checkFailFast(t, []byte{byte(a)})
		for b := range 256 {
			checkFailFast(t, []byte{byte(a), byte(b)})
		}
	}
	rng := rand.New(rand.NewPCG(5, 6))
	for _, in := range utf8Inputs(rng, 20000) {
		checkFailFast(t, in)
	}
}

func TestUTF8ValidatorChunking(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	inputs := utf8Inputs(rng, 500)
	for _, tc := range utf8Cases {
		inputs = append(inputs, []byte(tc.in))
	}
	for _, in := range inputs {
		want := utf8.Valid(in)
		for i := 0; i <= len(in); i++ {
			for j := i; j <= len(in); j++ {
				var v UTF8Validator
				v.Write(in[:i])
				v.Write(in[i:j])
				ok := v.Write(in[j:])
				if got := ok && v.Complete(); got != want {
					t.Fatalf("% x split at %d,%d: %v, utf8.Valid says %v", in, i, j, got, want)
				}
			}
		}
	}
}

func TestUTF8ValidatorLongRuns(t *testing.T) {
	// The random inputs are too short to reach the block-skipping ASCII
	// paths, so plant each sequence at every offset of a long ASCII run.
	for _, seq := range []string{"\x80", "\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x98\x80", "\xed\xa0\x80", "\xff", "\xe2\x82"} {
		for i := 0; i <= 100; i++ {
			in := []byte(strings.Repeat("a", i) + seq + strings.Repeat("b", 100-i))
			var v UTF8Validator
			got := v.Write(in) && v.Complete()
			if want := utf8.Valid(in); got != want {
				t.Fatalf("%q at offset %d: %v, utf8.Valid says %v", seq, i, got, want)
			}
		}
	}
}

func FuzzUTF8(f *testing.F) {
	for _, tc := range utf8Cases {
		f.Add([]byte(tc.in), uint64(1))
	}
	f.Fuzz(func(t *testing.T, data []byte, seed uint64) {
		if len(data) <= 256 { // the byte-wise oracle is quadratic
			checkFailFast(t, data)
		}
		rng := rand.New(rand.NewPCG(seed, 0))
		var v UTF8Validator
		ok := true
		for rest := data; len(rest) > 0; {
			n := 1 + rng.IntN(len(rest))
			ok = v.Write(rest[:n])
			rest = rest[n:]
		}
		if want := extendable(data); ok != want {
			t.Fatalf("% x chunked: Write = %v, oracle %v", data, ok, want)
		}
		if got, want := v.Complete(), utf8.Valid(data); got != want {
			t.Fatalf("% x chunked: Complete = %v, utf8.Valid %v", data, got, want)
		}
	})
}

// utf8BenchInputs returns 16 KiB inputs; "mixed" is Latin, CJK, Cyrillic
// and emoji text, trimmed back to a character boundary so it stays valid.
func utf8BenchInputs() []struct {
	name string
	data []byte
} {
	const size = 16 << 10
	mixed := []byte(strings.Repeat("Hello, 世界! Привет, мир. Emoji \U0001F600 and ascii text. ", size/40))[:size]
	for !utf8.Valid(mixed) {
		mixed = mixed[:len(mixed)-1]
	}
	return []struct {
		name string
		data []byte
	}{
		{"ascii", bytes.Repeat([]byte("a"), size)},
		{"mixed", mixed},
	}
}

func BenchmarkUTF8Validator(b *testing.B) {
	for _, in := range utf8BenchInputs() {
		b.Run(in.name, func(b *testing.B) {
			b.SetBytes(int64(len(in.data)))
			var v UTF8Validator
			for b.Loop() {
				v.Reset()
				if !v.Write(in.data) || !v.Complete() {
					b.Fatal("valid input rejected")
				}
			}
		})
	}
}

// BenchmarkUTF8Valid is the standard library baseline for the validator.
func BenchmarkUTF8Valid(b *testing.B) {
	for _, in := range utf8BenchInputs() {
		b.Run(in.name, func(b *testing.B) {
			b.SetBytes(int64(len(in.data)))
			for b.Loop() {
				if !utf8.Valid(in.data) {
					b.Fatal("valid input rejected")
				}
			}
		})
	}
}
