package main

import (
	"runtime"
	"runtime/debug"
	"sync"
	"time"
)

// trimDelay is how long a server stays without releasing a big buffer
// before it hands freed memory back to the operating system.
const trimDelay = time.Second

// memTrimmer gives memory back to the operating system once the big
// buffers of a burst are released and the server has been quiet for
// trimDelay. Without it an idle server keeps its peak: the runtime reuses
// freed memory but returns it slowly, and the library's buffer pools are
// only emptied by garbage collections, which an idle server does not run.
// A nil *memTrimmer does nothing.
type memTrimmer struct {
	mu sync.Mutex
	t  *time.Timer
}

// released notes that a big buffer was let go: a trim follows trimDelay
// after the last one.
func (m *memTrimmer) released() {
	if m == nil {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.t == nil {
		m.t = time.AfterFunc(trimDelay, trim)
		return
	}
	m.t.Reset(trimDelay)
}

// trim collects twice (pooled buffers survive one collection in the pool's
// victim cache) and returns the freed memory to the operating system.
func trim() {
	runtime.GC()
	debug.FreeOSMemory()
}
