//go:build !js

package wspeer

import (
	"crypto/tls"
	"fmt"
	"net"

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
	p.core = proto.NewServerConn(p.coreConfigLocked(), p.now())
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
	p.resetLocked(s)
	p.attachLocked(conn)
	return nil
}

// coreConfigLocked is the connection core's configuration from the settings.
func (p *Peer) coreConfigLocked() proto.ConnConfig {
	s := &p.cfg
	return proto.ConnConfig{
		MaxMessageSize:    int64(s.inMax),
		MaxFragments:      maxFragments(s.inMax),
		HeartbeatInterval: s.heartbeat,
		CloseTimeout:      s.closeTimeout,
		HandshakeTimeout:  s.handshakeTimeout,
		MaxHeadSize:       s.maxHead,
		Protocols:         s.protocols,
		Header:            s.header,
		Negotiators:       s.negotiators(),
	}
}

// openedLocked keeps what the opening handshake settled.
func (p *Peer) openedLocked(hs *proto.HandshakeInfo) {
	if hs == nil {
		return
	}
	p.protocol = hs.Protocol
	if hs.ResponseHeader != nil {
		p.respHeader = hs.ResponseHeader
	}
	if hs.RequestHead != nil {
		_, secure := p.conn.(*tls.Conn)
		p.requestedURL = proto.RequestURL(secure, hs.Host, hs.Target)
		p.reqHead = keptHead(hs.RequestHead, p.cfg.keepHeaders)
		// The peer takes the head over: the core keeps no copy of its own.
		hs.RequestHead = nil
	}
}

// maxFragments bounds the frames of one inbound message: generous for real
// fragmenting senders (Autobahn sends 4 MiB in 64-byte fragments), yet a stream
// of empty continuation frames cannot go on for ever.
func maxFragments(inMax int) int {
	return max(4096, inMax/16)
}
