package wspeer

// The API both builds share: argument checks, then the build's own work
// (connectLocked, send, closeLocked), so that the browser build and the native
// one accept and refuse exactly the same calls.

import (
	"crypto/tls"
	"fmt"
	"unicode/utf8"

	"github.com/wspeer/wspeer/internal/proto"
)

// ConnectToURL starts connecting to a ws:// or wss:// URL and returns at once:
// name resolution, the TCP connect (each address in turn), TLS and the opening
// handshake progress inside Poll, each bounded by a timeout. The peer is then
// CONNECTING; a failure shows later as CLOSED with CloseCode -1 and CloseError
// saying what failed. tlsConfig is used for wss:// (nil: verify against the
// system roots); a server-side config is ErrInvalidParameter. A URL without a
// scheme means ws://; userinfo is sent as Basic authorization; the fragment is
// not sent. The connection goes through the HTTP proxy that Proxy names
// (default: the environment's), with a CONNECT tunnel; a proxy failure has
// CloseError matching ErrProxy. It fails with ErrInUse while CONNECTING or OPEN.
//
// In the browser, the browser connects with its own trust store and proxy
// (tlsConfig is ignored but for the server-config check), and a URL with
// userinfo is ErrUnsupported. If the browser refuses to create the socket
// (its constructor throws: a blocked port, mixed content...), ConnectToURL
// still returns nil and the next Poll makes the peer CLOSED with CloseCode -1
// and a CloseError matching ErrDial and holding the browser's exception. A
// connection that fails later also ends CLOSED with -1; the browser does not
// say why, so that CloseError matches both ErrDial and ErrHandshake.
func (p *Peer) ConnectToURL(rawURL string, tlsConfig *tls.Config) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	s, err := p.settingsLocked()
	if err != nil {
		return err
	}
	if p.state == StateConnecting || p.state == StateOpen {
		return ErrInUse
	}
	t, err := parseURL(rawURL)
	if err != nil {
		return err
	}
	if isServerConfig(tlsConfig) {
		return fmt.Errorf("%w: a server TLS configuration cannot connect", ErrInvalidParameter)
	}
	return p.connectLocked(rawURL, t, s, tlsConfig)
}

// Packet is one message and its type: what TakePackets returns and
// SendBatch takes.
type Packet struct {
	Data []byte
	Text bool
}

// AvailablePacketCount returns the number of complete inbound messages queued.
// Messages that arrived before a close stay readable in CLOSING and CLOSED
// until drained (unlike Godot, which hides them once the state leaves OPEN).
func (p *Peer) AvailablePacketCount() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.packets) - p.phead
}

// Send queues msg as one text or binary message and makes one write attempt;
// Poll writes what is left. While the application is draining received
// packets (it has read one since the last Poll and more are waiting), the
// attempt is left to the send that follows the last of them (or to Poll), so
// that the replies to a burst go out in one system call. It fails with
// ErrNotOpen unless OPEN, with ErrInvalidUTF8 for text that is not UTF-8,
// with ErrTooLarge when msg alone is larger than OutboundBufferSize (it can
// never be sent), and with ErrBufferFull when the queued messages leave no
// room for it now (OutboundBufferSize or MaxQueuedPackets; retry after Poll
// has written some). Nothing is queued on an error. An empty msg sends an
// empty message. Concurrent sends each stay whole. In the browser the budget
// counts the browser's bufferedAmount.
func (p *Peer) Send(msg []byte, mode WriteMode) error {
	switch mode {
	case WriteModeText:
		if !utf8.Valid(msg) {
			return ErrInvalidUTF8
		}
		return p.send(true, msg, "")
	case WriteModeBinary:
		return p.send(false, msg, "")
	}
	return fmt.Errorf("%w: write mode %d", ErrInvalidParameter, mode)
}

// SendBatch sends msgs in order, each as Send would, taking the peer's lock
// once and writing once after the last: the replies to a burst of messages
// (TakePackets) in one call and one system call. It returns how many were
// queued and the error that stopped it (ErrBufferFull: retry the rest after
// Poll). Text messages must be valid UTF-8: an invalid one stops the batch
// before it, with ErrInvalidUTF8.
func (p *Peer) SendBatch(msgs []Packet) (int, error) {
	for i, m := range msgs {
		if m.Text && !utf8.Valid(m.Data) {
			n, err := p.sendBatch(msgs[:i])
			if err == nil {
				err = ErrInvalidUTF8
			}
			return n, err
		}
	}
	return p.sendBatch(msgs)
}

// SendText sends s as a text message (see Send).
func (p *Peer) SendText(s string) error {
	if !utf8.ValidString(s) {
		return ErrInvalidUTF8
	}
	return p.send(true, nil, s)
}

// PutPacket sends b as a binary message (see Send). As in Godot, an empty b
// sends nothing and returns nil.
func (p *Peer) PutPacket(b []byte) error {
	if len(b) == 0 {
		return nil
	}
	return p.send(false, b, "")
}

// Close starts the closing handshake with code and reason: messages queued
// before it are sent first, then the close frame; Poll completes the handshake
// within CloseTimeout. code must be valid to send (1000-1003, 1007-1014,
// 3000-4999) and reason at most 123 bytes of UTF-8: otherwise Close returns
// ErrInvalidParameter and changes nothing. A negative code drops the connection
// at once without a close frame, keeping CloseCode; Close while CONNECTING does
// the same with CloseCode -1. Close on a CLOSING or CLOSED peer does nothing.
//
// Browsers let scripts send only 1000 and 3000-4999: there, other codes are
// ErrInvalidParameter and also match ErrUnsupported (Godot's Web build throws
// an uncaught JavaScript exception and stays CLOSING), and a negative code
// still makes the browser send a close frame, without a status.
func (p *Peer) Close(code int, reason string) error {
	if code >= 0 {
		if code == proto.CloseNoStatus {
			return fmt.Errorf("%w: close code 1005 may not be sent", ErrInvalidParameter)
		}
		if err := proto.CheckClose(code, reason); err != nil {
			return fmt.Errorf("%w: %w", ErrInvalidParameter, err)
		}
		if err := checkPlatformCloseCode(code); err != nil {
			return err
		}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if code < 0 {
		if p.state != StateClosed {
			p.dropLocked()
			p.finishLocked(p.closeCode, p.closeReason, newCloseError(ErrDropped, "", nil))
		}
		return nil
	}
	if p.state == StateConnecting {
		p.dropLocked()
		p.finishLocked(-1, "", newCloseError(ErrDropped, proto.DetailConnecting, nil))
		return nil
	}
	if p.state == StateOpen {
		return p.closeLocked(code, reason)
	}
	return nil
}
