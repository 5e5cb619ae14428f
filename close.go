//go:build !js

package wspeer

import (
	"fmt"

	"github.com/wspeer/wspeer/internal/proto"
)

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
		p.finishLocked(-1, "", newCloseError(ErrDropped, proto.DetailConnecting, nil))
	case StateOpen:
		if !p.core.CanSend() {
			return nil
		}
		p.takePendingLocked()
		_ = p.core.Close(code, reason, p.now())
		p.takePendingLocked()
		p.state = StateClosing
		p.flushLocked()
		p.tr.wake()
	}
	return nil
}
