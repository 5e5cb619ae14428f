//go:build !js

package wspeer

import (
	"github.com/wspeer/wspeer/internal/proto"
)

// inbound is the peer's receiving side: the read buffer and the queue of
// complete messages the application has not read. Unread packets and the
// message being assembled share one buffer, inbuf: packets are offsets into
// it, so a burst of small messages costs no allocation per message.
type inbound struct {
	rbuf        []byte  // rbuf[roff:rend] is read but not parsed
	rbufp       *[]byte // rbuf's pool entry
	roff, rend  int
	readErr     error
	parsePaused bool // parsing stopped: no room (backpressure), or held back for the application
	moreNow     bool // parsing stopped with work left for the next Poll (a hold, a slice's end)
	packets     []packet
	phead       int
	inBytes     int     // payload bytes of unread packets
	inbuf       []byte  // unread packets' payloads, then the message being assembled
	inbufp      *[]byte // inbuf's pool entry
	curStart    int     // offset in inbuf of the message being assembled
	curText     bool
	receiving   bool // inbuf ends with an incomplete message
	batching    bool // a packet was read since the last Poll: batch the replies
	lent        bool // TakePackets lent inbuf's packets until the next Poll
}

type packet struct {
	off, n int // payload at inbuf[off:off+n]
	text   bool
}

// GetPacket returns the next inbound message, all fragments joined, and
// records its type for WasStringPacket. It returns ErrNoPacket when none is
// queued, in any state. The returned slice belongs to the caller.
func (p *Peer) GetPacket() ([]byte, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.reclaimLentLocked()
	if p.phead == len(p.packets) {
		return nil, ErrNoPacket
	}
	p.batching = true
	if pk := p.packets[p.phead]; pk.n >= largePacket && pk.off == 0 && pk.n == len(p.inbuf) &&
		p.phead+1 == len(p.packets) && !p.receiving && cap(p.inbuf) != readBufSize {
		// A large message alone in its own buffer: hand the buffer over.
		data := p.popPacketLocked()
		putBuf(p.inbufp, nil)
		p.inbuf, p.inbufp = nil, nil
		p.tidyInboundLocked()
		return data, nil
	}
	data := p.popPacketLocked()
	out := make([]byte, len(data))
	copy(out, data)
	p.tidyInboundLocked()
	return out, nil
}

// largePacket is the size from which GetPacket hands over the buffer a
// message was received in, instead of copying it.
const largePacket = 64 << 10

// AppendPacket appends the next inbound message to dst and returns the
// extended slice, like GetPacket but without allocating when dst has room:
// the variant for hot loops that reuse one buffer. It returns dst and
// ErrNoPacket when none is queued.
func (p *Peer) AppendPacket(dst []byte) ([]byte, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.reclaimLentLocked()
	if p.phead == len(p.packets) {
		return dst, ErrNoPacket
	}
	p.batching = true
	dst = append(dst, p.popPacketLocked()...)
	p.tidyInboundLocked()
	return dst, nil
}

// TakePackets appends every queued message to dst, with its type, and
// returns the extended slice: the whole queue in one call, without copying.
// The Data slices are lent from the peer's inbound buffer and stay valid
// until the peer's next Poll, TakePackets, GetPacket or AppendPacket; copy
// what must live longer (Send and SendBatch copy or write what they are
// given before they return, so echoing lent data is safe). WasStringPacket
// then reports the type of the last one.
func (p *Peer) TakePackets(dst []Packet) []Packet {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.reclaimLentLocked()
	if p.phead == len(p.packets) {
		return dst
	}
	p.batching = true
	for p.phead < len(p.packets) {
		text := p.packets[p.phead].text
		dst = append(dst, Packet{Data: p.popPacketLocked(), Text: text})
	}
	p.lent = true
	return dst
}

// reclaimLentLocked takes back the buffer space TakePackets lent.
func (p *Peer) reclaimLentLocked() {
	if p.lent {
		p.lent = false
		p.tidyInboundLocked()
	}
}

// receiveLocked stores a chunk of an inbound message.
func (p *Peer) receiveLocked(ev proto.Event) {
	if !p.receiving {
		if p.inbuf == nil {
			p.inbufp = getBuf()
			p.inbuf = (*p.inbufp)[:0]
		}
		p.receiving = true
		p.curStart = len(p.inbuf)
		p.curText = ev.Opcode == proto.OpText
	}
	if n := len(p.inbuf); len(ev.Data) > 0 && cap(p.inbuf) > n && &ev.Data[0] == &p.inbuf[:n+1][n] {
		p.inbuf = p.inbuf[:n+len(ev.Data)] // read in place by readDirectLocked
	} else {
		p.growInboundLocked(len(ev.Data))
		p.inbuf = append(p.inbuf, ev.Data...)
	}
	if ev.Fin {
		p.receiving = false
		n := len(p.inbuf) - p.curStart
		if p.phead > 0 && p.phead == len(p.packets) {
			p.packets = p.packets[:0]
			p.phead = 0
		}
		p.packets = append(p.packets, packet{off: p.curStart, n: n, text: p.curText})
		p.inBytes += n
	}
}

// inboundRoomLocked is what the inbound budget has left: it counts unread
// packets and the message being assembled.
func (p *Peer) inboundRoomLocked() int {
	used := p.inBytes
	if p.receiving {
		used += len(p.inbuf) - p.curStart
	}
	return p.cfg.inMax - used
}

// popPacketLocked removes the next packet from the queue and returns its
// payload, which aliases inbuf: copy it before calling tidyInboundLocked.
func (p *Peer) popPacketLocked() []byte {
	pk := p.packets[p.phead]
	p.packets[p.phead] = packet{}
	p.phead++
	p.inBytes -= pk.n
	p.lastString = pk.text
	return p.inbuf[pk.off : pk.off+pk.n : pk.off+pk.n]
}

// tidyInboundLocked reclaims the bytes of packets already read: all of inbuf
// once nothing unread is left (the buffer then goes back to the pool), or the
// read prefix once it is more than half of the buffer.
func (p *Peer) tidyInboundLocked() {
	if p.phead == len(p.packets) {
		p.packets = p.packets[:0]
		p.phead = 0
		if p.receiving {
			p.compactInboundLocked(p.curStart)
		} else {
			p.inbuf = p.inbuf[:0]
		}
	} else if first := p.packets[p.phead].off; first >= readBufSize && first > len(p.inbuf)/2 {
		p.compactInboundLocked(first)
	}
	p.releaseInboundLocked()
}

// compactInboundLocked moves inbuf's bytes from offset from to the front.
func (p *Peer) compactInboundLocked(from int) {
	if from == 0 {
		return
	}
	n := copy(p.inbuf, p.inbuf[from:])
	p.inbuf = p.inbuf[:n]
	for i := p.phead; i < len(p.packets); i++ {
		p.packets[i].off -= from
	}
	if p.receiving {
		p.curStart -= from
	}
}

// growInboundLocked makes room for extra more bytes in inbuf.
func (p *Peer) growInboundLocked(extra int) {
	if len(p.inbuf)+extra <= cap(p.inbuf) {
		return
	}
	if p.inbufp != nil && cap(p.inbuf) == readBufSize {
		// Leaving the small pool's buffer: copy out, then give it back.
		old, oldp := p.inbuf, p.inbufp
		p.inbuf = growBuf(append([]byte(nil), old...)[:len(old):len(old)], extra)
		putBuf(oldp, old)
		p.inbufp = nil
		return
	}
	p.inbuf = growBuf(p.inbuf, extra)
}

// releaseInboundLocked returns an empty inbound buffer to the pool.
func (p *Peer) releaseInboundLocked() {
	if p.inbuf != nil && len(p.inbuf) == 0 && !p.receiving {
		if p.inbufp != nil {
			putBuf(p.inbufp, p.inbuf)
		} else {
			putBig(p.inbuf)
		}
		p.inbuf, p.inbufp = nil, nil
	}
}

// unblockedLocked reports whether parsing stopped for lack of room that the
// application has since made by draining packets.
func (p *Peer) unblockedLocked() bool {
	return p.moreNow || p.parsePaused && len(p.packets)-p.phead < p.cfg.maxPackets && p.inboundRoomLocked() > 0 &&
		!p.controlBackloggedLocked()
}

// maxControlBacklog bounds the control frames (pongs, in practice) queued and
// not yet written before parsing stops: a ping flood from a peer that never
