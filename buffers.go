//go:build !js

package wspeer

import "sync"

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
