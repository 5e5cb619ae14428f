//go:build !js

package wspeer

import (
	"crypto/tls"
	"errors"
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

// maxTurns bounds the turns of one Poll: a turn is repeated while the
// connection changes step (the 101 written, then the frames that came with
// the request; the close frames settled, then the server's TCP close).
const maxTurns = 3

func (p *Peer) pollLocked() {
	p.batching = false
	p.reclaimLentLocked()
	if p.state == StateClosed || (p.core == nil && !p.dialStepLocked()) {
		return
	}
	now := p.now()
	for range maxTurns {
		step := p.core.Step()
		p.turnLocked(now)
		// Parsing paused for the application (a close held back behind a
		// message, or no room) waits for the next Poll.
		if p.core == nil || p.core.Step() == step || p.parsePaused {
			return
		}
	}
}

// turnLocked is one turn of the connection core: timers, one read and the
// parsing of what is buffered, one write, then what they mean for the state.
func (p *Peer) turnLocked(now time.Time) {
	c := p.core
	c.Tick(now)
	if !c.Ended() && c.Reading() {
		p.readLocked()
		p.parseLocked(now)
		if p.readErr != nil && !p.parsePaused {
			// The end of input reaches the core only behind everything read
			// before it: a full queue that paused parsing must not turn the
			// last messages and a close frame into "connection lost".
			c.ReadFailed(p.readErr)
		}
	}
	p.takePendingLocked()
	p.flushLocked()
	if !c.Ended() {
		c.Settle(now, p.woff == len(p.wbuf))
	}
	p.syncLocked()
}

// syncLocked applies the core's state to the peer: the handshake's outcome
// once OPEN, the end once it is over.
func (p *Peer) syncLocked() {
	c := p.core
	if c.Ended() {
		r := c.Result()
		p.finishLocked(r.Code, r.Reason, resultError(r))
		return
	}
	st := State(c.State())
	if p.state == StateConnecting && st != StateConnecting {
		p.openedLocked(c.Handshake())
		c.ReleaseHandshake() // an open connection keeps no handshake state
		if p.woff == len(p.wbuf) {
			p.wbuf, p.woff = nil, 0 // nor the buffer the 101 went out in
		}
	}
	p.state = st
}

// readLocked makes one read attempt into the free end of rbuf.
func (p *Peer) readLocked() {
	if p.readErr != nil || p.tr == nil {
		return
	}
	if p.receiving && p.roff == p.rend {
		if rem := p.core.DirectPayload(); rem >= directReadMin {
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
	p.readFailedLocked(err)
	p.releaseReadBufLocked()
}

// readFailedLocked records a read attempt's error, if it is one. The core
// learns of it once every byte read before it has been parsed (see
// turnLocked): frames that came before the end still count.
func (p *Peer) readFailedLocked(err error) {
	if err != nil && err != errWouldBlock {
		p.readErr = err
	}
}

// Large payloads are read straight into the message's buffer, skipping the
// read buffer and a copy, in reads of up to maxDirectRead bytes.
const (
	directReadMin = 16 << 10
	maxDirectRead = 1 << 20
)

// readDirectLocked reads up to want payload bytes (of frameRest still to
// come) of the current frame into the free end of inbuf and hands them to the
// core, which unmasks them in place; receiveLocked then finds them already
// where they belong.
func (p *Peer) readDirectLocked(want, frameRest int) {
	if cap(p.inbuf)-len(p.inbuf) < want {
		// Room for the rest of the frame at once (within the budget), so a
		// large message is not copied by repeated growth.
		p.growInboundLocked(frameRest)
	}
	end := len(p.inbuf)
	n, err := p.tr.read(p.inbuf[end : end+want])
	p.readFailedLocked(err)
	if n == 0 {
		return
	}
	_, ev, perr := p.core.Parse(p.inbuf[end:end+n], p.inboundRoomLocked(), time.Time{})
	if perr == nil {
		p.receiveLocked(ev)
	}
}

// releaseReadBufLocked returns an empty read buffer to the pool.
func (p *Peer) releaseReadBufLocked() {
	if p.rbuf != nil && p.roff == p.rend {
		putBuf(p.rbufp, p.rbuf)
		p.rbuf, p.rbufp = nil, nil
		p.roff, p.rend = 0, 0
	}
}

// parseLocked hands the buffered bytes to the core, queuing complete
// messages while the packet queue and the inbound budget have room.
func (p *Peer) parseLocked(now time.Time) {
	c := p.core
	p.parsePaused, p.moreNow = false, false
	delivered := 0
	for p.roff < p.rend || c.Inflating() {
		// Pongs the remote does not read pile up in wbuf: past a bound, stop
		// reading its frames until they are written (backpressure). And one
		// Poll delivers a bounded slice of a huge (or hugely inflating)
		// message, so that one loop serving many peers stays fair.
		p.takePendingLocked()
		if delivered >= maxParsePerPoll {
			p.parsePaused, p.moreNow = true, true
			break
		}
		if len(p.packets)-p.phead >= p.cfg.maxPackets || p.controlBackloggedLocked() {
			p.parsePaused = true
			break
		}
		room := p.inboundRoomLocked()
		n, ev, err := c.Parse(p.rbuf[p.roff:p.rend], room, now)
		p.roff += n
		if err != nil {
			p.roff = p.rend
			break
		}
		switch ev.Kind {
		case proto.EventHold:
			// The next Poll, at once, goes on.
			p.parsePaused, p.moreNow = true, true
			p.releaseReadBufLocked()
			return
		case proto.EventNone:
			if n == 0 {
				// A partial frame, no room for its payload, or a step that
				// reads no more input.
				p.parsePaused = room == 0 && c.Step() == proto.StepOpen
				p.releaseReadBufLocked()
				return
			}
		case proto.EventData:
			p.receiveLocked(ev)
			delivered += len(ev.Data)
		}
	}
	p.releaseReadBufLocked()
}

// maxParsePerPoll bounds the payload bytes one Poll delivers; the next Poll
// (at once: Wait sees moreNow) goes on.
const maxParsePerPoll = 256 << 10

// finishLocked makes the peer CLOSED: the transport is closed and its buffers
// released; unread packets stay readable.
func (p *Peer) finishLocked(code int, reason string, err error) {
	p.closeLinkLocked()
	if p.state == StateClosed {
		return
	}
	p.state = StateClosed
	p.closeCode, p.closeReason, p.closeErr = code, reason, err
	p.core = nil
	p.request = nil
	if p.rbuf != nil {
		p.roff = p.rend
		p.releaseReadBufLocked()
	}
	p.dropOutboundLocked()
	if p.receiving {
		p.inbuf = p.inbuf[:p.curStart] // an incomplete message is lost with the connection
		p.receiving = false
	}
}

// resultError turns how the core says a connection ended into the error
// CloseError reports, wrapping this package's sentinels.
func resultError(r proto.Result) error {
	switch r.Kind {
	case proto.EndClean:
		return nil
	case proto.EndProtocol:
		return newCloseError(ErrProtocol, "", r.Err)
	case proto.EndLost:
		return newCloseError(ErrConnectionLost, lostDetail(r.Detail), r.Err)
	case proto.EndHandshake:
		return handshakeError(r)
	case proto.EndHandshakeTimeout:
		return newCloseError(ErrHandshakeTimeout, "", nil)
	case proto.EndCloseTimeout, proto.EndHeartbeat:
		return r.Err // ErrCloseTimeout, ErrHeartbeatTimeout
	case proto.EndDropped:
		return newCloseError(ErrDropped, r.Detail, nil)
	}
	return nil
}

func lostDetail(d string) string {
	if d == proto.DetailLost {
		return ""
	}
	return d
}

// handshakeError classifies a failed opening handshake.
func handshakeError(r proto.Result) error {
	var rerr tls.RecordHeaderError
	switch {
	case r.Detail == proto.DetailLost:
		return newCloseError(ErrHandshake, r.Detail, newCloseError(ErrConnectionLost, "during the opening handshake", r.Err))
	case errors.As(r.Err, &rerr):
		return newCloseError(ErrHandshake, "TLS", r.Err)
	}
	return newCloseError(ErrHandshake, r.Detail, r.Err)
}
