//go:build !js

package wspeer

import (
	"context"
	"time"
)

// Wait blocks until Poll has something to do — bytes to read, room to write
// queued bytes, a timer due (handshake, heartbeat, close), the dial finished —
// or ctx ends, and returns ctx's error in that case. It parks on the runtime's
// network poller: no busy loop, no sleeping. Once the peer is CLOSED it returns
// ErrClosed, so that
//
//	for p.Wait(ctx) == nil {
//		p.Poll()
//		// drain packets, send...
//	}
//
// is a complete connection loop. Sends and Close from other goroutines wake it.
// A spurious return is possible; Poll then simply finds nothing to do.
func (p *Peer) Wait(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	p.mu.Lock()
	if p.state == StateClosed {
		p.mu.Unlock()
		return ErrClosed
	}
	deadline := p.deadlineLocked()
	if !deadline.IsZero() && !p.now().Before(deadline) {
		p.mu.Unlock()
		return nil
	}
	if p.readErr != nil || p.writeErr != nil || (p.eng != nil && p.eng.Pending()) || p.unblockedLocked() {
		p.mu.Unlock()
		return nil // Poll has a state change to make
	}
	if p.phase == phaseDial {
		done := p.dial.done
		p.mu.Unlock()
		return idleUntil(ctx, deadline, done, nil)
	}
	tr := p.tr
	// Read while there is room to read into, even with a full packet queue:
	// the read buffer then fills and reading stops by itself.
	wantRead := p.rbuf == nil || p.rend < len(p.rbuf) || p.roff > 0
	var fl flusher
	if p.woff < len(p.wbuf) {
		fl = func(write func([]byte) (int, error)) bool { return p.flushFromWait(tr, write) }
	}
	p.mu.Unlock()
	return tr.wait(ctx, wantRead, fl, deadline)
}

// flushFromWait writes queued bytes for a Wait that found the transport
// writable; the budget accounting is left to the next Poll. It never blocks on
// the peer's lock: if Poll or a send holds it, the wait ends and Poll follows.
func (p *Peer) flushFromWait(tr transport, write func([]byte) (int, error)) bool {
	if !p.mu.TryLock() {
		return true
	}
	defer p.mu.Unlock()
	if p.tr != tr || p.woff == len(p.wbuf) || p.writeErr != nil {
		return true
	}
	n, err := write(p.wbuf[p.woff:])
	p.woff += n
	if err == errWouldBlock {
		return false
	}
	if err != nil {
		p.writeErr = err
	}
	return true
}

// deadlineLocked returns the earliest timer Poll must run at, or zero.
func (p *Peer) deadlineLocked() time.Time {
	d := p.deadline
	if p.eng != nil && p.phase == phaseNone {
		if e := p.eng.NextDeadline(); !e.IsZero() && (d.IsZero() || e.Before(d)) {
			d = e
		}
	}
	return d
}
