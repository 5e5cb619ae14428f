package load

import (
	"bytes"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"sync/atomic"
	"time"
)

// The fixed opening handshake of the generator's own client: the key is the
// one of RFC 6455 section 1.3, so the expected accept value is known.
const (
	wsKey    = "dGhlIHNhbXBsZSBub25jZQ=="
	wsAccept = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
)

func upgradeRequest(addr, path string) []byte {
	return []byte("GET " + path + " HTTP/1.1\r\nHost: " + addr +
		"\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: " + wsKey +
		"\r\nSec-WebSocket-Version: 13\r\n\r\n")
}

// handshake performs the client side of the opening handshake on c and
// returns bytes read past the response.
func handshake(c net.Conn, req []byte, buf []byte) ([]byte, error) {
	if _, err := c.Write(req); err != nil {
		return nil, err
	}
	n := 0
	for {
		m, err := c.Read(buf[n:])
		n += m
		if i := bytes.Index(buf[:n], []byte("\r\n\r\n")); i >= 0 {
			resp := buf[:i]
			if !bytes.HasPrefix(resp, []byte("HTTP/1.1 101")) {
				line, _, _ := bytes.Cut(resp, []byte("\r\n"))
				return nil, fmt.Errorf("handshake refused: %q", line)
			}
			if !bytes.Contains(resp, []byte(wsAccept)) {
				return nil, errors.New("handshake: wrong Sec-WebSocket-Accept")
			}
			return buf[i+4 : n], nil
		}
		if err != nil {
			return nil, fmt.Errorf("handshake: %w", err)
		}
		if n == len(buf) {
			return nil, errors.New("handshake: response too long")
		}
	}
}

// dialer dials with a bounded timeout; the runner gives up on a stuck server.
var dialer = net.Dialer{Timeout: 5 * time.Second}

// fastConn is one connection of the generator's own client: a writer
// goroutine keeps K messages in flight and a reader goroutine parses the
// echoes in place. Messages are built from pre-masked templates, so the
// per-message work is the header and the 16-byte stamp, whatever the size.
// The masking key is random per connection and reused for its frames (the
// server cannot tell; it unmasks every byte either way).
type fastConn struct {
	c        net.Conn
	raw      bool
	size, k  int
	tmpl     []byte // expected payload
	tail     []byte // payload bytes after the stamp as sent (masked for WS)
	mask     [4]byte
	inflight atomic.Int64
	wake     chan struct{}
	done     chan struct{}
	sent     atomic.Uint64
	leftover []byte

	// reader side
	hist  hist
	msgs  uint64 // messages completed while measuring
	bytes uint64
	err   error
	chk   checker
}

func newFastConn(cfg *Config) (*fastConn, error) {
	c, err := dialer.Dial("tcp", cfg.Addr)
	if err != nil {
		return nil, err
	}
	f := &fastConn{c: c, raw: cfg.Raw, size: cfg.Size, k: cfg.InFlight,
		wake: make(chan struct{}, 1), done: make(chan struct{})}
	if !cfg.Raw {
		buf := make([]byte, 4096)
		rest, err := handshake(c, upgradeRequest(cfg.Addr, cfg.path()), buf)
		if err != nil {
			c.Close()
			return nil, err
		}
		f.leftover = append([]byte(nil), rest...)
		if _, err := rand.Read(f.mask[:]); err != nil {
			return nil, err
		}
	}
	f.tmpl = pattern(cfg.Size)
	f.tail = append([]byte(nil), f.tmpl[stampSize:]...)
	if !cfg.Raw {
		for i := range f.tail {
			f.tail[i] ^= f.mask[(i+stampSize)&3]
		}
	}
	f.chk = checker{tmpl: f.tmpl, full: cfg.Verify}
	return f, nil
}

// appendHeader appends a frame (or length-prefix) header and the stamp.
func (f *fastConn) appendHead(b []byte, ts int64, seq uint64) []byte {
	n := f.size
	if f.raw {
		b = binary.BigEndian.AppendUint32(b, uint32(n))
	} else {
		b = append(b, 0x82) // FIN, binary
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
		b = append(b, f.mask[:]...)
	}
	s := len(b)
	b = append(b, make([]byte, stampSize)...)
	putStamp(b[s:], ts, seq)
	if !f.raw {
		for i := 0; i < stampSize; i++ {
			b[s+i] ^= f.mask[i&3]
		}
	}
	return b
}

// writer keeps k messages in flight until done.
func (f *fastConn) writer() {
	const smallBatch = 64 << 10
	var buf []byte
	var bufs net.Buffers
	heads := make([][]byte, f.k)
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
		var err error
		if f.size <= smallBatch {
			buf = buf[:0]
			for i := int64(0); i < n; i++ {
				buf = f.appendHead(buf, ts, seq)
				buf = append(buf, f.tail...)
				seq++
			}
			_, err = f.c.Write(buf)
		} else {
			bufs = bufs[:0]
			for i := int64(0); i < n; i++ {
				heads[i] = f.appendHead(heads[i][:0], ts, seq)
				bufs = append(bufs, heads[i], f.tail)
				seq++
			}
			_, err = bufs.WriteTo(f.c)
		}
		if err != nil {
			return
		}
		f.sent.Add(uint64(n))
	}
}

// reader parses echoes until the connection ends; it records RTTs and counts
// while measuring is set.
func (f *fastConn) reader(measuring *atomic.Bool) {
	buf := make([]byte, 256<<10)
	var (
		hdr      [14]byte
		hn       int   // header bytes gathered
		need     int   // header bytes needed (0: not known yet)
		remain   int64 // payload bytes left in the current frame
		inData   bool  // parsing a frame's payload
		control  bool  // the current frame is a control frame
		fin      bool
		off      int // offset in the current message
		stamp    [stampSize]byte
		mismatch bool
	)
	data := f.leftover
	for {
		if len(data) == 0 {
			n, err := f.c.Read(buf)
			if n == 0 && err != nil {
				f.err = err
				return
			}
			data = buf[:n]
		}
		now := nowNanos()
		meas := measuring.Load()
		done := int64(0)
		for len(data) > 0 {
			if !inData {
				// Gather the header.
				if need == 0 {
					if f.raw {
						need = 4
					} else {
						need = 2
					}
				}
				m := copy(hdr[hn:need], data)
				hn += m
				data = data[m:]
				if hn < need {
					continue
				}
				if f.raw {
					remain = int64(binary.BigEndian.Uint32(hdr[:4]))
					fin, control = true, false
				} else {
					if hn == 2 {
						switch hdr[1] & 0x7f {
						case 126:
							need = 4
						case 127:
							need = 10
						}
						if hdr[1]&0x80 != 0 {
							f.err = errors.New("server frame is masked")
							return
						}
						if hn < need {
							continue
						}
					}
					switch l := hdr[1] & 0x7f; l {
					case 126:
						remain = int64(binary.BigEndian.Uint16(hdr[2:4]))
					case 127:
						remain = int64(binary.BigEndian.Uint64(hdr[2:10]))
					default:
						remain = int64(l)
					}
					op := hdr[0] & 0x0f
					if op == 0x8 {
						f.err = errors.New("server sent a close frame")
						return
					}
					control = op >= 0x8
					fin = hdr[0]&0x80 != 0
				}
				hn, need, inData = 0, 0, true
			}
			m := int64(len(data))
			if m > remain {
				m = remain
			}
			chunk := data[:m]
			data = data[m:]
			remain -= m
			if !control {
				if off < stampSize {
					copy(stamp[off:], chunk)
				}
				if f.chk.full && off+len(chunk) > stampSize && off+len(chunk) <= len(f.tmpl) {
					s := max(0, stampSize-off)
					if !bytes.Equal(chunk[s:], f.tmpl[off+s:off+len(chunk)]) {
						mismatch = true
					}
				}
				off += len(chunk)
			}
			if remain > 0 {
				continue
			}
			inData = false
			if control || !fin {
				continue
			}
			// A whole message.
			if off != f.size || mismatch {
				f.err = fmt.Errorf("%w: message of %d bytes (want %d), payload differs: %v", errMismatch, off, f.size, mismatch)
				return
			}
			ts, seq := getStamp(stamp[:])
			if seq != f.chk.next {
				f.err = fmt.Errorf("%w: got message %d, want %d", errMismatch, seq, f.chk.next)
				return
			}
			f.chk.next++
			off = 0
			done++
			if meas {
				f.hist.add(now - ts)
				f.msgs++
				f.bytes += uint64(f.size)
			}
		}
		if done > 0 {
			f.inflight.Add(-done)
			select {
			case f.wake <- struct{}{}:
			default:
			}
		}
	}
}

// close ends the connection at once (RST, no TIME_WAIT).
func (f *fastConn) close() {
	select {
	case <-f.done:
	default:
		close(f.done)
	}
	closeNow(f.c)
}

func closeNow(c net.Conn) {
	if tc, ok := c.(*net.TCPConn); ok {
		tc.SetLinger(0)
	}
	c.Close()
}
