//go:build !js

package wspeer

import (
	"context"
	"net"
	"sync"
	"time"
)

const (
	streamReadSize = 16 << 10        // one read-ahead buffer
	streamWriteMax = 64 << 10        // bytes handed to the writer and not yet written
	streamLinger   = 2 * time.Second // bound on writing those bytes after close
)

// streamTransport gives any net.Conn (a *tls.Conn, net.Pipe...) the non-blocking
// contract of transport with two goroutines doing the blocking calls: a reader
// that reads one buffer ahead and then waits until it is consumed (so
// backpressure reaches the remote), and a writer that writes what was handed to
// it. Observable behaviour matches rawTransport, plus at most streamReadSize
// bytes read ahead and streamWriteMax bytes written behind.
type streamTransport struct {
	c     net.Conn
	wk    waker
	ready chan struct{} // the reader got data or an error, or the writer finished a write
	done  chan struct{}

	mu       sync.Mutex
	started  bool
	rdata    []byte // read by the reader, not yet taken
	rerr     error
	consumed chan struct{} // rdata was emptied: the reader may read again
	wq       []byte        // handed over, not yet taken by the writer
	werr     error
	kick     chan struct{} // wq has bytes
	closed   bool
	notify   func() // a Poller's wake-up, called with ready
}

func newStreamTransport(c net.Conn) *streamTransport {
	return &streamTransport{
		c:        c,
		wk:       newWaker(),
		ready:    make(chan struct{}, 1),
		done:     make(chan struct{}),
		consumed: make(chan struct{}, 1),
		kick:     make(chan struct{}, 1),
	}
}

// signalReady tells a waiting Wait, and a Poller if one watches, that a read
// or write attempt may now progress.
func (t *streamTransport) signalReady() {
	signal(t.ready)
	t.mu.Lock()
	notify := t.notify
	t.mu.Unlock()
	if notify != nil {
		notify()
	}
}

func (t *streamTransport) sysfd() int { return -1 }

// The stream driver copies what it writes to its goroutine anyway: a
// vectored write would save nothing.
func (t *streamTransport) canWritev() bool { return false }

func (t *streamTransport) writev(a, b []byte) (int, error) { return 0, errWouldBlock }

func (t *streamTransport) watch(notify func(), r, w bool) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.notify = notify
	t.startLocked()
	return (r && (len(t.rdata) > 0 || t.rerr != nil)) || (w && (len(t.wq) < streamWriteMax || t.werr != nil))
}

func signal(ch chan struct{}) {
	select {
	case ch <- struct{}{}:
	default:
	}
}

// start launches the goroutines on first use, so that a transport that is
// never used (a rejected handshake) costs none.
func (t *streamTransport) startLocked() {
	if t.started || t.closed {
		return
	}
	t.started = true
	go t.reader()
	go t.writer()
}

func (t *streamTransport) reader() {
	buf := make([]byte, streamReadSize)
	for {
		n, err := t.c.Read(buf)
		if n == 0 && err == nil {
			continue
		}
		t.mu.Lock()
		t.rdata = buf[:n]
		t.rerr = err
		t.mu.Unlock()
		t.signalReady()
		if err != nil {
			return
		}
		select {
		case <-t.consumed:
		case <-t.done:
			return
		}
	}
}

// writer writes what write handed over. Once the transport is closed it
// writes what is left (bytes write accepted count as written, like a socket's
// send buffer: a server's last close frame is among them), bounded by
// streamLinger, and then closes the connection, so that close never blocks.
func (t *streamTransport) writer() {
	var spare []byte
	for {
		closing := false
		select {
		case <-t.kick:
		case <-t.done:
			closing = true
		}
		t.mu.Lock()
		data, failed := t.wq, t.werr != nil
		t.wq = spare[:0]
		t.mu.Unlock()
		if len(data) > 0 && !failed {
			_, err := t.c.Write(data)
			t.mu.Lock()
			if err != nil && t.werr == nil {
				t.werr = err
			}
			t.mu.Unlock()
			t.signalReady()
		}
		spare = data
		if closing {
			t.c.Close()
			return
		}
	}
}

func (t *streamTransport) read(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.startLocked()
	if len(t.rdata) > 0 {
		n := copy(p, t.rdata)
		t.rdata = t.rdata[n:]
		if len(t.rdata) == 0 && t.rerr == nil {
			signal(t.consumed)
		}
		return n, nil
	}
	if t.rerr != nil {
		return 0, t.rerr
	}
	return 0, errWouldBlock
}

func (t *streamTransport) write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.startLocked()
	if t.werr != nil {
		return 0, t.werr
	}
	n := min(len(p), streamWriteMax-len(t.wq))
	if n <= 0 {
		return 0, errWouldBlock
	}
	t.wq = append(t.wq, p[:n]...)
	signal(t.kick)
	return n, nil
}

func (t *streamTransport) wait(ctx context.Context, r bool, flush flusher, deadline time.Time) error {
	var timer <-chan time.Time
	if !deadline.IsZero() {
		tm := time.NewTimer(time.Until(deadline))
		defer tm.Stop()
		timer = tm.C
	}
	for {
		if flush != nil && flush(t.write) {
			return ctx.Err()
		}
		t.mu.Lock()
		t.startLocked()
		readable := r && (len(t.rdata) > 0 || t.rerr != nil)
		t.mu.Unlock()
		if readable {
			return ctx.Err()
		}
		select {
		case <-t.ready:
			// Data, an error or writer progress: re-check what it means.
			continue
		case <-t.wk.ch:
		case <-timer:
		case <-ctx.Done():
		}
		return ctx.Err()
	}
}

func (t *streamTransport) wake() {
	t.wk.wake()
	t.mu.Lock()
	notify := t.notify
	t.mu.Unlock()
	if notify != nil {
		notify()
	}
}

func (t *streamTransport) close() error {
	t.mu.Lock()
	if t.closed {
		t.mu.Unlock()
		return nil
	}
	t.closed = true
	close(t.done)
	started := t.started
	t.mu.Unlock()
	t.wake()
	if !started {
		return t.c.Close()
	}
	// The writer flushes and closes; these deadlines bound its last write
	// and end a blocked read now.
	_ = t.c.SetWriteDeadline(time.Now().Add(streamLinger))
	_ = t.c.SetReadDeadline(longAgo)
	return nil
}
