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
	in := p.interestLocked()
	switch {
	case in.closed:
		p.mu.Unlock()
		return ErrClosed
	case in.ready:
		p.mu.Unlock()
		return nil // Poll has a state change to make
	case in.dial != nil:
		done := in.dial.done
		p.mu.Unlock()
		return idleUntil(ctx, in.deadline, done, nil)
	}
	tr := p.tr
	var fl flusher
	if in.write {
		fl = func(write func([]byte) (int, error)) bool { return p.flushFromWait(tr, write) }
	}
	p.mu.Unlock()
	return tr.wait(ctx, in.read, fl, in.deadline)
}

// interest is what Poll is waiting for: the one answer Wait and the Poller
// both act on.
type interest struct {
	closed      bool      // CLOSED: nothing to wait for
	ready       bool      // Poll has work now
	dial        *dialing  // dialing: wait for it to end
	read, write bool      // wait for the transport to be readable, writable
	deadline    time.Time // a timer Poll must run at, or zero
}

// interestLocked says what Poll is waiting for.
func (p *Peer) interestLocked() interest {
	if p.state == StateClosed {
		return interest{closed: true}
	}
	if p.core == nil {
		return interest{dial: p.dial}
	}
	in := interest{deadline: p.core.NextDeadline()}
	// Read while there is room to read into, even with a full packet queue:
	// the read buffer then fills and reading stops by itself. The interest is
	// said even when Poll has work now: a Poller keeps its registration.
	in.read = p.readErr == nil && (p.rbuf == nil || p.rend < len(p.rbuf) || p.roff > 0)
	in.write = p.woff < len(p.wbuf)
	in.ready = (!in.deadline.IsZero() && !p.now().Before(in.deadline)) ||
		p.core.TransportFailed() || p.core.Pending() || p.unblockedLocked()
	return in
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
	return !p.writeQueuedLocked(write)
}
