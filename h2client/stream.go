package h2client

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/wspeer/wspeer"
	"golang.org/x/net/http2"
)

// stream is an open WebSocket stream as a net.Conn: Read reads the response
// body, Write writes the request body (the HTTP/2 transport sends it as
// DATA frames under flow control), Close ends both directions.
type stream struct {
	cc     *http2.ClientConn
	pw     *io.PipeWriter
	resp   *http.Response
	cancel context.CancelFunc
	raw    net.Conn
	tc     net.Conn

	mu     sync.Mutex
	closed bool
	wtimer *time.Timer
}

func (s *stream) Read(p []byte) (int, error) { return s.resp.Body.Read(p) }

func (s *stream) Write(p []byte) (int, error) { return s.pw.Write(p) }

// Close sends END_STREAM after what was written and, in the background,
// waits (at most Linger) for the stream to end both ways before closing the
// connection: a close frame just written is not cut off.
func (s *stream) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	if s.wtimer != nil {
		s.wtimer.Stop()
	}
	s.pw.Close()
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), Linger)
		defer cancel()
		_ = s.cc.Shutdown(ctx)
		s.resp.Body.Close()
		s.cc.Close()
		s.cancel()
	}()
	return nil
}

func (s *stream) LocalAddr() net.Addr  { return s.tc.LocalAddr() }
func (s *stream) RemoteAddr() net.Addr { return s.tc.RemoteAddr() }

// SetDeadline sets the write deadline; see SetReadDeadline.
func (s *stream) SetDeadline(t time.Time) error { return s.SetWriteDeadline(t) }

// SetReadDeadline does nothing: a blocked Read ends with Close, which is the
// only reason the peer's stream driver sets a read deadline.
func (s *stream) SetReadDeadline(time.Time) error { return nil }

// SetWriteDeadline makes a Write blocked past t (by flow control) fail,
// which resets the stream.
func (s *stream) SetWriteDeadline(t time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.wtimer != nil {
		s.wtimer.Stop()
		s.wtimer = nil
	}
	if !t.IsZero() {
		s.wtimer = time.AfterFunc(time.Until(t), func() { s.pw.CloseWithError(os.ErrDeadlineExceeded) })
	}
	return nil
}

// SetNoDelay sets TCP_NODELAY on the connection under the stream (which
// carries this stream only).
func (s *stream) SetNoDelay(enabled bool) error {
	tcp, ok := s.raw.(*net.TCPConn)
	if !ok {
		return fmt.Errorf("%w: no-delay needs a TCP connection", wspeer.ErrUnsupported)
	}
	return tcp.SetNoDelay(enabled)
}
