//go:build !js

package wspeer

import (
	"crypto/tls"
	"fmt"
	"net"

	"github.com/wspeer/wspeer/internal/proto"
)

// link is the peer's connection to the remote: the dial in progress, then the
// net.Conn and the transport that drives it.
type link struct {
	dial    *dialing             // client: resolving, connecting, TLS
	request *proto.ClientRequest // client: sent once the dial succeeds
	conn    net.Conn
	tr      transport
	remote  *net.TCPAddr
	// released is closed once the handler that upgraded the peer may
	// return (an HTTP/2 stream; see Released); nil: at once.
	released <-chan struct{}
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

// dialStepLocked checks on the dial: once it has connected, the client's
// core starts and it reports true.
func (p *Peer) dialStepLocked() bool {
	select {
	case <-p.dial.done:
	default:
		return false
	}
	conn, err := p.dial.result()
	stream := p.dial.stream
	p.dial = nil
	if err != nil {
		p.finishLocked(-1, "", err)
		return false
	}
	p.attachLocked(conn)
	if stream != nil {
		return p.openStreamLocked(stream) // dial_stream.go
	}
	cfg := p.coreConfigLocked()
	cfg.Request, p.request = p.request, nil
	p.core = proto.NewClientConn(cfg, p.now())
	return true
}

// closeLinkLocked abandons the dial or closes the transport.
func (p *Peer) closeLinkLocked() {
	if p.dial != nil {
		p.dial.abandon()
		p.dial = nil
	}
	if p.tr != nil {
		p.tr.close()
		p.tr = nil
	} else if p.conn != nil {
		p.conn.Close()
	}
	p.conn = nil
}

// ConnectedHost returns the remote IP address of the TCP connection, or "" when
// there is none (before connecting, after CLOSED, or on a non-TCP stream).
func (p *Peer) ConnectedHost() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.remote == nil || p.state == StateClosed {
		return ""
	}
	return p.remote.IP.String()
}

// ConnectedPort returns the remote TCP port, or 0 as ConnectedHost returns "".
func (p *Peer) ConnectedPort() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.remote == nil || p.state == StateClosed {
		return 0
	}
	return p.remote.Port
}

// SetNoDelay sets TCP_NODELAY on the connection (on by default) and remembers
// the choice for later connections. It returns ErrUnsupported when the current
// connection is not TCP.
func (p *Peer) SetNoDelay(enabled bool) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.noDelay = enabled
	if nd, ok := p.tr.(interface{ setNoDelay(bool) error }); ok {
		return nd.setNoDelay(enabled) // a bare descriptor from a Poller's listener
	}
	if p.conn == nil {
		return nil
	}
	return applyNoDelay(p.conn, enabled)
}

func applyNoDelay(c net.Conn, enabled bool) error {
	if s, ok := c.(interface{ SetNoDelay(bool) error }); ok {
		return s.SetNoDelay(enabled) // *net.TCPConn, and HTTP/2 streams
	}
	if tc, ok := c.(*tls.Conn); ok {
		c = tc.NetConn()
	}
	tcp, ok := c.(*net.TCPConn)
	if !ok {
		return fmt.Errorf("%w: no-delay needs a TCP connection", ErrUnsupported)
	}
	return tcp.SetNoDelay(enabled)
}

// tcpAddr returns the TCP address of c's remote end, looking through TLS.
func tcpAddr(c net.Conn) *net.TCPAddr {
	if tc, ok := c.(*tls.Conn); ok {
		c = tc.NetConn()
	}
	a, _ := c.RemoteAddr().(*net.TCPAddr)
	return a
}
