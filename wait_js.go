package wspeer

// Poll, Wait, packets, sending and closing for the browser build. The browser
// does the I/O on its own; Poll applies what its event handlers queued, so
// state changes stay where the native build has them.

import (
	"context"
	"fmt"
	"net"
	"syscall/js"
	"time"

	"github.com/wspeer/wspeer/internal/proto"
)

// Poll applies what the browser reported since the last call — the socket
// opened, messages arrived, it closed — and runs the connect and close
// timeouts. It never blocks. Unlike Godot's Web build, where the browser's
// callbacks change the state at any moment, the state changes only here (and
// in the calls that start or end a connection).
func (p *Peer) Poll() {
	p.mu.Lock()
	defer p.mu.Unlock()
	events := p.events
	p.events = nil
	for i, ev := range events {
		if p.state == StateClosed {
			break // a failure already ended the connection
		}
		switch ev.kind {
		case evOpen:
			if p.state == StateConnecting {
				p.state = StateOpen
				p.protocol = ev.reason
				p.deadline = time.Time{}
			}
		case evMessage:
			p.inCount--
			p.packets = append(p.packets, webPacket{data: ev.data, text: ev.text})
		case evClose:
			p.closedLocked(ev)
		case evFail:
			p.dropLocked()
			p.finishLocked(ev.code, ev.reason, ev.err)
		}
		events[i] = webEvent{}
	}
	if p.deadline.IsZero() || p.now().Before(p.deadline) {
		return
	}
	switch p.state {
	case StateConnecting:
		p.dropLocked()
		p.finishLocked(-1, "", newCloseError(ErrHandshakeTimeout, "the browser did not open the connection in time", nil))
	case StateClosing:
		p.dropLocked()
		p.finishLocked(-1, "", newCloseError(ErrCloseTimeout, "", nil))
	}
}

// closedLocked applies the browser's close event. Its 1006 (no clean close)
// becomes -1 with a CloseError, as in the native build.
func (p *Peer) closedLocked(ev webEvent) {
	p.sock = nil
	switch {
	case p.state == StateConnecting:
		// The browser hides the cause (DNS, refused, TLS, HTTP status), so
		// the error matches both sentinels a native failure might.
		p.finishLocked(-1, "", newCloseError(ErrDial,
			fmt.Sprintf("the browser could not connect (code %d); it does not tell whether the connection, TLS or the opening handshake failed", ev.code),
			ErrHandshake))
	case ev.clean && ev.code != proto.CloseAbnormal:
		p.finishLocked(ev.code, ev.reason, nil)
	default:
		p.finishLocked(-1, "", newCloseError(ErrConnectionLost, fmt.Sprintf("browser close code %d", ev.code), nil))
	}
}

// finishLocked makes the peer CLOSED. Messages that arrived stay readable,
// including ones Poll has not applied yet.
func (p *Peer) finishLocked(code int, reason string, err error) {
	for _, ev := range p.events {
		if ev.kind == evMessage {
			p.packets = append(p.packets, webPacket{data: ev.data, text: ev.text})
		}
	}
	p.events, p.inCount = nil, 0
	p.state = StateClosed
	p.closeCode, p.closeReason, p.closeErr = code, reason, err
	p.deadline = time.Time{}
	p.wakeLocked()
}

// Wait blocks until Poll has something to do — the browser reported an event,
// or the connect or close timeout is due — or ctx ends, and returns ctx's error
// in that case. It is event-driven: the goroutine parks and the browser's
// event loop runs until a socket handler, a send, Close or the timer wakes it.
// Once the peer is CLOSED it returns ErrClosed, so that
//
//	for p.Wait(ctx) == nil {
//		p.Poll()
//		// drain packets, send...
//	}
//
// is a complete connection loop. A spurious return is possible; Poll then
// simply finds nothing to do. In the browser, never block the main goroutine
// of a program in anything but such a loop: JavaScript runs only while every
// goroutine waits.
func (p *Peer) Wait(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	p.mu.Lock()
	if p.state == StateClosed {
		p.mu.Unlock()
		return ErrClosed
	}
	deadline := p.deadline
	if len(p.events) > 0 || (!deadline.IsZero() && !p.now().Before(deadline)) {
		p.mu.Unlock()
		return nil
	}
	if p.wakeCh == nil {
		p.wakeCh = make(chan struct{})
	}
	wake := p.wakeCh
	p.mu.Unlock()
	return idleUntil(ctx, deadline, wake, nil)
}

// GetPacket returns the next inbound message and records its type for
// WasStringPacket. It returns ErrNoPacket when none is queued, in any state.
// The returned slice belongs to the caller.
func (p *Peer) GetPacket() ([]byte, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.phead == len(p.packets) {
		return nil, ErrNoPacket
	}
	return p.popPacketLocked(), nil
}

// AppendPacket appends the next inbound message to dst and returns the
// extended slice, like GetPacket; it returns dst and ErrNoPacket when none is
// queued. In the browser each message already has a buffer of its own (the
// copy out of JavaScript), so this saves nothing over GetPacket; it is here so
// that code written for the native build compiles unchanged.
func (p *Peer) AppendPacket(dst []byte) ([]byte, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.phead == len(p.packets) {
		return dst, ErrNoPacket
	}
	return append(dst, p.popPacketLocked()...), nil
}

// TakePackets appends every queued message to dst, with its type (see the
// native build's doc). In the browser each message already has a buffer of
// its own, which the caller keeps.
func (p *Peer) TakePackets(dst []Packet) []Packet {
	p.mu.Lock()
	defer p.mu.Unlock()
	for p.phead < len(p.packets) {
		text := p.packets[p.phead].text
		dst = append(dst, Packet{Data: p.popPacketLocked(), Text: text})
	}
	return dst
}

// SendPrepared sends a prepared message as Send would: the browser frames
// and compresses every message itself.
func (p *Peer) SendPrepared(pm *PreparedMessage) error {
	return p.send(pm.text, pm.data, "")
}

// sendBatch hands msgs to the browser one by one.
func (p *Peer) sendBatch(msgs []Packet) (int, error) {
	for i, m := range msgs {
		if err := p.send(m.Text, m.Data, ""); err != nil {
			return i, err
		}
	}
	return len(msgs), nil
}

// popPacketLocked removes the next packet from the queue.
func (p *Peer) popPacketLocked() []byte {
	pk := p.packets[p.phead]
	p.packets[p.phead] = webPacket{}
	p.phead++
	if p.phead == len(p.packets) {
		p.packets, p.phead = p.packets[:0], 0
	}
	p.inBytes -= len(pk.data)
	p.lastString = pk.text
	return pk.data
}

// send hands a data message to the browser: b, or s when b is nil. The
// budget is the native build's rule, where Godot's Web build fails already
// at equality.
func (p *Peer) send(text bool, b []byte, s string) error {
	if !text {
		return p.sendJS(b, len(b), false)
	}
	if b != nil {
		s = string(b)
	}
	return p.sendJS(s, len(s), true)
}

// sendJS checks the state and the budget and calls the socket's send with a
// JS string (text) or a Uint8Array (binary); msg is a string or a []byte.
func (p *Peer) sendJS(msg any, n int, text bool) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.state != StateOpen || p.sock == nil || p.sock.detached || p.sock.ws.Get("readyState").Int() != 1 {
		return ErrNotOpen
	}
	ws := p.sock.ws
	if n > p.cfg.outMax {
		return fmt.Errorf("%w: %d bytes, OutboundBufferSize %d", ErrTooLarge, n, p.cfg.outMax)
	}
	queued := ws.Get("bufferedAmount").Int()
	if queued+n > p.cfg.outMax {
		return fmt.Errorf("%w: %d bytes queued, %d more would exceed %d", ErrBufferFull, queued, n, p.cfg.outMax)
	}
	var arg js.Value
	if text {
		arg = js.ValueOf(msg.(string))
	} else {
		arg = js.Global().Get("Uint8Array").New(n)
		js.CopyBytesToJS(arg, msg.([]byte))
	}
	if err := jsTry(func() { ws.Call("send", arg) }); err != nil {
		return fmt.Errorf("%w: %w", ErrNotOpen, err)
	}
	return nil
}

// CurrentOutboundBufferedAmount returns the browser's bufferedAmount: payload
// bytes handed to the socket and not yet transmitted. It is 0 once CLOSED.
func (p *Peer) CurrentOutboundBufferedAmount() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.state == StateClosed || p.sock == nil {
		return 0
	}
	return p.sock.ws.Get("bufferedAmount").Int()
}

// checkPlatformCloseCode refuses the codes a browser does not let scripts send.
func checkPlatformCloseCode(code int) error {
	if code != proto.CloseNormal && (code < 3000 || code > 4999) {
		return fmt.Errorf("%w: close code %d: browsers send only 1000 and 3000-4999 (%w)", ErrInvalidParameter, code, ErrUnsupported)
	}
	return nil
}

// closeLocked asks the browser to close an OPEN socket.
func (p *Peer) closeLocked(code int, reason string) error {
	if p.sock != nil && !p.sock.detached {
		ws := p.sock.ws
		if err := jsTry(func() { ws.Call("close", code, reason) }); err != nil {
			return fmt.Errorf("%w: %w", ErrInvalidParameter, err)
		}
	}
	p.state = StateClosing
	p.deadline = p.now().Add(p.cfg.closeTimeout)
	p.wakeLocked()
	return nil
}

// AcceptStream returns ErrUnsupported: a browser cannot accept connections
// (Godot's Web build returns ERR_UNAVAILABLE). conn, if not nil, is closed, as
// the native build owns it even on error.
func (p *Peer) AcceptStream(conn net.Conn) error {
	if conn != nil {
		conn.Close()
	}
	return fmt.Errorf("%w: AcceptStream in the browser", ErrUnsupported)
}

// SetNoDelay returns ErrUnsupported: the browser does not expose its socket.
func (p *Peer) SetNoDelay(enabled bool) error {
	return fmt.Errorf("%w: SetNoDelay in the browser", ErrUnsupported)
}

// ConnectedHost returns "": the browser does not tell scripts the remote
// address (Godot's Web build prints an error and returns "" too).
func (p *Peer) ConnectedHost() string { return "" }

// ConnectedPort returns 0, as ConnectedHost returns "".
func (p *Peer) ConnectedPort() int { return 0 }
