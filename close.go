//go:build !js

package wspeer

// closeLocked queues the close frame of an OPEN peer after what is queued.
func (p *Peer) closeLocked(code int, reason string) error {
	if !p.core.CanSend() {
		return nil
	}
	p.takePendingLocked()
	_ = p.core.Close(code, reason, p.now())
	p.takePendingLocked()
	p.state = StateClosing
	p.flushLocked()
	p.tr.wake()
	return nil
}

// dropLocked does nothing natively: finishLocked closes the transport.
func (p *Peer) dropLocked() {}

// checkPlatformCloseCode accepts every code valid on the wire.
func checkPlatformCloseCode(int) error { return nil }
