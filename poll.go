//go:build !js

package wspeer

import (
	"errors"
	"io"
	"time"

	"github.com/wspeer/wspeer/internal/proto"
)

// Poll does the connection's pending work without blocking: it advances the
// opening handshake, runs the timers, reads once from the transport and
// processes every frame read, and writes once what is queued. All state
// changes happen here (or in the calls that start or end a connection).
func (p *Peer) Poll() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.pollLocked()
}

func (p *Peer) pollLocked() {
	p.draining = false
	now := p.now()
	switch p.state {
	case StateClosed:
		return
	case StateConnecting:
		if !p.connectingStep(now) {
			return
		}
	}
	p.openStep(now)
}

// openStep is Poll for OPEN and CLOSING peers.
func (p *Peer) openStep(now time.Time) {
	if p.phase == phaseFlush || p.phase == phaseAwaitEOF {
		p.endingStep(now)
		return
	}
	if err := p.eng.Tick(now); err != nil {
		p.takePendingLocked()
		p.flushLocked()
		p.finishLocked(-1, "", err)
		return
	}
	p.readLocked()
	p.parseLocked()
	p.takePendingLocked()
	p.flushLocked()
	p.afterIOLocked(now)
}

// afterIOLocked applies what the last I/O and parsing mean for the state.
func (p *Peer) afterIOLocked(now time.Time) {
	switch {
	case p.protoErr != nil:
		// We detected a violation and queued its close frame: like Godot, end
		// once that frame is written, without waiting for an answer.
		var pe *proto.ProtocolError
		errors.As(p.protoErr, &pe)
		p.startEndingLocked(pe.Code, pe.Reason, newCloseError(ErrProtocol, "", p.protoErr), now)
	case p.eng.Err() != nil:
		p.finishLocked(-1, "", newCloseError(ErrConnectionLost, "masking keys unavailable", p.eng.Err()))
	case p.eng.CloseReceived() && p.eng.CloseSent():
		p.startEndingLocked(p.recvCode, p.recvReason, nil, now)
	case p.readErr != nil:
		p.lostLocked(p.readErr)
	case p.writeErr != nil:
		p.lostLocked(p.writeErr)
	case p.eng.CloseSent() || p.eng.CloseReceived():
		p.state = StateClosing
	}
}

// lostLocked ends a connection whose transport failed before the closing
// handshake finished.
func (p *Peer) lostLocked(err error) {
	if errors.Is(err, io.EOF) {
		err = io.ErrUnexpectedEOF
	}
	code, reason := -1, ""
	if p.recvClose {
		code, reason = p.recvCode, p.recvReason
	}
	p.finishLocked(code, reason, newCloseError(ErrConnectionLost, "", err))
}

// startEndingLocked begins the end of a connection whose close frames are
// settled: flush what is queued, then close TCP (a server at once; a client
// first waits, bounded, for the server to close, as RFC 6455 section 7.1.1 asks).
func (p *Peer) startEndingLocked(code int, reason string, err error, now time.Time) {
	p.state = StateClosing
	p.closeCode, p.closeReason, p.closeErr = code, reason, err
	p.phase = phaseFlush
	p.deadline = now.Add(p.cfg.closeTimeout)
	p.endingStep(now)
}

func (p *Peer) endingStep(now time.Time) {
	if p.phase == phaseFlush {
		p.flushLocked()
		switch {
		case p.writeErr != nil:
			p.finishLocked(p.closeCode, p.closeReason, p.closeErr)
			return
		case p.woff < len(p.wbuf):
			if !now.Before(p.deadline) {
				p.finishLocked(p.closeCode, p.closeReason, p.closeErr)
			}
			return
		}
		if p.role == proto.RoleServer || p.closeErr != nil {
			p.finishLocked(p.closeCode, p.closeReason, p.closeErr)
			return
		}
		p.phase = phaseAwaitEOF
		if d := now.Add(time.Second); d.Before(p.deadline) {
			p.deadline = d
		}
	}
	// Client: discard anything more until the server closes TCP.
	p.readLocked()
	p.roff, p.rend = 0, 0
	if p.readErr != nil || !now.Before(p.deadline) {
		p.finishLocked(p.closeCode, p.closeReason, p.closeErr)
	}
}

// readLocked makes one read attempt into the free end of rbuf.
func (p *Peer) readLocked() {
	if p.readErr != nil || p.tr == nil {
		return
	}
	if p.receiving && p.roff == p.rend && p.eng != nil {
		if rem := p.eng.DirectPayload(); rem >= directReadMin {
			room := int64(p.inboundRoomLocked())
			if want := int(min(rem, room, maxDirectRead)); want >= directReadMin {
				p.readDirectLocked(want, int(min(rem, room)))
				return
			}
		}
	}
	if p.rbuf == nil {
		p.rbufp = getBuf()
		p.rbuf = *p.rbufp
		p.roff, p.rend = 0, 0
	}
	if p.roff > 0 && (p.rend == len(p.rbuf) || p.roff == p.rend) {
		p.rend = copy(p.rbuf, p.rbuf[p.roff:p.rend])
		p.roff = 0
	}
	if p.rend == len(p.rbuf) {
		return // full: backpressure until the application drains packets
	}
	n, err := p.tr.read(p.rbuf[p.rend:])
	p.rend += n
	if err != nil && err != errWouldBlock {
		p.readErr = err
	}
	p.releaseReadBufLocked()
}

// Large payloads are read straight into the message's buffer, skipping the
// read buffer and a copy, in reads of up to maxDirectRead bytes.
const (
	directReadMin = 16 << 10
	maxDirectRead = 1 << 20
)

// readDirectLocked reads up to want payload bytes (of frameRest still to
// come) of the current frame into
// the free end of inbuf and hands them to the engine, which unmasks them in
// place; receiveLocked then finds them already where they belong.
func (p *Peer) readDirectLocked(want, frameRest int) {
	if cap(p.inbuf)-len(p.inbuf) < want {
		// Room for the rest of the frame at once (within the budget), so a
		// large message is not copied by repeated growth.
		p.growInboundLocked(frameRest)
	}
	end := len(p.inbuf)
	n, err := p.tr.read(p.inbuf[end : end+want])
	if err != nil && err != errWouldBlock {
		p.readErr = err
	}
	if n == 0 {
		return
	}
	_, ev, perr := p.eng.Parse(p.inbuf[end:end+n], p.inboundRoomLocked())
	if perr != nil {
		p.protoErr = perr
		return
	}
	p.receiveLocked(ev)
}

// releaseReadBufLocked returns an empty read buffer to the pool.
func (p *Peer) releaseReadBufLocked() {
	if p.rbuf != nil && p.roff == p.rend {
		putBuf(p.rbufp, p.rbuf)
		p.rbuf, p.rbufp = nil, nil
		p.roff, p.rend = 0, 0
	}
}

// parseLocked runs the engine over the buffered bytes, queuing complete
// messages while the packet queue and the inbound budget have room.
func (p *Peer) parseLocked() {
	p.blocked = false
	delivered := false // a message was completed in this call
	for p.roff < p.rend || p.eng.Inflating() {
		// Pongs the remote does not read pile up in wbuf: past a bound, stop
		// reading its frames until they are written (backpressure).
		p.takePendingLocked()
		if len(p.packets)-p.phead >= p.cfg.maxPackets || p.controlBackloggedLocked() {
			p.blocked = true
			break
		}
		if delivered && p.eng.EndsAt(p.rbuf[p.roff:p.rend]) {
			// A close frame or a violation follows a message completed in
			// this Poll: stop before it, so that the application can still
			// answer that message (Autobahn 3.2, 4.1.3, 5.15, 7.1.1). The
			// next Poll, at once (Wait sees blocked with room), ends.
			p.blocked = true
			break
		}
		room := p.inboundRoomLocked()
		n, ev, err := p.eng.Parse(p.rbuf[p.roff:p.rend], room)
		p.roff += n
		if err != nil {
			p.protoErr = err
			p.roff = p.rend
			break
		}
		switch ev.Kind {
		case proto.EventNone:
			if n == 0 {
				// Either a partial frame or no room for its payload.
				p.blocked = room == 0
				p.releaseReadBufLocked()
				return
			}
		case proto.EventData:
			p.receiveLocked(ev)
			delivered = delivered || ev.Fin
		case proto.EventClose:
			p.recvClose = true
			p.recvCode, p.recvReason = ev.Code, ev.Reason
		}
	}
	p.releaseReadBufLocked()
}

// receiveLocked stores a chunk of an inbound message. Unread packets and the
// message being assembled share one buffer, inbuf: packets are offsets into
// it, so a burst of small messages costs no allocation per message.
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
	return p.blocked && len(p.packets)-p.phead < p.cfg.maxPackets && p.inboundRoomLocked() > 0 &&
		!p.controlBackloggedLocked()
}

// maxControlBacklog bounds the control frames (pongs, in practice) queued and
// not yet written before parsing stops: a ping flood from a peer that never
// reads its pongs would otherwise grow wbuf without limit.
const maxControlBacklog = 64 << 10

// controlBackloggedLocked reports whether more than maxControlBacklog bytes of
// control frames wait in wbuf. Data frames there are bounded by outBytes plus
// at most 14 header bytes each; the rest is control frames.
func (p *Peer) controlBackloggedLocked() bool {
	return len(p.wbuf)-p.woff-p.outBytes-14*len(p.outMsgs) > maxControlBacklog
}

// takePendingLocked moves the engine's control frames into the write buffer.
func (p *Peer) takePendingLocked() {
	if p.eng != nil && p.eng.Pending() {
		p.wbuf = p.eng.AppendPending(p.wbuf)
	}
}

// flushLocked makes one write attempt of the queued bytes.
func (p *Peer) flushLocked() {
	if p.woff < len(p.wbuf) && p.writeErr == nil && p.tr != nil {
		n, err := p.tr.write(p.wbuf[p.woff:])
		p.woff += n
		if err != nil && err != errWouldBlock {
			p.writeErr = err
		}
	}
	p.accountWrittenLocked()
}

// accountWrittenLocked releases the budget of fully written messages and
// reclaims the written part of the write buffer.
func (p *Peer) accountWrittenLocked() {
	i := 0
	for i < len(p.outMsgs) && p.outMsgs[i].end <= p.woff {
		p.outBytes -= p.outMsgs[i].size
		i++
	}
	if i > 0 {
		p.outMsgs = append(p.outMsgs[:0], p.outMsgs[i:]...)
	}
	switch {
	case p.woff == len(p.wbuf):
		p.woff = 0
		p.wbuf = p.wbuf[:0]
		if cap(p.wbuf) > 4*readBufSize {
			putBig(p.wbuf) // do not keep a burst's buffer on an idle peer
			p.wbuf = nil
		}
	case p.woff >= readBufSize && p.woff >= len(p.wbuf)/2:
		n := copy(p.wbuf, p.wbuf[p.woff:])
		p.wbuf = p.wbuf[:n]
		for j := range p.outMsgs {
			p.outMsgs[j].end -= p.woff
		}
		p.woff = 0
	}
}

// finishLocked makes the peer CLOSED: the transport is closed and its buffers
// released; unread packets stay readable.
func (p *Peer) finishLocked(code int, reason string, err error) {
	if p.dial != nil {
		p.dial.abandon()
		p.dial = nil
	}
	if p.tr != nil {
		p.tr.close()
		p.tr = nil
	} else if p.conn != nil {
		p.conn.Close()
	}
	if p.state == StateClosed {
		return
	}
	p.state = StateClosed
	p.closeCode, p.closeReason, p.closeErr = code, reason, err
	p.conn = nil
	if p.eng != nil {
		p.eng.Release() // pooled extension resources
	}
	p.eng = nil
	p.phase = phaseNone
	if p.rbuf != nil {
		p.roff = p.rend
		p.releaseReadBufLocked()
	}
	p.wbuf, p.woff, p.outMsgs, p.outBytes = nil, 0, nil, 0
	if p.receiving {
		p.inbuf = p.inbuf[:p.curStart] // an incomplete message is lost with the connection
		p.receiving = false
	}
	p.request = nil
	p.hs = proto.HeadReader{}
}
