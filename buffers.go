//go:build !js

package wspeer

import (
	"slices"
	"sync"
)

// readBufSize is the size of the buffers a peer reads into and keeps unread
// packets in. They are borrowed from a pool while in use, so idle peers hold
// none.
const readBufSize = 32 << 10

// bufPool holds readBufSize buffers. It stores pointers so that returning a
// buffer does not allocate.
var bufPool = sync.Pool{New: func() any { b := make([]byte, readBufSize); return &b }}

// getBuf borrows a buffer of length readBufSize.
func getBuf() *[]byte {
	bp := bufPool.Get().(*[]byte)
	*bp = (*bp)[:readBufSize]
	return bp
}

// putBuf returns a borrowed buffer; b is its current view, which replaces
// the pooled slice if it still has the pool's capacity (one that grew past it
// is dropped, so the pool never hands out oversized buffers).
func putBuf(bp *[]byte, b []byte) {
	if bp == nil {
		return
	}
	if cap(b) == readBufSize {
		*bp = b[:readBufSize]
	} else if cap(*bp) != readBufSize {
		return
	}
	bufPool.Put(bp)
}

// Large buffers (messages and write queues beyond readBufSize) are pooled by
// size class, powers of two from 64 KiB, so that streaming large messages
// does not allocate a new buffer for each one.
const (
	bigMin     = 64 << 10
	bigClasses = 11 // up to 64 MiB
)

var bigPools [bigClasses]sync.Pool

// bigClass returns the class whose size is at least n, or -1.
func bigClass(n int) int {
	for i := 0; i < bigClasses; i++ {
		if bigMin<<i >= n {
			return i
		}
	}
	return -1
}

// growBuf returns b with room for at least extra more bytes, taking a pooled
// buffer when it must grow past readBufSize and returning the old one when it
// came from the large pools.
func growBuf(b []byte, extra int) []byte {
	need := len(b) + extra
	if need <= cap(b) {
		return b
	}
	c := bigClass(max(need, 2*cap(b)))
	if c < 0 {
		return slices.Grow(b, extra)
	}
	nb, _ := bigPools[c].Get().([]byte)
	if nb == nil {
		nb = make([]byte, 0, bigMin<<c)
	}
	nb = append(nb[:0], b...)
	putBig(b)
	return nb
}

// putBig returns a buffer of exactly a class size to its pool.
func putBig(b []byte) {
	if c := bigClass(cap(b)); c >= 0 && bigMin<<c == cap(b) {
		bigPools[c].Put(b[:0]) //nolint:staticcheck // a slice header is small next to the buffer
	}
}
