package proto

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"math/rand/v2"
	"testing"
	"unsafe"
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

// kernelNames names the kernels for test and benchmark output.
var kernelNames = map[kernel]string{kernelGo: "go", kernelSSE2: "sse2", kernelAVX2: "avx2"}

// alignedBuf returns n bytes starting off bytes past a 64-byte boundary, with
// guard bytes after them (the buffer's capacity runs to its allocation's end).
func alignedBuf(n, off int) []byte {
	raw := make([]byte, n+off+128)
	skip := int(-uintptr(unsafe.Pointer(&raw[0])) & 63)
	return raw[skip+off : skip+off+n]
}

// TestMaskKernelsMatchReference runs every kernel this machine has (and the
// pure-Go words, which the purego build tag and other platforms use) against
// the byte-at-a-time reference for every length 0..300, every key offset and
// every alignment of the slice's start within a 64-byte line, and checks that
// no byte outside the slice changes.
func TestMaskKernelsMatchReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	const guard = 0x5a
	for _, kern := range testKernels() {
		for n := 0; n <= 300; n++ {
			for off := 0; off < 64; off++ {
				var key [4]byte
				binary.LittleEndian.PutUint32(key[:], rng.Uint32())
				orig := make([]byte, n)
				for i := range orig {
					orig[i] = byte(rng.Uint32())
				}
				for pos := 0; pos < 4; pos++ {
					got := alignedBuf(n, off)
					full := got[:cap(got)]
					for i := range full {
						full[i] = guard
					}
					copy(got, orig)
					want := bytes.Clone(orig)
					gp, wp := mask(key, pos, got, kern), maskBytes(key, pos, want)
					if gp != wp || gp != (pos+n)&3 {
						t.Fatalf("%s n=%d off=%d pos=%d: returned pos %d, reference %d", kernelNames[kern], n, off, pos, gp, wp)
					}
					if !bytes.Equal(got, want) {
						t.Fatalf("%s n=%d off=%d pos=%d key=% x: differs from the reference", kernelNames[kern], n, off, pos, key)
					}
					for i := n; i < len(full); i++ {
						if full[i] != guard {
							t.Fatalf("%s n=%d off=%d pos=%d: wrote byte %d past the slice", kernelNames[kern], n, off, pos, i-n)
						}
					}
					mask(key, pos, got, kern)
					if !bytes.Equal(got, orig) {
						t.Fatalf("%s n=%d off=%d pos=%d: masking twice did not restore the input", kernelNames[kern], n, off, pos)
					}
				}
			}
		}
	}
}

// TestMaskLarge covers the vector loops' long runs (many 128-byte
// iterations, then the 32-byte and word tails) for every kernel.
func TestMaskLarge(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	orig := make([]byte, 70000)
	for i := range orig {
		orig[i] = byte(rng.Uint32())
	}
	key := [4]byte{0x91, 0x2c, 0x07, 0xe4}
	for _, kern := range testKernels() {
		for _, n := range []int{4096, 4096 + 31, 16384 + 97, 65536 + 3, 70000} {
			for pos := 0; pos < 4; pos++ {
				got, want := alignedBuf(n, 3*pos+1), bytes.Clone(orig[:n])
				copy(got, orig)
				if gp, wp := mask(key, pos, got, kern), maskBytes(key, pos, want); gp != wp || !bytes.Equal(got, want) {
					t.Fatalf("%s n=%d pos=%d: differs from the reference", kernelNames[kern], n, pos)
				}
			}
		}
	}
}

// TestMaskUsesBestKernel checks that Mask goes through the kernel the CPU
// detection picked (it must be one of those the tests run).
func TestMaskUsesBestKernel(t *testing.T) {
	ks := testKernels()
	if best := ks[len(ks)-1]; cpuKernel != best {
		t.Errorf("Mask uses %s, the best kernel here is %s", kernelNames[cpuKernel], kernelNames[best])
	}
	t.Logf("Mask uses the %s kernel", kernelNames[cpuKernel])
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
		want := bytes.Clone(data)
		wp := maskBytes(key, pos, want)
		got := bytes.Clone(data)
		if gp := Mask(key, pos, got); gp != wp || !bytes.Equal(got, want) {
			t.Fatalf("key=% x pos=%d len=%d: Mask (pos %d) != maskBytes (pos %d)", key, pos, len(data), gp, wp)
		}
		for _, kern := range testKernels() {
			// The fuzzer's own alignment and one byte past it.
			for off := 0; off < 2; off++ {
				got := alignedBuf(len(data), int(k>>8&63)+off)
				copy(got, data)
				if gp := mask(key, pos, got, kern); gp != wp || !bytes.Equal(got, want) {
					t.Fatalf("%s key=% x pos=%d len=%d: differs from maskBytes", kernelNames[kern], key, pos, len(data))
				}
			}
		}
	})
}

// The sizes of bench/mask_test.go, which measures Mask beside gobwas/ws's
// Cipher in one process; this one adds the byte-at-a-time reference and each
// kernel on its own.
var benchSizes = []struct {
	name string
	n    int
}{{"64B", 64}, {"1KiB", 1 << 10}, {"4KiB", 4 << 10}, {"16KiB", 16 << 10}, {"1MiB", 1 << 20}}

// benchmarkMask measures fn at each size on a 64-byte-aligned slice with key
// offset 0 and on a slice one byte past the boundary with key offset 3.
func benchmarkMask(b *testing.B, fn func([4]byte, int, []byte) int) {
	key := [4]byte{0x37, 0xfa, 0x21, 0x3d}
	for _, s := range benchSizes {
		for _, a := range []struct {
			name     string
			off, pos int
		}{{"aligned", 0, 0}, {"unaligned", 1, 3}} {
			b.Run(s.name+"/"+a.name, func(b *testing.B) {
				buf := alignedBuf(s.n, a.off)
				b.SetBytes(int64(s.n))
				for b.Loop() {
					fn(key, a.pos, buf)
				}
			})
		}
	}
}

func BenchmarkMask(b *testing.B)      { benchmarkMask(b, Mask) }
func BenchmarkMaskBytes(b *testing.B) { benchmarkMask(b, maskBytes) }

func BenchmarkMaskKernels(b *testing.B) {
	for _, kern := range testKernels() {
		b.Run(kernelNames[kern], func(b *testing.B) {
			benchmarkMask(b, func(key [4]byte, pos int, p []byte) int { return mask(key, pos, p, kern) })
		})
	}
}
