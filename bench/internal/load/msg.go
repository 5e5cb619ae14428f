// Package load is the benchmark's load generator: a hand-tuned frame-level
// WebSocket (and raw length-prefixed TCP) client that keeps K messages in
// flight on each of N connections without allocating per message, plus
// latency, handshake and idle-connection modes, and the same throughput run
// driven by each library's own client.
package load

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math/bits"
	"time"
)

// Every message starts with a 16-byte stamp: the send time (nanoseconds on
// the process's monotonic clock) and the connection's sequence number. The
// rest is a fixed pattern, so an echo can be checked byte for byte.
const stampSize = 16

// MinSize is the smallest message size the generator sends.
const MinSize = stampSize

var epoch = time.Now()

func nowNanos() int64 { return int64(time.Since(epoch)) }

// pattern returns the expected payload of a message of size n (stamp bytes
// zero).
func pattern(n int) []byte {
	b := make([]byte, n)
	for i := stampSize; i < n; i++ {
		b[i] = byte(i*7 + i>>8 + 13)
	}
	return b
}

func putStamp(b []byte, ts int64, seq uint64) {
	binary.LittleEndian.PutUint64(b[0:8], uint64(ts))
	binary.LittleEndian.PutUint64(b[8:16], seq)
}

func getStamp(b []byte) (ts int64, seq uint64) {
	return int64(binary.LittleEndian.Uint64(b[0:8])), binary.LittleEndian.Uint64(b[8:16])
}

var errMismatch = errors.New("echo mismatch")

// checker verifies echoed messages: order (sequence numbers), size and, when
// full is set, every byte.
type checker struct {
	tmpl []byte
	full bool
	next uint64
}

func (c *checker) check(msg []byte) (ts int64, err error) {
	if len(msg) != len(c.tmpl) {
		return 0, fmt.Errorf("%w: got %d bytes, want %d", errMismatch, len(msg), len(c.tmpl))
	}
	ts, seq := getStamp(msg)
	if seq != c.next {
		return 0, fmt.Errorf("%w: got message %d, want %d", errMismatch, seq, c.next)
	}
	c.next++
	if c.full && string(msg[stampSize:]) != string(c.tmpl[stampSize:]) {
		return 0, fmt.Errorf("%w: payload of message %d differs", errMismatch, seq)
	}
	return ts, nil
}

// hist is a log-linear latency histogram (about 1.5 % resolution) that costs
// no allocation per sample.
type hist struct {
	b [60 * 64]uint32
	n uint64
}

func histIndex(v int64) int {
	if v < 0 {
		v = 0
	}
	u := uint64(v)
	l := bits.Len64(u)
	if l <= 7 {
		return int(u)
	}
	s := l - 7
	return s*64 + int(u>>s)
}

func histValue(i int) int64 {
	if i < 128 {
		return int64(i)
	}
	s := i/64 - 1
	m := int64(i - s*64)
	return m<<s + (int64(1)<<s)/2
}

func (h *hist) add(v int64) { h.b[histIndex(v)]++; h.n++ }

func (h *hist) merge(o *hist) {
	for i, c := range o.b {
		h.b[i] += c
	}
	h.n += o.n
}

// quantile returns the q-quantile in nanoseconds.
func (h *hist) quantile(q float64) int64 {
	if h.n == 0 {
		return 0
	}
	target := uint64(q*float64(h.n-1)) + 1
	var acc uint64
	for i, c := range h.b {
		acc += uint64(c)
		if acc >= target {
			return histValue(i)
		}
	}
	return histValue(len(h.b) - 1)
}
