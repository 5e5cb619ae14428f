package deflate

import (
	"bytes"
	"compress/flate"
	"fmt"
	"io"
	"sync"

	"github.com/wspeer/wspeer/internal/proto"
)

// Compressors and inflaters are pooled process-wide: a connection holds one
// only while it compresses or inflates a message. The pools are caches, not
// state: any pooled value is as good as a new one.
var (
	flateWriters [flate.BestCompression + 1]sync.Pool
	huffWriters  sync.Pool
	flateReaders sync.Pool
)

// Codec is the permessage-deflate codec of one connection: it compresses
// outgoing messages from Params.Threshold on, and inflates compressed inbound
// ones in bounded steps.
type Codec struct {
	p     Params
	inf   inflater
	empty bool // the message being decoded had no payload at all
}

var _ proto.ExtensionCodec = (*Codec)(nil)

// NewCodec returns the codec of a connection that negotiated p.
func NewCodec(p Params) *Codec {
	return &Codec{p: p, inf: inflater{takeover: !p.PeerNoContextTakeover}}
}

// Rsv returns Rsv1, the "compressed" bit.
func (c *Codec) Rsv() byte { return proto.Rsv1 }

// MaxEncodedSize allows for incompressible data, which grows a little.
func (c *Codec) MaxEncodedSize(limit int64) int64 { return limit + limit/64 + 64 }

// Encode compresses payload onto dst when it reaches the threshold, and
// returns it as it is otherwise.
func (c *Codec) Encode(dst []byte, _ proto.Opcode, payload []byte) ([]byte, byte) {
	if len(payload) < c.p.Threshold {
		return payload, 0
	}
	return compressMessage(dst, payload, c.p.Level, c.p.OwnWindowBits < 15), proto.Rsv1
}

// SharedKey says which connections encode a message to the same bytes: ours
// never use context takeover, so each message is compressed on its own, and
// only the threshold, the level and the window limit change the output.
func (c *Codec) SharedKey() string {
	return fmt.Sprintf("deflate/%d/%d/%v", c.p.Threshold, c.p.Level, c.p.OwnWindowBits < 15)
}

// Feed gathers compressed bytes; after the last ones, inflating starts. A
// message without any payload bytes is taken as an empty message (strictly,
// it is not even a deflate block).
func (c *Codec) Feed(p []byte, last bool) error {
	c.inf.zin = append(c.inf.zin, p...)
	if !last {
		return nil
	}
	if len(c.inf.zin) == 0 {
		c.empty = true
		return nil
	}
	return c.inf.start()
}

// Decode inflates at most max bytes.
func (c *Codec) Decode(max int) ([]byte, bool, error) {
	if c.empty {
		c.empty = false
		return nil, true, nil
	}
	return c.inf.next(max)
}

// Release returns the pooled inflater and drops the window.
func (c *Codec) Release() {
	c.inf.finish()
	c.inf.window = nil
}

// deflateTail ends every compressed message on the wire (RFC 7692 7.2.1); the
// sender strips it and the receiver appends it back, followed by an empty
// final stored block so that the inflater reports a clean end of stream.
var deflateTail = []byte{0x00, 0x00, 0xff, 0xff, 0x01, 0x00, 0x00, 0xff, 0xff}

// sliceWriter appends what is written to b.
type sliceWriter struct{ b []byte }

func (w *sliceWriter) Write(p []byte) (int, error) {
	w.b = append(w.b, p...)
	return len(p), nil
}

// compressMessage appends payload compressed as one RFC 7692 message (no
// context takeover) to dst. huffman restricts the encoder to Huffman coding,
// which honours any window size.
func compressMessage(dst, payload []byte, level int, huffman bool) []byte {
	pool := &huffWriters
	if huffman {
		level = flate.HuffmanOnly
	} else {
		if level < flate.BestSpeed || level > flate.BestCompression {
			level = flate.BestSpeed
		}
		pool = &flateWriters[level]
	}
	sw := &sliceWriter{b: dst}
	fw, _ := pool.Get().(*flate.Writer)
	if fw == nil {
		fw, _ = flate.NewWriter(sw, level) // level is valid: no error
	} else {
		fw.Reset(sw)
	}
	_, _ = fw.Write(payload) // writes to a slice cannot fail
	_ = fw.Flush()
	fw.Reset(io.Discard) // drop the reference to sw before pooling
	pool.Put(fw)
	out := sw.b
	// Flush ends with an empty stored block: 00 00 ff ff.
	if n := len(out); n-len(dst) >= 4 && bytes.Equal(out[n-4:], deflateTail[:4]) {
		out = out[:n-4]
	}
	return out
}

// inflateWindow is the largest window a peer may compress with (15 bits).
const inflateWindow = 1 << 15

// inflateChunk is the most inflated bytes produced per step (the engine asks
// for no more than this either).
const inflateChunk = 16 << 10

// inflater decompresses one message at a time. The compressed message is
// gathered whole first (the standard library's inflater cannot resume after
// running out of input), then inflated in bounded steps, so the receiver's
// budget stops a decompression bomb after at most that many bytes.
type inflater struct {
	takeover bool   // keep the window between messages (the peer uses context takeover)
	window   []byte // last inflateWindow bytes inflated, the next message's dictionary
	zin      []byte // compressed message being gathered, then inflated
	src      bytes.Reader
	r        io.ReadCloser // pooled, only while inflating
	out      []byte
}

// start begins inflating the gathered message.
func (f *inflater) start() error {
	f.zin = append(f.zin, deflateTail...)
	f.src.Reset(f.zin)
	var dict []byte
	if f.takeover {
		dict = f.window
	}
	r, _ := flateReaders.Get().(io.ReadCloser)
	if r == nil {
		r = flate.NewReader(&f.src)
	}
	if err := r.(flate.Resetter).Reset(&f.src, dict); err != nil {
		return err
	}
	f.r = r
	if f.out == nil {
		f.out = make([]byte, inflateChunk)
	}
	return nil
}

// next inflates at most max bytes (max > 0). done reports the message's end.
func (f *inflater) next(max int) (chunk []byte, done bool, err error) {
	buf := f.out[:min(max, len(f.out))]
	n, err := io.ReadFull(f.r, buf)
	chunk = buf[:n]
	switch err {
	case nil:
	case io.EOF, io.ErrUnexpectedEOF:
		// The reader stops at the empty final block we appended.
		done, err = true, nil
	default:
		return nil, false, err
	}
	if f.takeover {
		f.remember(chunk)
	}
	if done {
		f.finish()
	}
	return chunk, done, nil
}

// remember appends inflated bytes to the window, keeping its last 32 KiB.
func (f *inflater) remember(b []byte) {
	if len(f.window)+len(b) > inflateWindow {
		drop := len(f.window) + len(b) - inflateWindow
		if drop >= len(f.window) {
			f.window = append(f.window[:0], b[len(b)-inflateWindow:]...)
			return
		}
		f.window = f.window[:copy(f.window, f.window[drop:])]
	}
	if f.window == nil {
		f.window = make([]byte, 0, inflateWindow)
	}
	f.window = append(f.window, b...)
}

// finish returns the pooled inflater and the per-message buffers, keeping
// only the window.
func (f *inflater) finish() {
	if f.r != nil {
		flateReaders.Put(f.r)
		f.r = nil
	}
	f.src.Reset(nil)
	if cap(f.zin) > inflateChunk {
		f.zin = nil
	} else {
		f.zin = f.zin[:0]
	}
	f.out = nil
}
