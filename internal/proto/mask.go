package proto

import (
	"crypto/rand"
	"encoding/binary"
	"io"
	"math/bits"
	"unsafe"
)

// Mask XORs b in place with the 4-byte masking key, starting at byte offset pos
// (0..3) of the key, and returns the key offset for the byte after b, (pos+len(b))&3.
// Masking and unmasking are the same operation (RFC 6455 section 5.3).
//
// On amd64 inputs of vectorMin bytes or more go through an AVX2 (or SSE2)
// kernel; elsewhere, and with the purego build tag, through 64-bit words.
func Mask(key [4]byte, pos int, b []byte) int {
	return mask(key, pos, b, cpuKernel)
}

// mask is Mask with the vector kernel chosen by the caller, so that tests can
// run every kernel the machine has through the same code.
func mask(key [4]byte, pos int, b []byte, kern kernel) int {
	pos &= 3
	next := (pos + len(b)) & 3
	if len(b) < 8 {
		maskBytes(key, pos, b)
		return next
	}
	// Rotating the key so that its low byte is key[pos] lets every word,
	// of 8 bytes or of a vector register's width, use the same key: the
	// widths are multiples of the 4-byte period, so the phase never changes.
	k32 := bits.RotateLeft32(binary.LittleEndian.Uint32(key[:]), -8*pos)
	if haveVector && kern != kernelGo && len(b) >= vectorMin {
		// Start the vector loop on a 32-byte boundary: a slice that
		// starts elsewhere would split every other 32-byte store across
		// two cache lines (about 15% slower at 4 KiB on AMD Zen 4).
		if h := int(-uintptr(unsafe.Pointer(&b[0])) & (vectorBlock - 1)); h != 0 {
			maskShort(uint64(k32)|uint64(k32)<<32, b[:h])
			k32 = bits.RotateLeft32(k32, -8*h)
			b = b[h:]
		}
		n := len(b) &^ (vectorBlock - 1)
		maskVector(b[:n], k32, kern)
		b = b[n:]
	}
	// The 64-byte loop is written out here rather than called: at 64 bytes
	// a second call would add about 1 ns to the 4 ns this takes.
	k := uint64(k32) | uint64(k32)<<32
	// 64 bytes per iteration keeps the loop overhead small relative to the
	// eight independent load/xor/store chains. The one slice of constant
	// length per iteration lets the compiler drop the bounds checks on the
	// eight words; indexing instead of re-slicing b avoids the fixup Go adds
	// for a slice that could point one past the end (~20% at 1-16 KiB).
	n := len(b) &^ 63
	for i := 0; i < n; i += 64 {
		w := b[i : i+64 : i+64]
		binary.LittleEndian.PutUint64(w[0:8], binary.LittleEndian.Uint64(w[0:8])^k)
		binary.LittleEndian.PutUint64(w[8:16], binary.LittleEndian.Uint64(w[8:16])^k)
		binary.LittleEndian.PutUint64(w[16:24], binary.LittleEndian.Uint64(w[16:24])^k)
		binary.LittleEndian.PutUint64(w[24:32], binary.LittleEndian.Uint64(w[24:32])^k)
		binary.LittleEndian.PutUint64(w[32:40], binary.LittleEndian.Uint64(w[32:40])^k)
		binary.LittleEndian.PutUint64(w[40:48], binary.LittleEndian.Uint64(w[40:48])^k)
		binary.LittleEndian.PutUint64(w[48:56], binary.LittleEndian.Uint64(w[48:56])^k)
		binary.LittleEndian.PutUint64(w[56:64], binary.LittleEndian.Uint64(w[56:64])^k)
	}
	if n < len(b) {
		maskShort(k, b[n:])
	}
	return next
}

// maskShort XORs b, shorter than 64 bytes, with k (the rotated key in both
// halves) a word at a time, then byte by byte.
func maskShort(k uint64, b []byte) {
	for len(b) >= 8 {
		w := b[:8:8]
		binary.LittleEndian.PutUint64(w, binary.LittleEndian.Uint64(w)^k)
		b = b[8:]
	}
	// Fewer than 8 bytes remain, and the rotated word already holds the key
	// bytes in stream order, so shifting it out byte by byte stays in phase.
	for i := range b {
		b[i] ^= byte(k)
		k >>= 8
	}
}

// kernel names a vector implementation of the word loop; kernelGo is none.
type kernel uint8

const (
	kernelGo kernel = iota
	kernelSSE2
	kernelAVX2
)

// vectorBlock is the granule of the vector kernels: they take lengths that
// are multiples of it and leave the rest to mask's word loop.
const vectorBlock = 32

// maskBytes is the byte-at-a-time reference implementation of Mask; tests
// and benchmarks compare against it, and Mask uses it for tiny inputs where
// building the word key would cost more than it saves.
func maskBytes(key [4]byte, pos int, b []byte) int {
	pos &= 3
	for i := range b {
		b[i] ^= key[(pos+i)&3]
	}
	return (pos + len(b)) & 3
}

// keyBatch is how many masking keys one read of the random source fetches;
// 64 keys amortise the system call behind crypto/rand over 64 frames while
// keeping the per-engine buffer at 256 bytes.
const keyBatch = 64

// KeySource hands out masking keys read in batches from a random source, so that
// each frame's fresh key costs a copy, not a system call.
//
// The zero value is ready to use and reads from crypto/rand.Reader. A
// KeySource is not safe for concurrent use; each engine owns its own, so no
// global state or locking is involved.
type KeySource struct {
	r   io.Reader // nil means crypto/rand.Reader
	buf []byte    // allocated on first use so idle engines pay nothing
	off int       // next unused byte of buf; len(buf) means empty
}

// NewKeySource returns a KeySource reading from r; a nil r means crypto/rand.Reader.
func NewKeySource(r io.Reader) *KeySource {
	return &KeySource{r: r}
}

// Next returns a fresh key. The error is the reader's (never for crypto/rand).
func (k *KeySource) Next() ([4]byte, error) {
	if len(k.buf)-k.off < 4 {
		if err := k.refill(); err != nil {
			return [4]byte{}, err
		}
	}
	var key [4]byte
	copy(key[:], k.buf[k.off:k.off+4])
	k.off += 4
	return key, nil
}

// refill reads a whole batch. A partial batch is never handed out: a key
// mixing fresh bytes with stale ones from a failed read would be predictable.
func (k *KeySource) refill() error {
	if k.buf == nil {
		k.buf = make([]byte, keyBatch*4)
	}
	r := k.r
	if r == nil {
		r = rand.Reader
	}
	if _, err := io.ReadFull(r, k.buf); err != nil {
		k.off = len(k.buf)
		return err
	}
	k.off = 0
	return nil
}
