//go:build !js

package wspeer

import (
	"fmt"
	"unicode/utf8"

	"github.com/wspeer/wspeer/internal/proto"
)

// AvailablePacketCount returns the number of complete inbound messages queued.
// Messages that arrived before a close stay readable in CLOSING and CLOSED
// until drained (unlike Godot, which hides them once the state leaves OPEN).
func (p *Peer) AvailablePacketCount() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.packets) - p.phead
}

// GetPacket returns the next inbound message, all fragments joined, and
// records its type for WasStringPacket. It returns ErrNoPacket when none is
// queued, in any state. The returned slice belongs to the caller.
func (p *Peer) GetPacket() ([]byte, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.phead == len(p.packets) {
		return nil, ErrNoPacket
	}
	p.draining = true
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
	if p.phead == len(p.packets) {
		return dst, ErrNoPacket
	}
	p.draining = true
	dst = append(dst, p.popPacketLocked()...)
	p.tidyInboundLocked()
	return dst, nil
}

// WasStringPacket reports whether the last packet returned by GetPacket was a
// text message.
func (p *Peer) WasStringPacket() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.lastString
}

// Send queues msg as one text or binary message and makes one write attempt;
// Poll writes what is left. While the application is draining received
// packets (it has read one since the last Poll and more are waiting), the
// attempt is left to the send that follows the last of them (or to Poll), so
// that the replies to a burst go out in one system call. It fails with ErrNotOpen unless OPEN, with
// ErrInvalidUTF8 for text that is not UTF-8, with ErrTooLarge when msg alone
// is larger than OutboundBufferSize (it can never be sent), and with
// ErrBufferFull when the queued messages leave no room for it now
// (OutboundBufferSize or MaxQueuedPackets; retry after Poll has written some).
// Nothing is queued on an error. An empty msg sends an empty message. Concurrent sends each
// stay whole.
func (p *Peer) Send(msg []byte, mode WriteMode) error {
	var op proto.Opcode
	switch mode {
	case WriteModeText:
		op = proto.OpText
		if !utf8.Valid(msg) {
			return ErrInvalidUTF8
		}
	case WriteModeBinary:
		op = proto.OpBinary
	default:
		return fmt.Errorf("%w: write mode %d", ErrInvalidParameter, mode)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.sendLocked(op, msg)
}

// SendText sends s as a text message (see Send).
func (p *Peer) SendText(s string) error {
	if !utf8.ValidString(s) {
		return ErrInvalidUTF8
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.sendLocked(proto.OpText, []byte(s))
}

// PutPacket sends b as a binary message (see Send). As in Godot, an empty b
// sends nothing and returns nil.
func (p *Peer) PutPacket(b []byte) error {
	if len(b) == 0 {
		return nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.sendLocked(proto.OpBinary, b)
}

func (p *Peer) sendLocked(op proto.Opcode, msg []byte) error {
	if p.state != StateOpen || p.eng.CloseSent() {
		return ErrNotOpen
	}
	if len(msg) > p.cfg.outMax {
		return fmt.Errorf("%w: %d bytes, OutboundBufferSize %d", ErrTooLarge, len(msg), p.cfg.outMax)
	}
	if len(p.outMsgs) >= p.cfg.maxPackets {
		return fmt.Errorf("%w: %d messages queued", ErrBufferFull, len(p.outMsgs))
	}
	if p.outBytes+len(msg) > p.cfg.outMax {
		return fmt.Errorf("%w: %d bytes queued, %d more would exceed %d", ErrBufferFull, p.outBytes, len(msg), p.cfg.outMax)
	}
	// Control frames the engine produced go first, keeping frames whole.
	p.takePendingLocked()
	if len(msg) > readBufSize {
		p.wbuf = growBuf(p.wbuf, len(msg)+proto.MaxHeaderSize)
	}
	wbuf, err := p.eng.AppendMessage(p.wbuf, op, msg)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrNotOpen, err)
	}
	p.wbuf = wbuf
	p.outMsgs = append(p.outMsgs, outMsg{end: len(p.wbuf), size: len(msg)})
	p.outBytes += len(msg)
	if !p.draining || p.phead == len(p.packets) {
		p.flushLocked()
	}
	if p.woff < len(p.wbuf) {
		p.tr.wake() // a Wait in progress must now also wait to write
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

// Close starts the closing handshake with code and reason: messages queued
// before it are sent first, then the close frame; Poll completes the handshake
// within CloseTimeout. code must be valid to send (1000-1003, 1007-1014,
// 3000-4999) and reason at most 123 bytes of UTF-8: otherwise Close returns
// ErrInvalidParameter and changes nothing. A negative code drops the connection
// at once without a close frame, keeping CloseCode; Close while CONNECTING does
// the same with CloseCode -1. Close on a CLOSING or CLOSED peer does nothing.
func (p *Peer) Close(code int, reason string) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if code < 0 {
		if p.state != StateClosed {
			p.finishLocked(p.closeCode, p.closeReason, newCloseError(ErrDropped, "", nil))
		}
		return nil
	}
	if code == proto.CloseNoStatus {
		return fmt.Errorf("%w: close code 1005 may not be sent", ErrInvalidParameter)
	}
	if err := proto.CheckClose(code, reason); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidParameter, err)
	}
	switch p.state {
	case StateConnecting:
		p.finishLocked(-1, "", newCloseError(ErrDropped, "closed while connecting", nil))
	case StateOpen:
		if p.eng.CloseSent() {
			return nil
		}
		p.takePendingLocked()
		_ = p.eng.Close(code, reason, p.now())
		p.takePendingLocked()
		p.state = StateClosing
		p.flushLocked()
		p.tr.wake()
	}
	return nil
}
