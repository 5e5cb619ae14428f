package proto

import (
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"strconv"
	"testing"
)

func TestMaskRFCExample(t *testing.T) {
	// RFC 6455 section 5.7: a masked "Hello" from the client.
	key := [4]byte{0x37, 0xfa, 0x21, 0x3d}
	want := []byte{0x7f, 0x9f, 0x4d, 0x51, 0x58}
	for _, f := range []struct {
		name string
		fn   func([4]byte, int, []byte) int
	}{{"Mask", Mask}, {"maskBytes", maskBytes}} {
		b := []byte("Hello")
		if pos := f.fn(key, 0, b); pos != 1 {
			t.Errorf("%s returned pos %d, want 1", f.name, pos)
		}
		if !bytes.Equal(b, want) {
			t.Errorf("%s(Hello) = % x, want % x", f.name, b, want)
		}
	}
}

func TestMaskMatchesReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for n := 0; n <= 200; n++ {
		for pos := 0; pos < 4; pos++ {
			var key [4]byte
			for i := range key {
				key[i] = byte(rng.Uint32())
			}
			orig := make([]byte, n)
			for i := range orig {
				orig[i] = byte(rng.Uint32())
			}
			got, want := bytes.Clone(orig), bytes.Clone(orig)
			gp, wp := Mask(key, pos, got), maskBytes(key, pos, want)
			if gp != wp || gp != (pos+n)&3 {
				t.Fatalf("n=%d pos=%d: Mask pos %d, maskBytes pos %d", n, pos, gp, wp)
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("n=%d pos=%d key=% x: Mask differs from maskBytes", n, pos, key)
			}
			Mask(key, pos, got)
			if !bytes.Equal(got, orig) {
				t.Fatalf("n=%d pos=%d: masking twice did not restore the input", n, pos)
			}
		}
	}
}

func TestMaskSplit(t *testing.T) {
	// Payloads arrive in arbitrary pieces; the returned offset must carry
	// the key phase across them.
	key := [4]byte{0xde, 0xad, 0xbe, 0xef}
	rng := rand.New(rand.NewPCG(3, 4))
	orig := make([]byte, 150)
	for i := range orig {
		orig[i] = byte(rng.Uint32())
	}
	for pos := 0; pos < 4; pos++ {
		whole := bytes.Clone(orig)
		Mask(key, pos, whole)
		for cut := 0; cut <= len(orig); cut++ {
			parts := bytes.Clone(orig)
			p := Mask(key, pos, parts[:cut])
			p = Mask(key, p, parts[cut:])
			if p != (pos+len(orig))&3 {
				t.Fatalf("pos=%d cut=%d: final pos %d", pos, cut, p)
			}
			if !bytes.Equal(parts, whole) {
				t.Fatalf("pos=%d cut=%d: split masking differs from whole", pos, cut)
			}
		}
	}
}

// countingReader yields 0, 1, 2, ... and at most max bytes per Read, so
// KeySource has to cope with short reads.
type countingReader struct {
	next byte
	max  int
}

func (r *countingReader) Read(p []byte) (int, error) {
	p = p[:min(len(p), r.max)]
	for i := range p {
		p[i] = r.next
		r.next++
	}
	return len(p), nil
}

func TestKeySourceBatches(t *testing.T) {
	ks := NewKeySource(&countingReader{max: 7})
	var want byte
	for i := 0; i < 3*keyBatch+5; i++ {
		key, err := ks.Next()
		if err != nil {
			t.Fatalf("key %d: %v", i, err)
		}
		for j := range key {
			if key[j] != want {
				t.Fatalf("key %d = % x, byte %d want %#x", i, key, j, want)
			}
			want++
		}
	}
}

func TestKeySourceRandom(t *testing.T) {
	for name, ks := range map[string]*KeySource{
		"nil reader": NewKeySource(nil),
		"zero value": {},
	} {
		seen := make(map[[4]byte]bool)
		for i := 0; i < 2*keyBatch; i++ {
			key, err := ks.Next()
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			seen[key] = true
		}
		// 128 draws from 2^32 collide with probability ~2e-6; a handful of
		// distinct keys means the source is not random at all.
		if len(seen) < 2*keyBatch-2 {
			t.Errorf("%s: only %d distinct keys in %d", name, len(seen), 2*keyBatch)
		}
	}
}

type failReader struct{ err error }

func (r failReader) Read([]byte) (int, error) { return 0, r.err }

func TestKeySourceError(t *testing.T) {
	boom := errors.New("boom")
	ks := NewKeySource(failReader{boom})
	for i := 0; i < 2; i++ {
		if _, err := ks.Next(); !errors.Is(err, boom) {
			t.Fatalf("call %d: err = %v, want boom", i, err)
		}
	}
	// A reader that ends mid-batch must not leak a partly filled batch.
	ks = NewKeySource(io.LimitReader(&countingReader{max: 1 << 20}, 10))
	if _, err := ks.Next(); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("short source: err = %v, want io.ErrUnexpectedEOF", err)
	}
}

func FuzzMask(f *testing.F) {
	f.Add([]byte("Hello"), uint32(0x3d21fa37), 0)
	f.Add(bytes.Repeat([]byte{0xaa}, 77), uint32(0xdeadbeef), 3)
	f.Fuzz(func(t *testing.T, data []byte, k uint32, pos int) {
		key := [4]byte{byte(k), byte(k >> 8), byte(k >> 16), byte(k >> 24)}
		got, want := bytes.Clone(data), bytes.Clone(data)
		gp, wp := Mask(key, pos, got), maskBytes(key, pos, want)
		if gp != wp || !bytes.Equal(got, want) {
			t.Fatalf("key=% x pos=%d len=%d: Mask (pos %d) != maskBytes (pos %d)", key, pos, len(data), gp, wp)
		}
	})
}

var benchSizes = []int{16, 128, 1024, 4096, 16384, 65536}

func benchmarkMask(b *testing.B, fn func([4]byte, int, []byte) int) {
	key := [4]byte{0x37, 0xfa, 0x21, 0x3d}
	for _, n := range benchSizes {
		b.Run(strconv.Itoa(n), func(b *testing.B) {
			buf := make([]byte, n)
			b.SetBytes(int64(n))
			pos := 0
			for b.Loop() {
				pos = fn(key, pos, buf)
			}
		})
	}
}

func BenchmarkMask(b *testing.B)      { benchmarkMask(b, Mask) }
func BenchmarkMaskBytes(b *testing.B) { benchmarkMask(b, maskBytes) }
