//go:build !js

package wspeer

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"os"
	"sync"
	"time"

	"github.com/wspeer/wspeer/internal/proto"
)

// upgradeH2 is Upgrade for a request made over HTTP/2 (RFC 8441): the checks
// of HTTP/1.1 (with the HTTP/2 grammar: CONNECT, :protocol websocket,
// Sec-WebSocket-Version 13, no key), a 200 answer with the subprotocol and
// extensions, and the peer runs on the stream: the request body in, the
// response out, flushed after every write.
func (u *Upgrader) upgradeH2(w http.ResponseWriter, r *http.Request) (*Peer, error) {
	a, err := u.accept(w, r)
	if err != nil {
		return nil, err
	}
	rc := http.NewResponseController(w)
	_ = rc.EnableFullDuplex() // HTTP/2 is full duplex already; this documents the intent
	for k, vs := range a.header {
		w.Header()[k] = append(w.Header()[k], vs...)
	}
	if a.protocol != "" {
		w.Header().Set("Sec-WebSocket-Protocol", a.protocol)
	}
	if a.ext != "" {
		w.Header().Set("Sec-WebSocket-Extensions", a.ext)
	}
	// The server's read and write timeouts must not reach the WebSocket;
	// the answer itself is bounded by the handshake timeout.
	_ = rc.SetReadDeadline(time.Time{})
	_ = rc.SetWriteDeadline(time.Now().Add(a.s.handshakeTimeout))
	w.WriteHeader(http.StatusOK)
	if err := rc.Flush(); err != nil {
		a.release()
		return nil, newCloseError(ErrHandshake, "writing the 200 response", err)
	}
	_ = rc.SetWriteDeadline(time.Time{})
	conn := newH2ServerConn(w, r, rc)
	p := a.p
	requested := proto.RequestURL(r.TLS != nil, a.req.Host, a.req.Target)
	if err := p.attachOpen(conn, nil, a.protocol, requested, a.head, a.codec); err != nil {
		return nil, err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if st, ok := p.tr.(*streamTransport); ok {
		p.tr = &h2Transport{streamTransport: st, ended: conn.ended}
	}
	p.released = conn.ended
	return p, nil
}

// Released returns a channel that is closed once the connection no longer
// needs the net/http handler that upgraded it. A hijacked HTTP/1.1
// connection never needs it: the channel is closed already. A WebSocket over
// HTTP/2 is a stream of the client's connection, and the stream ends when
// the handler returns: the channel closes once the peer is CLOSED and the
// stream's last bytes are written (or the stream is gone). A handler that
// runs the peer's Wait loop need not use it, since a peer over HTTP/2
// becomes CLOSED only after its last write; a handler that hands the peer to
// a Poller or a hub must wait on it before returning.
func (p *Peer) Released() <-chan struct{} {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.released == nil {
		return closedChan
	}
	return p.released
}

// ConnContext is for http.Server.ConnContext: it keeps each connection in
// the context of its requests, so that a peer upgraded over HTTP/2 reaches
// the TCP connection under its stream. Without it, SetNoDelay on such a peer
// returns ErrUnsupported; with it, SetNoDelay sets the connection, which all
// the client's streams share.
func ConnContext(ctx context.Context, c net.Conn) context.Context {
	return context.WithValue(ctx, connKey{}, c)
}

// connKey is ConnContext's context key.
type connKey struct{}

// closedChan is a channel closed from the start (never written to).
var closedChan = func() chan struct{} { c := make(chan struct{}); close(c); return c }()

// h2Transport is the stream driver on an HTTP/2 stream, whose close waits
// for the stream's last write (bounded by streamLinger): the handler that
// owns the stream may return as soon as the peer is CLOSED.
type h2Transport struct {
	*streamTransport
	ended <-chan struct{}
}

func (t *h2Transport) close() error {
	err := t.streamTransport.close()
	tm := time.NewTimer(streamLinger + 100*time.Millisecond)
	defer tm.Stop()
	select {
	case <-t.ended:
	case <-tm.C:
	}
	return err
}

// h2ServerConn makes an HTTP/2 stream look like a net.Conn for the stream
// driver: Read reads the request body, Write writes the response and
// flushes, Close lets the handler return (which ends the stream). Only the
// driver's writer goroutine writes, and it closes after its last write; the
// deadlines and Close take mu, so no ResponseWriter call happens once the
// handler may have returned.
type h2ServerConn struct {
	body   io.ReadCloser
	w      http.ResponseWriter
	rc     *http.ResponseController
	local  net.Addr
	remote net.Addr
	under  net.Conn // the client's connection, when ConnContext put it there

	mu     sync.Mutex
	closed bool
	gone   bool // the request's context ended: a reset, or the handler returned
	ended  chan struct{}
}

func newH2ServerConn(w http.ResponseWriter, r *http.Request, rc *http.ResponseController) *h2ServerConn {
	c := &h2ServerConn{body: r.Body, w: w, rc: rc, ended: make(chan struct{})}
	// Once the request's context ends (the client reset the stream, or a
	// handler returned too early), the ResponseWriter is not touched again.
	context.AfterFunc(r.Context(), func() {
		c.mu.Lock()
		c.gone = true
		c.mu.Unlock()
	})
	c.local, _ = r.Context().Value(http.LocalAddrContextKey).(net.Addr)
	c.under, _ = r.Context().Value(connKey{}).(net.Conn)
	if ap, err := netip.ParseAddrPort(r.RemoteAddr); err == nil {
		c.remote = net.TCPAddrFromAddrPort(ap)
	}
	return c
}

func (c *h2ServerConn) Read(p []byte) (int, error) { return c.body.Read(p) }

func (c *h2ServerConn) Write(p []byte) (n int, err error) {
	c.mu.Lock()
	stop := c.closed || c.gone
	c.mu.Unlock()
	if stop {
		return 0, net.ErrClosed
	}
	defer func() {
		// net/http panics on a write after the handler returned, which
		// only a handler returning before the peer is CLOSED can cause:
		// the connection is lost, not the program.
		if recover() != nil {
			n, err = 0, net.ErrClosed
		}
	}()
	n, err = c.w.Write(p)
	if err == nil {
		err = c.rc.Flush()
	}
	return n, err
}

// Close ends the stream: the handler may return now.
func (c *h2ServerConn) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return nil
	}
	c.closed = true
	c.body.Close()
	close(c.ended)
	return nil
}

func (c *h2ServerConn) LocalAddr() net.Addr  { return addrOr(c.local) }
func (c *h2ServerConn) RemoteAddr() net.Addr { return addrOr(c.remote) }

func (c *h2ServerConn) SetDeadline(t time.Time) error {
	return c.deadline(t, true, true)
}
func (c *h2ServerConn) SetReadDeadline(t time.Time) error  { return c.deadline(t, true, false) }
func (c *h2ServerConn) SetWriteDeadline(t time.Time) error { return c.deadline(t, false, true) }

func (c *h2ServerConn) deadline(t time.Time, r, w bool) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed || c.gone {
		return os.ErrDeadlineExceeded
	}
	var err error
	if r {
		err = c.rc.SetReadDeadline(t)
	}
	if w {
		if e := c.rc.SetWriteDeadline(t); err == nil {
			err = e
		}
	}
	return err
}

// SetNoDelay sets the TCP connection under the stream, shared by every
// stream of the client, when ConnContext made it known.
func (c *h2ServerConn) SetNoDelay(enabled bool) error {
	if c.under == nil {
		return fmt.Errorf("%w: no-delay on an HTTP/2 stream needs http.Server.ConnContext = wspeer.ConnContext", ErrUnsupported)
	}
	return applyNoDelay(c.under, enabled)
}

// addrOr returns a, or an empty TCP address when a is unknown.
func addrOr(a net.Addr) net.Addr {
	if a == nil {
		return &net.TCPAddr{}
	}
	return a
}
