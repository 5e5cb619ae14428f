package load

// The compressed echo scenario (permessage-deflate, RFC 7692).
//
// The client offers "permessage-deflate; client_no_context_takeover;
// client_max_window_bits" (what wspeer's own client offers) and requires the
// server to accept it. Every message it sends is compressed on its own
// (client_no_context_takeover semantics), and the compression is done once,
// before the run: a message is the 16-byte stamp followed by a JSON-like text
// body, and on the wire its deflate stream is a stored block holding the stamp
// (so that the stamp can be written per message, as in the uncompressed
// client) followed by the body compressed with compress/flate. The body is
// one of zVariants different texts, chosen by sequence number, so that a
// server that keeps its context (coder) sees messages that resemble each
// other, as a real JSON stream's do, but no verbatim repeat within its 32 KiB
// window at 1 KiB or more. The server has to inflate and deflate every
// message as it would for real traffic.
//
// Echoes are inflated with the standard library (with the 00 00 ff ff tail
// put back), with the previous messages as the dictionary when the server
// did not answer server_no_context_takeover, and every byte is checked.

import (
	"bufio"
	"bytes"
	"compress/flate"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// DeflateOffer is the extension the client offers.
const DeflateOffer = "permessage-deflate; client_no_context_takeover; client_max_window_bits"

// zVariants is the number of different message bodies per size.
const zVariants = 64

// zLevel is the client's compression level (it compresses once, so the
// level costs nothing during the run; browsers use zlib's default, 6).
const zLevel = flate.DefaultCompression

// storedStamp is the stored-block header (BFINAL 0, BTYPE 00, LEN 16,
// NLEN ^16) that opens every compressed message; the stamp follows it.
var storedStamp = []byte{0x00, stampSize, 0x00, ^byte(stampSize), 0xff}

const zStampOff = 5 // offset of the stamp in the compressed payload

// zTail is appended to a compressed message before inflating it: the
// 00 00 ff ff the sender stripped, then an empty final stored block so that
// the inflater ends cleanly.
var zTail = []byte{0x00, 0x00, 0xff, 0xff, 0x01, 0x00, 0x00, 0xff, 0xff}

// zPayloads are the messages of one size, shared by all connections.
type zPayloads struct {
	plain [][]byte // whole messages, stamp bytes zero
	comp  [][]byte // compressed payloads as sent (unmasked, stamp zero)
	ratio float64  // plain bytes / compressed bytes
}

var (
	zMu    sync.Mutex
	zCache = map[int]*zPayloads{}
)

// DeflatePayloads returns the messages of size n and their compressed form.
func deflatePayloads(n int) *zPayloads {
	zMu.Lock()
	defer zMu.Unlock()
	if z := zCache[n]; z != nil {
		return z
	}
	z := &zPayloads{}
	var in, out int
	fw, _ := flate.NewWriter(nil, zLevel)
	for v := range zVariants {
		msg := make([]byte, stampSize, n)
		msg = append(msg, jsonText(uint64(v)+1, n-stampSize)...)
		var b bytes.Buffer
		b.Write(storedStamp)
		b.Write(make([]byte, stampSize))
		fw.Reset(&b)
		fw.Write(msg[stampSize:])
		fw.Flush()
		c := bytes.TrimSuffix(b.Bytes(), zTail[:4])
		z.plain = append(z.plain, msg)
		z.comp = append(z.comp, c)
		in += len(msg)
		out += len(c)
	}
	z.ratio = float64(in) / float64(out)
	zCache[n] = z
	return z
}

// DeflateRatio reports the compression ratio of the client's messages of
// size n (as the client compresses them, zlib level 6).
func DeflateRatio(n int) float64 { return deflatePayloads(n).ratio }

// jsonText returns n bytes of JSON-like text: a stream of event records with
// the same keys, words from small vocabularies and varying numbers, as an API
// or a game would send. On its own a message compresses about 2.7x at 1 KiB
// and 5-6x at 16 KiB (zlib level 6; level 1: 2.6x and 4.8x).
func jsonText(seed uint64, n int) []byte {
	r := mrand.New(mrand.NewPCG(seed, 0x5eed))
	events := []string{"click", "view", "purchase", "login", "logout", "move", "chat", "update"}
	regions := []string{"eu-west", "us-east", "ap-south", "sa-east"}
	words := []string{"alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel", "india", "juliet", "kilo", "lima", "mike", "november", "oscar", "papa"}
	var b strings.Builder
	b.WriteString(`{"type":"batch","items":[`)
	ts := 1712000000000 + r.Int64N(1000000000)
	for i := 0; b.Len() < n; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		ts += r.Int64N(1000)
		fmt.Fprintf(&b, `{"id":%d,"user":"user_%04d","event":"%s","region":"%s","ts":%d,"score":%d.%d,"active":%t,"tags":["%s","%s"],"text":"%s %s %s"}`,
			100000+i, r.IntN(3000), events[r.IntN(len(events))], regions[r.IntN(len(regions))],
			ts, r.IntN(100), r.IntN(10), r.IntN(2) == 0,
			words[r.IntN(len(words))], words[r.IntN(len(words))],
			words[r.IntN(len(words))], words[r.IntN(len(words))], words[r.IntN(len(words))])
	}
	return []byte(b.String()[:n])
}

// deflateRequest is the upgrade request with the extension offer.
func deflateRequest(addr, path string) []byte {
	return []byte("GET " + path + " HTTP/1.1\r\nHost: " + addr +
		"\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: " + wsKey +
		"\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Extensions: " + DeflateOffer + "\r\n\r\n")
}

// deflateHandshake upgrades c offering permessage-deflate; it fails unless
// the server accepts it, and reports whether the server keeps its context
// (did not answer server_no_context_takeover).
func deflateHandshake(c net.Conn, addr, path string) (rest []byte, takeover bool, err error) {
	buf := make([]byte, 4096)
	if _, err := c.Write(deflateRequest(addr, path)); err != nil {
		return nil, false, err
	}
	n := 0
	for {
		m, err := c.Read(buf[n:])
		n += m
		if i := bytes.Index(buf[:n], []byte("\r\n\r\n")); i >= 0 {
			resp := string(buf[:i])
			if !strings.HasPrefix(resp, "HTTP/1.1 101") {
				line, _, _ := strings.Cut(resp, "\r\n")
				return nil, false, fmt.Errorf("handshake refused: %q", line)
			}
			if !strings.Contains(resp, wsAccept) {
				return nil, false, errors.New("handshake: wrong Sec-WebSocket-Accept")
			}
			var ext string
			for _, line := range strings.Split(resp, "\r\n")[1:] {
				k, v, _ := strings.Cut(line, ":")
				if strings.EqualFold(strings.TrimSpace(k), "Sec-WebSocket-Extensions") {
					ext += "," + strings.TrimSpace(v)
				}
			}
			if !strings.Contains(ext, "permessage-deflate") {
				return nil, false, errors.New("handshake: server did not accept permessage-deflate")
			}
			return append([]byte(nil), buf[i+4:n]...), !strings.Contains(ext, "server_no_context_takeover"), nil
		}
		if err != nil {
			return nil, false, fmt.Errorf("handshake: %w", err)
		}
		if n == len(buf) {
			return nil, false, errors.New("handshake: response too long")
		}
	}
}

// zSender builds masked compressed frames.
type zSender struct {
	z      *zPayloads
	mask   [4]byte
	masked [][]byte // z.comp masked with mask (stamp bytes: the mask itself)
}

func newZSender(z *zPayloads) (*zSender, error) {
	s := &zSender{z: z}
	if _, err := rand.Read(s.mask[:]); err != nil {
		return nil, err
	}
	for _, c := range z.comp {
		m := append([]byte(nil), c...)
		for i := range m {
			m[i] ^= s.mask[i&3]
		}
		s.masked = append(s.masked, m)
	}
	return s, nil
}

// appendFrame appends message seq as one compressed binary frame.
func (s *zSender) appendFrame(b []byte, ts int64, seq uint64) []byte {
	p := s.masked[seq%zVariants]
	n := len(p)
	b = append(b, 0xc2) // FIN, RSV1, binary
	switch {
	case n < 126:
		b = append(b, 0x80|byte(n))
	case n <= 0xffff:
		b = append(b, 0x80|126)
		b = binary.BigEndian.AppendUint16(b, uint16(n))
	default:
		b = append(b, 0x80|127)
		b = binary.BigEndian.AppendUint64(b, uint64(n))
	}
	b = append(b, s.mask[:]...)
	off := len(b)
	b = append(b, p...)
	var st [stampSize]byte
	putStamp(st[:], ts, seq)
	for i, c := range st {
		b[off+zStampOff+i] ^= c
	}
	return b
}

// zReader reads server messages and inflates compressed ones.
type zReader struct {
	br       *bufio.Reader
	takeover bool
	msg      []byte // payload of the message being read
	wire     int    // payload bytes on the wire of the last message
	in       []byte // compressed message plus zTail
	out      []byte
	hist     []byte // the server's window (takeover only)
	src      bytes.Reader
	fr       io.ReadCloser
	max      int
}

func newZReader(c net.Conn, rest []byte, takeover bool, max int) *zReader {
	var r io.Reader = c
	if len(rest) > 0 {
		r = io.MultiReader(bytes.NewReader(rest), c)
	}
	return &zReader{br: bufio.NewReaderSize(r, 64<<10), takeover: takeover, max: max}
}

// next returns the next data message, inflated. The slice is valid until the
// next call.
func (z *zReader) next() ([]byte, error) {
	var hdr [10]byte
	compressed, started := false, false
	z.msg = z.msg[:0]
	for {
		if _, err := io.ReadFull(z.br, hdr[:2]); err != nil {
			return nil, err
		}
		if hdr[1]&0x80 != 0 {
			return nil, errors.New("server frame is masked")
		}
		var n uint64
		switch l := hdr[1] & 0x7f; l {
		case 126:
			if _, err := io.ReadFull(z.br, hdr[2:4]); err != nil {
				return nil, err
			}
			n = uint64(binary.BigEndian.Uint16(hdr[2:4]))
		case 127:
			if _, err := io.ReadFull(z.br, hdr[2:10]); err != nil {
				return nil, err
			}
			n = binary.BigEndian.Uint64(hdr[2:10])
		default:
			n = uint64(l)
		}
		if n > uint64(z.max) || len(z.msg)+int(n) > z.max {
			return nil, fmt.Errorf("server frame of %d bytes", n)
		}
		op := hdr[0] & 0x0f
		if op >= 0x8 {
			if op == 0x8 {
				return nil, errors.New("server sent a close frame")
			}
			if _, err := z.br.Discard(int(n)); err != nil {
				return nil, err
			}
			continue
		}
		if op != 0 {
			if started {
				return nil, errors.New("new message inside a fragmented one")
			}
			started, compressed = true, hdr[0]&0x40 != 0
		} else if !started {
			return nil, errors.New("continuation frame without a message")
		}
		l := len(z.msg)
		z.msg = append(z.msg, make([]byte, n)...)
		if _, err := io.ReadFull(z.br, z.msg[l:]); err != nil {
			return nil, err
		}
		if hdr[0]&0x80 == 0 {
			continue
		}
		z.wire = len(z.msg)
		if !compressed {
			return z.msg, nil
		}
		return z.inflate()
	}
}

func (z *zReader) inflate() ([]byte, error) {
	z.in = append(append(z.in[:0], z.msg...), zTail...)
	z.src.Reset(z.in)
	var dict []byte
	if z.takeover {
		dict = z.hist
	}
	if z.fr == nil {
		z.fr = flate.NewReaderDict(&z.src, dict)
	} else if err := z.fr.(flate.Resetter).Reset(&z.src, dict); err != nil {
		return nil, err
	}
	z.out = z.out[:0]
	for {
		if len(z.out) == cap(z.out) {
			z.out = append(z.out, 0)[:len(z.out)]
		}
		m, err := z.fr.Read(z.out[len(z.out):cap(z.out)])
		z.out = z.out[:len(z.out)+m]
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("inflate: %w", err)
		}
		if len(z.out) > z.max {
			return nil, errors.New("inflate: message too large")
		}
	}
	if z.takeover {
		z.hist = append(z.hist, z.out...)
		if len(z.hist) > 32<<10 {
			z.hist = append(z.hist[:0], z.hist[len(z.hist)-32<<10:]...)
		}
	}
	return z.out, nil
}

// zConn is a load connection of the compressed scenario: a writer goroutine
// keeps K messages in flight, a reader goroutine inflates and checks every
// echo byte for byte.
type zConn struct {
	c        net.Conn
	k        int
	z        *zPayloads
	s        *zSender
	r        *zReader
	inflight atomic.Int64
	wake     chan struct{}
	done     chan struct{}
	hist     hist
	msgs     uint64
	bytes    uint64
	wire     uint64 // echoed payload bytes on the wire while measuring
	err      error
	next     uint64
}

// dialDeflate connects and upgrades with permessage-deflate.
func dialDeflate(cfg *Config) (net.Conn, *zReader, error) {
	c, err := dialer.Dial("tcp", cfg.Addr)
	if err != nil {
		return nil, nil, err
	}
	c.SetDeadline(time.Now().Add(10 * time.Second))
	defer c.SetDeadline(time.Time{})
	rest, takeover, err := deflateHandshake(c, cfg.Addr, cfg.path())
	if err != nil {
		c.Close()
		return nil, nil, err
	}
	return c, newZReader(c, rest, takeover, 4*cfg.Size+1024), nil
}

func newZConn(cfg *Config) (*zConn, error) {
	if cfg.Raw || (cfg.Client != "" && cfg.Client != "fast") {
		return nil, errors.New("compression: only the fast WebSocket client compresses")
	}
	c, r, err := dialDeflate(cfg)
	if err != nil {
		return nil, err
	}
	z := deflatePayloads(cfg.Size)
	s, err := newZSender(z)
	if err != nil {
		c.Close()
		return nil, err
	}
	return &zConn{c: c, k: cfg.InFlight, z: z, s: s, r: r, wake: make(chan struct{}, 1), done: make(chan struct{})}, nil
}

// check verifies message msg against the next expected one and returns its
// send time.
func (f *zConn) check(msg []byte) (int64, error) {
	return zCheck(f.z, msg, &f.next)
}

func zCheck(z *zPayloads, msg []byte, next *uint64) (int64, error) {
	if len(msg) < stampSize {
		return 0, fmt.Errorf("%w: message of %d bytes", errMismatch, len(msg))
	}
	ts, seq := getStamp(msg)
	if seq != *next {
		return 0, fmt.Errorf("%w: got message %d, want %d", errMismatch, seq, *next)
	}
	want := z.plain[seq%zVariants]
	if len(msg) != len(want) || !bytes.Equal(msg[stampSize:], want[stampSize:]) {
		return 0, fmt.Errorf("%w: message %d: %d bytes (want %d) or content differs", errMismatch, seq, len(msg), len(want))
	}
	*next++
	return ts, nil
}

func (f *zConn) start(measuring *atomic.Bool) {
	go f.reader(measuring)
	go f.writer()
}

func (f *zConn) writer() {
	var buf []byte
	var seq uint64
	for {
		n := int64(f.k) - f.inflight.Load()
		if n <= 0 {
			select {
			case <-f.wake:
				continue
			case <-f.done:
				return
			}
		}
		ts := nowNanos()
		f.inflight.Add(n)
		buf = buf[:0]
		for i := int64(0); i < n; i++ {
			buf = f.s.appendFrame(buf, ts, seq)
			seq++
		}
		if _, err := f.c.Write(buf); err != nil {
			return
		}
	}
}

func (f *zConn) reader(measuring *atomic.Bool) {
	done := int64(0)
	for {
		msg, err := f.r.next()
		if err != nil {
			f.err = err
			return
		}
		ts, err := f.check(msg)
		if err != nil {
			f.err = err
			return
		}
		if measuring.Load() {
			f.hist.add(nowNanos() - ts)
			f.msgs++
			f.bytes += uint64(len(msg))
			f.wire += uint64(f.r.wire)
		}
		done++
		if f.r.br.Buffered() == 0 {
			f.inflight.Add(-done)
			done = 0
			select {
			case f.wake <- struct{}{}:
			default:
			}
		}
	}
}

func (f *zConn) wireBytes() uint64 { return f.wire }

func (f *zConn) stop() {
	select {
	case <-f.done:
	default:
		close(f.done)
	}
	closeNow(f.c)
}

func (f *zConn) result() (*hist, uint64, uint64, error) {
	err := f.err
	select {
	case <-f.done:
		if err != nil && !errors.Is(err, errMismatch) {
			err = nil
		}
	default:
	}
	return &f.hist, f.msgs, f.bytes, err
}

// idleDeflate opens one compressed connection for the idle scenario and
// echoes msgs messages of size bytes on it (one at a time) before it is held.
func idleDeflate(cfg *Config, msgs int) (net.Conn, error) {
	c, r, err := dialDeflate(cfg)
	if err != nil {
		return nil, err
	}
	z := deflatePayloads(cfg.Size)
	s, err := newZSender(z)
	if err != nil {
		c.Close()
		return nil, err
	}
	c.SetDeadline(time.Now().Add(10 * time.Second))
	defer c.SetDeadline(time.Time{})
	var next uint64
	for i := range msgs {
		if _, err := c.Write(s.appendFrame(nil, 0, uint64(i))); err != nil {
			c.Close()
			return nil, err
		}
		msg, err := r.next()
		if err == nil {
			_, err = zCheck(z, msg, &next)
		}
		if err != nil {
			c.Close()
			return nil, fmt.Errorf("echo %d: %w", i, err)
		}
	}
	return c, nil
}
