package conformance

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"os"
	"sync"
	"time"
)

// ServeStream is the fuzzingserver role for a WebSocket over HTTP/2
// (RFC 8441): an http.Handler for the extended CONNECT requests of a client
// under test (with :protocol websocket, on the same paths as Serve's). It
// answers 200, with the same extension choice as Serve, and runs the request
// on the stream: the request body in, the response out, flushed after each
// write; the stream ends when the case does. net/http serves extended
// CONNECT only with GODEBUG=http2xconnect=1. A request that is not an
// extended CONNECT for websocket gets 400.
func (s *Server) ServeStream(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodConnect || r.Header.Get(":protocol") != "websocket" || r.Header.Get("Sec-WebSocket-Version") != "13" {
		http.Error(w, "want an extended CONNECT for websocket, version 13", http.StatusBadRequest)
		return
	}
	var sel selection
	if ext := sel.choose(s.Cases)(r); ext != "" {
		w.Header().Set("Sec-WebSocket-Extensions", ext)
	}
	w.WriteHeader(http.StatusOK)
	rc := http.NewResponseController(w)
	if err := rc.Flush(); err != nil {
		return
	}
	conn := &streamConn{body: r.Body, w: w, rc: rc, addr: &net.TCPAddr{}}
	defer conn.finish()
	s.serveRequest(r.Context(), conn, bufio.NewReaderSize(conn, 64<<10), r, &sel)
}

// streamConn is an HTTP/2 server stream as a net.Conn, written here rather
// than borrowed from the library under test. finish, when the handler is
// about to return, waits for a write in progress and stops the others: the
// ResponseWriter is not used after the handler.
type streamConn struct {
	body io.ReadCloser
	w    http.ResponseWriter
	rc   *http.ResponseController
	addr net.Addr

	wmu    sync.Mutex // held by a write in progress
	mu     sync.Mutex
	closed bool // Close was called
	done   bool // the handler returns
}

func (c *streamConn) Read(p []byte) (int, error) { return c.body.Read(p) }

func (c *streamConn) Write(p []byte) (int, error) {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	c.mu.Lock()
	stop := c.closed || c.done
	c.mu.Unlock()
	if stop {
		return 0, net.ErrClosed
	}
	n, err := c.w.Write(p)
	if err == nil {
		err = c.rc.Flush()
	}
	return n, err
}

// Close ends reading (a blocked Read returns) and further writes.
func (c *streamConn) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.closed {
		c.closed = true
		c.body.Close()
	}
	return nil
}

func (c *streamConn) finish() {
	c.Close()
	c.wmu.Lock()
	c.mu.Lock()
	c.done = true
	c.mu.Unlock()
	c.wmu.Unlock()
}

func (c *streamConn) LocalAddr() net.Addr  { return c.addr }
func (c *streamConn) RemoteAddr() net.Addr { return c.addr }

func (c *streamConn) SetDeadline(t time.Time) error {
	return c.SetReadDeadline(t)
}

func (c *streamConn) SetReadDeadline(t time.Time) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.done {
		return os.ErrDeadlineExceeded
	}
	return c.rc.SetReadDeadline(t)
}

func (c *streamConn) SetWriteDeadline(time.Time) error { return nil }
