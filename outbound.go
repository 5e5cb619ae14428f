//go:build !js

package wspeer

import (
	"fmt"

	"github.com/wspeer/wspeer/internal/proto"
)

// outbound is the peer's sending side: the frames queued and not yet
// written, and the budget of the data messages among them.
type outbound struct {
	wbuf     []byte // wbuf[woff:] is not written yet
	woff     int
	outMsgs  []outMsg
	outBytes int
	writeErr error
}

type outMsg struct {
	end  int // offset in wbuf just past the message's last byte
	size int
}

// send queues a data message: b, or s when b is nil.
func (p *Peer) send(text bool, b []byte, s string) error {
	op := proto.OpBinary
	if text {
		op = proto.OpText
	}
	if b == nil {
		b = []byte(s)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.sendLocked(op, b, true)
}

// sendBatch sends msgs (checked already) under one lock, writing once after
// the last.
func (p *Peer) sendBatch(msgs []Packet) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for i, m := range msgs {
		op := proto.OpBinary
		if m.Text {
			op = proto.OpText
		}
		if err := p.sendLocked(op, m.Data, i == len(msgs)-1); err != nil {
			if i > 0 {
				p.flushLocked()
			}
			return i, err
		}
	}
	return len(msgs), nil
}

// SendPrepared sends a prepared message, as Send would send its data, with
// the same errors; where the connection allows it, the frame bytes are the
// ones built once for every peer of the same kind.
func (p *Peer) SendPrepared(pm *PreparedMessage) error {
	op := proto.OpBinary
	if pm.text {
		op = proto.OpText
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.state != StateOpen || !p.core.CanSend() {
		return ErrNotOpen
	}
	key, ok := p.core.SharedFrameKey()
	if !ok {
		return p.sendLocked(op, pm.data, true)
	}
	// Built with this connection's engine the first time: the same key
	// means the same bytes for every other.
	frame, err := pm.frame(key, func() ([]byte, error) { return p.core.AppendMessage(nil, op, pm.data) })
	if err != nil {
		return fmt.Errorf("%w: %w", ErrNotOpen, err)
	}
	return p.sendFrameLocked(frame, len(pm.data))
}

// sendFrameLocked queues the bytes of a whole frame carrying size payload
// bytes, with the budget checks of sendLocked, and makes a write attempt.
func (p *Peer) sendFrameLocked(frame []byte, size int) error {
	if err := p.checkBudgetLocked(size); err != nil {
		return err
	}
	queued := p.woff < len(p.wbuf)
	p.takePendingLocked()
	p.wbuf = append(growBuf(p.wbuf, len(frame)), frame...)
	p.outMsgs = append(p.outMsgs, outMsg{end: len(p.wbuf), size: size})
	p.outBytes += size
	if !p.batching || p.phead == len(p.packets) {
		p.flushLocked()
	}
	if !queued && p.woff < len(p.wbuf) {
		p.tr.wake()
	}
	return nil
}

// checkBudgetLocked refuses a message of size bytes that cannot be queued.
func (p *Peer) checkBudgetLocked(size int) error {
	if size > p.cfg.outMax {
		return fmt.Errorf("%w: %d bytes, OutboundBufferSize %d", ErrTooLarge, size, p.cfg.outMax)
	}
	if len(p.outMsgs) >= p.cfg.maxPackets {
		return fmt.Errorf("%w: %d messages queued", ErrBufferFull, len(p.outMsgs))
	}
	if p.outBytes+size > p.cfg.outMax {
		return fmt.Errorf("%w: %d bytes queued, %d more would exceed %d", ErrBufferFull, p.outBytes, size, p.cfg.outMax)
	}
	return nil
}

// directSendMin is the size from which a message a server sends with nothing
// queued before it is written straight from the caller's buffer, after its
// header, in one vectored write: no copy into the write buffer.
const directSendMin = 2 << 10

// sendLocked queues msg after what is queued and, if last, makes one write
// attempt (unless the replies to a burst are being batched).
func (p *Peer) sendLocked(op proto.Opcode, msg []byte, last bool) error {
	if p.state != StateOpen || !p.core.CanSend() {
		return ErrNotOpen
	}
	if err := p.checkBudgetLocked(len(msg)); err != nil {
		return err
	}
	queued := p.woff < len(p.wbuf)
	// Control frames the engine produced go first, keeping frames whole.
	p.takePendingLocked()
	flush := last && (!p.batching || p.phead == len(p.packets))
	if flush && len(msg) >= directSendMin && p.woff == len(p.wbuf) && p.sendDirectLocked(op, msg) {
		return nil
	}
	if len(msg) > readBufSize {
		p.wbuf = growBuf(p.wbuf, len(msg)+proto.MaxHeaderSize)
	}
	wbuf, err := p.core.AppendMessage(p.wbuf, op, msg)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrNotOpen, err)
	}
	p.wbuf = wbuf
	p.outMsgs = append(p.outMsgs, outMsg{end: len(p.wbuf), size: len(msg)})
	p.outBytes += len(msg)
	if flush {
		p.flushLocked()
	}
	if !queued && p.woff < len(p.wbuf) {
		// Only the change to "has bytes to write" concerns a Wait in
		// progress (it must now also wait to write); the polling goroutine's
		// own sends that find bytes queued already cost nothing more.
		p.tr.wake()
	}
	return nil
}

// CurrentOutboundBufferedAmount returns the payload bytes of messages accepted
// by the send methods and not yet fully written.
func (p *Peer) CurrentOutboundBufferedAmount() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.outBytes
}

// reads its pongs would otherwise grow wbuf without limit.
const maxControlBacklog = 64 << 10

// controlBackloggedLocked reports whether more than maxControlBacklog bytes of
// control frames wait in wbuf. Data frames there are bounded by outBytes plus
// at most 14 header bytes each; the rest is control frames.
func (p *Peer) controlBackloggedLocked() bool {
	return len(p.wbuf)-p.woff-p.outBytes-14*len(p.outMsgs) > maxControlBacklog
}

// takePendingLocked moves the bytes the core produced (handshake, control
// frames) into the write buffer.
func (p *Peer) takePendingLocked() {
	if p.core != nil && p.core.Pending() {
		p.wbuf = p.core.AppendPending(p.wbuf)
	}
}

// flushLocked makes one write attempt of the queued bytes.
func (p *Peer) flushLocked() {
	if p.woff < len(p.wbuf) && p.writeErr == nil && p.tr != nil {
		p.writeQueuedLocked(p.tr.write)
	}
	p.accountWrittenLocked()
}

// writeQueuedLocked is the one place queued bytes are written, with write:
// the transport's own attempt (Poll, the senders) or the one a Wait that
// found the socket writable hands over. It reports whether the attempt would
// have blocked.
func (p *Peer) writeQueuedLocked(write func([]byte) (int, error)) (wouldBlock bool) {
	n, err := write(p.wbuf[p.woff:])
	p.woff += n
	switch {
	case err == errWouldBlock:
		return true
	case err != nil:
		p.writeErr = err
		if p.core != nil {
			p.core.WriteFailed(err)
		}
	}
	return false
}

// sendDirectLocked writes a message's header and payload in one vectored
// write, with nothing queued before it; what the socket does not take now is
// copied into the write buffer. It reports false when the transport or the
// connection cannot (a client masks, an extension transforms the payload).
func (p *Peer) sendDirectLocked(op proto.Opcode, msg []byte) bool {
	if p.tr == nil || !p.tr.canWritev() || p.writeErr != nil {
		return false
	}
	p.wbuf, p.woff = p.wbuf[:0], 0
	hdr, ok := p.core.AppendDirectHeader(p.wbuf, op, len(msg))
	if !ok {
		return false
	}
	n, err := p.tr.writev(hdr, msg)
	if err != nil && err != errWouldBlock {
		p.writeErr = err
		p.core.WriteFailed(err)
	}
	p.wbuf = hdr
	if n < len(hdr) {
		p.woff = n
		n = 0
	} else {
		p.woff = len(hdr)
		n -= len(hdr)
	}
	if n < len(msg) {
		p.wbuf = append(growBuf(p.wbuf, len(msg)-n), msg[n:]...)
		p.outMsgs = append(p.outMsgs, outMsg{end: len(p.wbuf), size: len(msg)})
		p.outBytes += len(msg)
		p.tr.wake() // the rest waits for the socket: a Wait in progress must know
	}
	p.accountWrittenLocked()
	return true
}

// dropOutboundLocked forgets what was queued: the connection is gone.
func (p *Peer) dropOutboundLocked() {
	p.wbuf, p.woff, p.outMsgs, p.outBytes = nil, 0, nil, 0
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
