//go:build !js

package wspeer

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/wspeer/wspeer/internal/proto"
)

// AcceptStream takes a connection accepted by a server (a *net.TCPConn from
// net.Listener.Accept, a *tls.Conn, net.Pipe...) and starts the server side of
// the opening handshake, which then progresses inside Poll within
// HandshakeTimeout: TLS first for a *tls.Conn, then the HTTP request and the 101
// response. A bad request gets its HTTP error answer (400, 405, 426, 431)
// before the connection is closed. The peer owns conn from here on, even when
// an error is returned. It fails with ErrInUse while CONNECTING or OPEN.
func (p *Peer) AcceptStream(conn net.Conn) error {
	if conn == nil {
		return fmt.Errorf("%w: nil connection", ErrInvalidParameter)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if err := p.startServerLocked(conn); err != nil {
		return err
	}
	p.phase = phaseHandshake
	p.deadline = p.now().Add(p.cfg.handshakeTimeout)
	return nil
}

// startServerLocked begins a server connection on conn: settings checked,
// the previous connection's state cleared, conn attached. On error conn is
// closed, since the caller handed it over.
func (p *Peer) startServerLocked(conn net.Conn) error {
	s, err := p.settingsLocked()
	if err != nil {
		conn.Close()
		return err
	}
	if p.state == StateConnecting || p.state == StateOpen {
		conn.Close()
		return ErrInUse
	}
	p.finishLocked(p.closeCode, p.closeReason, nil)
	p.resetLocked(s, proto.RoleServer)
	p.attachLocked(conn)
	return nil
}

// attachLocked makes conn the peer's transport.
func (p *Peer) attachLocked(conn net.Conn) {
	p.conn = conn
	p.tr = newTransport(conn)
	p.remote = tcpAddr(conn)
	if !p.noDelay {
		// Go's TCP connections start with no-delay on; only turning it off
		// costs a system call.
		_ = applyNoDelay(conn, false)
	}
}

// connectingStep advances the opening handshake. It reports whether the peer
// is now OPEN, so that Poll goes on to process frames in the same call.
func (p *Peer) connectingStep(now time.Time) bool {
	if p.phase == phaseDial {
		select {
		case <-p.dial.done:
		default:
			return false
		}
		conn, err := p.dial.result()
		p.dial = nil
		if err != nil {
			p.finishLocked(-1, "", err)
			return false
		}
		p.attachLocked(conn)
		p.wbuf = p.request.AppendTo(p.wbuf[:0])
		p.phase = phaseHandshake
		p.deadline = now.Add(p.cfg.handshakeTimeout)
	}
	if !now.Before(p.deadline) {
		if p.phase == phaseReject {
			p.finishLocked(-1, "", p.rejectErr)
		} else {
			p.finishLocked(-1, "", newCloseError(ErrHandshakeTimeout, "", nil))
		}
		return false
	}
	p.flushLocked()
	if p.writeErr != nil {
		p.finishLocked(-1, "", newCloseError(ErrHandshake, "writing the handshake", p.writeErr))
		return false
	}
	switch p.phase {
	case phaseReject:
		if p.woff == len(p.wbuf) {
			p.finishLocked(-1, "", p.rejectErr)
		}
		return false
	case phaseAccept:
		if p.woff < len(p.wbuf) {
			return false
		}
		p.openLocked(now)
		return true
	}
	head, err := p.readHeadLocked()
	if err != nil {
		// A bad request gets its HTTP answer; a dead connection gets none.
		if p.role == proto.RoleServer && !errors.Is(err, ErrConnectionLost) {
			p.rejectLocked(proto.AsHTTPError(err), now)
			return false
		}
		p.finishLocked(-1, "", handshakeError(err))
		return false
	}
	if head == nil {
		return false
	}
	if p.role == proto.RoleServer {
		return p.serverHandshake(head, now)
	}
	return p.clientHandshake(head, now)
}

// handshakeError classifies an error met while reading a handshake.
func handshakeError(err error) error {
	if errors.Is(err, ErrConnectionLost) {
		return newCloseError(ErrHandshake, "connection lost", err)
	}
	var rerr tls.RecordHeaderError
	if errors.As(err, &rerr) {
		return newCloseError(ErrHandshake, "TLS", err)
	}
	return newCloseError(ErrHandshake, "", err)
}

// readHeadLocked reads once and feeds the HTTP head reader. It returns the
// complete head, or nil while it is incomplete. Bytes after the head stay in
// rbuf: they are the first frames.
func (p *Peer) readHeadLocked() ([]byte, error) {
	p.readLocked()
	if p.rend > p.roff {
		n, done, err := p.hs.Feed(p.rbuf[p.roff:p.rend])
		p.roff += n
		if err != nil {
			return nil, err
		}
		if done {
			return p.hs.Head(), nil
		}
		// The head reader holds the partial head: a stalled handshake keeps
		// no read buffer.
		p.releaseReadBufLocked()
	}
	if p.readErr != nil {
		return nil, newCloseError(ErrConnectionLost, "during the opening handshake", p.readErr)
	}
	return nil, nil
}

func (p *Peer) clientHandshake(head []byte, now time.Time) bool {
	resp, err := proto.ParseResponse(head)
	if err == nil {
		p.respHeader = resp.Header
		var ext string
		p.protocol, ext, err = p.request.Check(resp)
		if err == nil && p.request.Extensions != "" {
			p.ext, err = proto.ConfirmExtensions(p.cfg.negotiators(), ext)
		}
	}
	if err != nil {
		p.protocol = ""
		p.finishLocked(-1, "", newCloseError(ErrHandshake, "", err))
		return false
	}
	p.openLocked(now)
	return true
}

func (p *Peer) serverHandshake(head []byte, now time.Time) bool {
	scheme := "ws://"
	if _, ok := p.conn.(*tls.Conn); ok {
		scheme = "wss://"
	}
	req, err := proto.ParseRequest(head)
	if err != nil {
		p.rejectLocked(proto.AsHTTPError(err), now)
		return false
	}
	p.requestedURL = scheme + req.Host + req.Target
	// Keep the request as bytes, not as a map: an idle peer stays small, and
	// RequestHeader parses it again on demand.
	p.reqHead = append([]byte(nil), head...)
	p.protocol = proto.SelectProtocol(req.Protocols, p.cfg.protocols)
	var ext string
	ext, p.ext = proto.AcceptExtensions(p.cfg.negotiators(), req.Extensions)
	p.wbuf = proto.AppendResponse(p.wbuf[:0], req.Key, p.protocol, ext, p.cfg.header)
	p.woff = 0
	p.phase = phaseAccept
	p.flushLocked()
	if p.woff < len(p.wbuf) {
		return false
	}
	p.openLocked(now)
	return true
}

// rejectLocked answers a bad request with its HTTP error and closes once the
// answer is written or the handshake deadline passes.
func (p *Peer) rejectLocked(he *proto.HTTPError, now time.Time) {
	p.rejectErr = newCloseError(ErrHandshake, "request rejected", he)
	p.wbuf = proto.AppendErrorResponse(p.wbuf[:0], he.Status, he.Msg, nil)
	p.woff = 0
	p.phase = phaseReject
	if d := now.Add(time.Second); d.Before(p.deadline) {
		p.deadline = d
	}
	p.flushLocked()
	if p.woff == len(p.wbuf) {
		p.finishLocked(-1, "", p.rejectErr)
	}
}

// openLocked completes the opening handshake.
func (p *Peer) openLocked(now time.Time) {
	p.wbuf = p.wbuf[:0]
	p.woff = 0
	p.hs = proto.HeadReader{}
	p.request = nil
	p.phase = phaseNone
	p.deadline = time.Time{}
	p.eng = proto.NewEngine(proto.Config{
		Role:              p.role,
		MaxMessageSize:    int64(p.cfg.inMax),
		MaxFragments:      maxFragments(p.cfg.inMax),
		HeartbeatInterval: p.cfg.heartbeat,
		CloseTimeout:      p.cfg.closeTimeout,
		Extension:         p.ext,
	}, now)
	p.state = StateOpen
}

// maxFragments bounds the frames of one inbound message: generous for real
// fragmenting senders (Autobahn sends 4 MiB in 64-byte fragments), yet a stream
// of empty continuation frames cannot go on for ever.
func maxFragments(inMax int) int {
	return max(4096, inMax/16)
}
