//go:build !js

package wspeer

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Helpers of the robustness tests (issue 7, ROBUSTNESS.md). The default run
// uses scaled-down counts that stay quick under -race; -wspeer.heavy runs the
// full sizes of the issue:
//
//	go test -race -run Robust -wspeer.heavy -timeout 30m .
var heavy = flag.Bool("wspeer.heavy", false, "run full-size robustness tests")

// scale returns def, or full with -wspeer.heavy.
func scale[T any](def, full T) T {
	if *heavy {
		return full
	}
	return def
}

// memStats returns the runtime's memory statistics after two collections, so
// that HeapAlloc counts live objects only.
func memStats() runtime.MemStats {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m
}

// heapLive returns the bytes of live heap objects.
func heapLive() int64 { m := memStats(); return int64(m.HeapAlloc) }

// totalAlloc returns the cumulative bytes allocated by the process, without
// collecting: the difference over an attack bounds what was buffered for it.
func totalAlloc() int64 {
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return int64(m.TotalAlloc)
}

// openFDs counts the process's open file descriptors (-1 where /proc is
// missing).
func openFDs() int {
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return -1
	}
	return len(ents)
}

// settle waits, bounded by d, until f() <= want, and returns the last value.
func settle(d time.Duration, want int, f func() int) int {
	end := time.Now().Add(d)
	for {
		n := f()
		if n <= want || time.Now().After(end) {
			return n
		}
		runtime.GC()
		time.Sleep(10 * time.Millisecond)
	}
}

// mib formats a byte count.
func mib(n int64) string { return fmt.Sprintf("%.2f MiB", float64(n)/(1<<20)) }

// runUntilClosed drives p with Wait and Poll until it is CLOSED or ctx ends,
// calling each (if not nil) after every Poll. It reports whether p is CLOSED.
func runUntilClosed(ctx context.Context, p *Peer, each func()) bool {
	for {
		p.Poll()
		if each != nil {
			each()
		}
		if p.ReadyState() == StateClosed {
			return true
		}
		if err := p.Wait(ctx); err != nil && !errors.Is(err, ErrClosed) {
			p.Poll()
			return p.ReadyState() == StateClosed
		}
	}
}

// closedWithin drives p until it is CLOSED and returns how long that took,
// failing the test past limit.
func closedWithin(t *testing.T, p *Peer, limit time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	if !runUntilClosed(ctx, p, nil) {
		t.Fatalf("still %v after %v (code %d, err %v)", p.ReadyState(), limit, p.CloseCode(), p.CloseError())
	}
	return time.Since(start)
}

// expectLost checks a connection that ended without a close frame exchange:
// CloseCode -1 and a CloseError matching want.
func expectLost(t *testing.T, p *Peer, want error) {
	t.Helper()
	if p.ReadyState() != StateClosed || p.CloseCode() != -1 || !errors.Is(p.CloseError(), want) {
		t.Fatalf("state %v code %d err %v; want CLOSED, -1, %v", p.ReadyState(), p.CloseCode(), p.CloseError(), want)
	}
}

// robustServer accepts TCP connections on loopback and gives each to a
// server Peer driven by its own goroutine (a Wait/Poll loop) running handle.
// It counts how the peers ended.
type robustServer struct {
	ln     net.Listener
	setup  func(*Peer)
	handle func(p *Peer) // after each Poll; nil: echo every packet back
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	accepted, closed, notClosed atomic.Int64
	opened                      atomic.Int64
}

func newRobustServer(t *testing.T, setup func(*Peer), handle func(*Peer)) *robustServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &robustServer{ln: ln, setup: setup, handle: handle}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	s.wg.Add(1)
	go s.acceptLoop()
	t.Cleanup(s.stop)
	return s
}

func (s *robustServer) url() string { return "ws://" + s.ln.Addr().String() + "/" }

func (s *robustServer) acceptLoop() {
	defer s.wg.Done()
	for {
		c, err := s.ln.Accept()
		if err != nil {
			return
		}
		s.accepted.Add(1)
		s.wg.Add(1)
		go s.serve(c)
	}
}

func (s *robustServer) serve(c net.Conn) {
	defer s.wg.Done()
	p := NewPeer()
	if s.setup != nil {
		s.setup(p)
	}
	if err := p.AcceptStream(c); err != nil {
		s.notClosed.Add(1)
		return
	}
	wasOpen := false
	runUntilClosed(s.ctx, p, func() {
		if !wasOpen && p.ReadyState() == StateOpen {
			wasOpen = true
			s.opened.Add(1)
		}
		if s.handle != nil {
			s.handle(p)
		} else {
			echo(p)
		}
	})
	if p.ReadyState() == StateClosed {
		s.closed.Add(1)
	} else {
		s.notClosed.Add(1)
		p.Close(-1, "")
	}
}

// echo sends every queued packet back while the outbound budget allows.
func echo(p *Peer) {
	for p.AvailablePacketCount() > 0 && p.ReadyState() == StateOpen {
		if p.CurrentOutboundBufferedAmount() > 0 {
			return // keep order and the budget: wait until written
		}
		b, err := p.GetPacket()
		if err != nil {
			return
		}
		mode := WriteModeBinary
		if p.WasStringPacket() {
			mode = WriteModeText
		}
		_ = p.Send(b, mode)
	}
}

// stop ends the accept loop and every server peer, and waits for them.
func (s *robustServer) stop() {
	s.ln.Close()
	s.cancel()
	s.wg.Wait()
}

// dialOpen connects a client Peer to url and drives it until OPEN.
func dialOpen(ctx context.Context, u string, setup func(*Peer)) (*Peer, error) {
	p := NewPeer()
	p.Proxy = noProxy
	if setup != nil {
		setup(p)
	}
	if err := p.ConnectToURL(u, nil); err != nil {
		return nil, err
	}
	for {
		p.Poll()
		switch p.ReadyState() {
		case StateOpen:
			return p, nil
		case StateClosed:
			return nil, fmt.Errorf("dial: %v", p.CloseError())
		}
		if err := p.Wait(ctx); err != nil {
			p.Close(-1, "")
			return nil, err
		}
	}
}

// noProxy connects directly, whatever the environment says.
func noProxy(*http.Request) (*url.URL, error) { return nil, nil }
