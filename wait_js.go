package wspeer

// Poll, Wait, packets, sending and closing for the browser build. The browser
// does the I/O on its own; Poll applies what its event handlers queued, so
// state changes stay where the native build has them.

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"syscall/js"
	"time"
	"unicode/utf8"

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
	if p.deadline.IsZero() || time.Now().Before(p.deadline) {
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
	if len(p.events) > 0 || (!deadline.IsZero() && !time.Now().Before(deadline)) {
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

// AvailablePacketCount returns the number of complete inbound messages queued.
// Messages that arrived before a close stay readable in CLOSING and CLOSED
// until drained, as in Godot's Web build (and, unlike Godot, also after a
// local close).
func (p *Peer) AvailablePacketCount() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.packets) - p.phead
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
	pk := p.packets[p.phead]
	p.packets[p.phead] = webPacket{}
	p.phead++
	if p.phead == len(p.packets) {
		p.packets, p.phead = p.packets[:0], 0
	}
	p.inBytes -= len(pk.data)
	p.lastString = pk.text
	return pk.data, nil
}

// WasStringPacket reports whether the last packet returned by GetPacket was a
// text message.
func (p *Peer) WasStringPacket() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.lastString
}

// Send hands msg to the browser as one text or binary message. It fails with
// ErrNotOpen unless OPEN (and the browser's socket too), with ErrInvalidUTF8
// for text that is not UTF-8 (Godot's Web build silently replaces invalid
// bytes), with ErrTooLarge when msg alone exceeds OutboundBufferSize, and
// with ErrBufferFull when the browser's bufferedAmount plus
// len(msg) would exceed OutboundBufferSize — the native build's rule, where
// Godot's Web build fails already at equality. An empty msg sends an empty
// message.
func (p *Peer) Send(msg []byte, mode WriteMode) error {
	switch mode {
	case WriteModeText:
		if !utf8.Valid(msg) {
			return ErrInvalidUTF8
		}
		return p.send(string(msg), len(msg), true)
	case WriteModeBinary:
		return p.send(msg, len(msg), false)
	}
	return fmt.Errorf("%w: write mode %d", ErrInvalidParameter, mode)
}

// SendText sends s as a text message (see Send).
func (p *Peer) SendText(s string) error {
	if !utf8.ValidString(s) {
		return ErrInvalidUTF8
	}
	return p.send(s, len(s), true)
}

// PutPacket sends b as a binary message (see Send). As in Godot, an empty b
// sends nothing and returns nil.
func (p *Peer) PutPacket(b []byte) error {
	if len(b) == 0 {
		return nil
	}
	return p.send(b, len(b), false)
}

// send checks the state and the budget and calls the socket's send with a JS
// string (text) or a Uint8Array (binary); msg is a string or a []byte.
func (p *Peer) send(msg any, n int, text bool) error {
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

// Close starts the closing handshake with code and reason; Poll reports its
// end within CloseTimeout. Browsers let scripts send only 1000 and 3000-4999,
// with a reason of at most 123 bytes: any other code or reason returns
// ErrInvalidParameter (codes the native build could send, such as 1001, also
// match ErrUnsupported) and changes nothing — where Godot's Web build throws an
// uncaught JavaScript exception and stays CLOSING. A negative code drops the
// connection at once, keeping CloseCode; the browser still sends a close frame,
// without a status (Godot sends 3001 "destroyed"). Close while CONNECTING
// ends the attempt with CloseCode -1. Close on a CLOSING or CLOSED peer does
// nothing.
func (p *Peer) Close(code int, reason string) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if code < 0 {
		if p.state != StateClosed {
			p.dropLocked()
			p.finishLocked(p.closeCode, p.closeReason, newCloseError(ErrDropped, "", nil))
		}
		return nil
	}
	if err := proto.CheckClose(code, reason); err != nil || code == proto.CloseNoStatus {
		if err == nil {
			err = fmt.Errorf("close code %d may not be sent", code)
		}
		return fmt.Errorf("%w: %w", ErrInvalidParameter, err)
	}
	if code != proto.CloseNormal && (code < 3000 || code > 4999) {
		return fmt.Errorf("%w: close code %d: browsers send only 1000 and 3000-4999 (%w)", ErrInvalidParameter, code, ErrUnsupported)
	}
	switch p.state {
	case StateConnecting:
		p.dropLocked()
		p.finishLocked(-1, "", newCloseError(ErrDropped, "closed while connecting", nil))
	case StateOpen:
		if p.sock != nil && !p.sock.detached {
			ws := p.sock.ws
			if err := jsTry(func() { ws.Call("close", code, reason) }); err != nil {
				return fmt.Errorf("%w: %w", ErrInvalidParameter, err)
			}
		}
		p.state = StateClosing
		p.deadline = time.Now().Add(p.cfg.closeTimeout)
		p.wakeLocked()
	}
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

// RequestHeader returns nil: a browser peer is never a server.
func (p *Peer) RequestHeader() http.Header { return nil }

// ResponseHeader returns nil: the browser does not show scripts the opening
// handshake response. SelectedProtocol has the one header it exposes.
func (p *Peer) ResponseHeader() http.Header { return nil }
