// Package maskbench measures WebSocket payload masking (RFC 6455 section 5.3)
// of wspeer's internal/proto.Mask beside gobwas/ws's Cipher on the same
// buffers in the same process (GitHub issue 14, item 6). The bench module may
// import wspeer's internal packages: its import path lies under the module's.
package maskbench

import (
	"time"
	"unsafe"

	"github.com/gobwas/ws"
	"github.com/wspeer/wspeer/internal/proto"
)

// Func masks b in place with key starting at key offset pos.
type Func func(key [4]byte, pos int, b []byte)

// Contender is one masking implementation.
type Contender struct {
	Name string
	Fn   Func
}

// Contenders are wspeer's Mask and gobwas's Cipher, in report order.
var Contenders = []Contender{
	{"wspeer", func(key [4]byte, pos int, b []byte) { proto.Mask(key, pos, b) }},
	{"gobwas", func(key [4]byte, pos int, b []byte) { ws.Cipher(b, key, pos) }},
}

// Case is one size and alignment: the slice starts Off bytes past a 64-byte
// boundary and is masked from key offset Pos.
type Case struct {
	Name, Size, Align string
	N, Off, Pos       int
}

// Key is the masking key every case uses.
var Key = [4]byte{0x37, 0xfa, 0x21, 0x3d}

// Cases are the measured settings: each size 64-byte aligned from key offset
// 0, and one byte past the boundary from key offset 3.
func Cases() []Case {
	var cs []Case
	for _, s := range []struct {
		name string
		n    int
	}{{"64B", 64}, {"1KiB", 1 << 10}, {"4KiB", 4 << 10}, {"16KiB", 16 << 10}, {"1MiB", 1 << 20}} {
		cs = append(cs,
			Case{Name: s.name + "/aligned", Size: s.name, Align: "aligned", N: s.n},
			Case{Name: s.name + "/unaligned", Size: s.name, Align: "unaligned", N: s.n, Off: 1, Pos: 3})
	}
	return cs
}

// Buffer returns the case's slice: N pattern bytes starting Off bytes past a
// 64-byte boundary.
func (c Case) Buffer() []byte {
	raw := make([]byte, c.N+c.Off+64)
	skip := int(-uintptr(unsafe.Pointer(&raw[0])) & 63)
	b := raw[skip+c.Off : skip+c.Off+c.N]
	for i := range b {
		b[i] = byte(i * 7)
	}
	return b
}

// Measure masks buf with fn repeatedly for about d (at least one call) and
// returns the rate in bytes per second. The number of calls per timed batch
// grows until a batch takes d/10, so the clock is read rarely.
func Measure(fn Func, c Case, buf []byte, d time.Duration) float64 {
	fn(Key, c.Pos, buf) // warm the cache and the branch predictors
	batch := 1
	var calls int
	var spent time.Duration
	for spent < d {
		start := time.Now()
		for range batch {
			fn(Key, c.Pos, buf)
		}
		el := time.Since(start)
		calls += batch
		spent += el
		if el < d/10 && batch < 1<<30 {
			batch *= 2
		}
	}
	return float64(calls) * float64(len(buf)) / spent.Seconds()
}
