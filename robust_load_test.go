//go:build !js

package wspeer

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Robustness under load: slow readers, connection churn, concurrency
// (ROBUSTNESS.md).

// peerPair returns an OPEN server and client Peer connected over loopback TCP.
func peerPair(t *testing.T, srvSetup, cliSetup func(*Peer)) (srv, cli *Peer) {
	t.Helper()
	ln := listen(t)
	srv = NewPeer()
	if srvSetup != nil {
		srvSetup(srv)
	}
	accepted := make(chan error, 1)
	go func() {
		c, err := ln.Accept()
		if err == nil {
			err = srv.AcceptStream(c)
		}
		accepted <- err
	}()
	cli = NewPeer()
	cli.Proxy = noProxy
	if cliSetup != nil {
		cliSetup(cli)
	}
	if err := cli.ConnectToURL("ws://"+ln.Addr().String()+"/", nil); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cli.Close(-1, ""); srv.Close(-1, "") })
	if err := <-accepted; err != nil {
		t.Fatal(err)
	}
	end := time.Now().Add(testTimeout)
	for srv.ReadyState() != StateOpen || cli.ReadyState() != StateOpen {
		if time.Now().After(end) {
			t.Fatalf("pair not OPEN: %v %v (%v %v)", srv.ReadyState(), cli.ReadyState(), srv.CloseError(), cli.CloseError())
		}
		srv.Poll()
		cli.Poll()
		time.Sleep(100 * time.Microsecond)
	}
	return srv, cli
}

// seqMessage is message i: its number, then bytes derived from it, of a
// size that varies with i.
func seqMessage(i int) []byte {
	b := make([]byte, 8+(i*7919)%16384)
	binary.BigEndian.PutUint64(b, uint64(i))
	for j := 8; j < len(b); j++ {
		b[j] = byte(i + j)
	}
	return b
}

func TestRobustSlowReader(t *testing.T) {
	// The receiver does not poll at all, then drains slowly: the sender's
	// queue stops at OutboundBufferSize with ErrBufferFull (queuing
	// nothing), and recovers; every message arrives once, in order.
	const outMax = 64 << 10
	total := scale(3000, 30000)
	srv, cli := peerPair(t, func(p *Peer) { p.OutboundBufferSize = outMax; p.MaxQueuedPackets = 64 }, nil)

	next, full := 0, 0
	maxQueued := 0
	trySend := func() bool {
		before := srv.CurrentOutboundBufferedAmount()
		err := srv.PutPacket(seqMessage(next))
		q := srv.CurrentOutboundBufferedAmount()
		maxQueued = max(maxQueued, q)
		if q > outMax {
			t.Fatalf("%d bytes queued, budget %d", q, outMax)
		}
		if errors.Is(err, ErrBufferFull) {
			if q != before {
				t.Fatalf("a failed send changed the queue: %d -> %d", before, q)
			}
			full++
			return false
		}
		if err != nil {
			t.Fatalf("send %d: %v", next, err)
		}
		next++
		return true
	}
	// Phase 1: the receiver sleeps; send until the budget is full.
	deadline := time.Now().Add(testTimeout)
	for full == 0 && next < total && time.Now().Before(deadline) {
		if !trySend() {
			break
		}
		srv.Poll()
	}
	if full == 0 {
		t.Fatalf("%d messages sent without ErrBufferFull", next)
	}
	stalledAt := next

	// Phase 2: the receiver drains slowly in its own goroutine; the
	// sender retries after Poll.
	ctx, cancel := context.WithTimeout(context.Background(), 4*testTimeout)
	defer cancel()
	recvErr := make(chan error, 1)
	go func() {
		got := 0
		runUntilClosed(ctx, cli, func() {
			for k := 0; k < 8; k++ { // a few messages per Poll: a slow reader
				b, err := cli.GetPacket()
				if err != nil {
					break
				}
				if !bytes.Equal(b, seqMessage(got)) {
					recvErr <- fmt.Errorf("message %d: got number %d, %d bytes", got, binary.BigEndian.Uint64(b), len(b))
					cli.Close(-1, "")
					return
				}
				got++
			}
			if got == total {
				cli.Close(1000, "")
			}
		})
		if got != total {
			recvErr <- fmt.Errorf("received %d of %d (state %v, %v)", got, total, cli.ReadyState(), cli.CloseError())
			return
		}
		recvErr <- nil
	}()
	for next < total && ctx.Err() == nil {
		if !trySend() {
			srv.Wait(ctx)
			srv.Poll()
		}
	}
	runUntilClosed(ctx, srv, nil)
	if err := <-recvErr; err != nil {
		t.Fatal(err)
	}
	if srv.CloseCode() != 1000 {
		t.Fatalf("server closed with %d: %v", srv.CloseCode(), srv.CloseError())
	}
	t.Logf("%d messages: first ErrBufferFull after %d; %d ErrBufferFull in all; queue peaked at %d of %d bytes; all received in order",
		total, stalledAt, full, maxQueued, outMax)
}

// churnClient runs one connection of the churn test in one of its modes and
// reports what went wrong.
func churnClient(ctx context.Context, url string, mode int) error {
	if mode == 4 {
		// An unclean raw client: half a request, then gone.
		c, err := net.Dial("tcp", url[len("ws://"):len(url)-1])
		if err != nil {
			return err
		}
		c.Write(validRequest()[:50])
		return c.Close()
	}
	p, err := dialOpen(ctx, url, nil)
	if err != nil {
		return err
	}
	defer p.Close(-1, "")
	msg := fmt.Sprintf("hello %d", mode)
	if mode == 2 {
		msg = "bye" // the server closes with 4000
	}
	if err := p.SendText(msg); err != nil {
		return err
	}
	got := false
	runUntilClosed(ctx, p, func() {
		if b, err := p.GetPacket(); err == nil {
			if string(b) != msg {
				p.Close(-1, "")
			}
			got = true
			switch mode {
			case 0:
				p.Close(1000, "")
			case 1, 3:
				p.Close(-1, "") // dropped without a close frame
			}
		}
	})
	switch {
	case p.ReadyState() != StateClosed:
		return fmt.Errorf("mode %d: client left %v", mode, p.ReadyState())
	case mode == 0 && (!got || p.CloseCode() != 1000):
		return fmt.Errorf("mode 0: echo %v, code %d, %v", got, p.CloseCode(), p.CloseError())
	case mode == 2 && p.CloseCode() != 4000:
		return fmt.Errorf("mode 2: code %d, %v", p.CloseCode(), p.CloseError())
	case (mode == 1 || mode == 3) && !got:
		return fmt.Errorf("mode %d: no echo", mode)
	}
	return nil
}

func TestRobustChurn(t *testing.T) {
	// Connections opened, used and closed (clean, dropped, closed by the
	// server, abandoned mid-handshake) in rounds: afterwards goroutines,
	// file descriptors and heap return to their baseline, and no Peer is
	// left CONNECTING or CLOSING.
	total := scale(2000, 10000)
	const batch = 100
	runtime.GC()
	g0, fds0, heap0 := runtime.NumGoroutine(), openFDs(), heapLive()
	s := newRobustServer(t, func(p *Peer) { p.HandshakeTimeout = 2 * time.Second; p.CloseTimeout = 2 * time.Second },
		func(p *Peer) {
			if p.ReadyState() != StateOpen || p.CurrentOutboundBufferedAmount() > 0 {
				return
			}
			if b, err := p.GetPacket(); err == nil {
				if string(b) == "bye" {
					p.Close(4000, "bye")
					return
				}
				p.SendText(string(b))
			}
		})
	start := time.Now()
	var failed atomic.Int64
	var firstErr atomic.Value
	for done := 0; done < total; done += batch {
		var wg sync.WaitGroup
		for i := 0; i < batch; i++ {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
				defer cancel()
				if err := churnClient(ctx, s.url(), i%5); err != nil {
					failed.Add(1)
					firstErr.CompareAndSwap(nil, err)
				}
			}(done + i)
		}
		wg.Wait()
	}
	// Every server peer ends (the abandoned handshakes after 2 s at most).
	want := int64(total)
	if got := settle(5*time.Second, 0, func() int { return int(s.accepted.Load() - s.closed.Load() - s.notClosed.Load()) }); got != 0 {
		t.Fatalf("%d server peers still running", got)
	}
	took := time.Since(start)
	if n := failed.Load(); n > 0 {
		t.Fatalf("%d clients failed; first: %v", n, firstErr.Load())
	}
	if s.accepted.Load() != want || s.closed.Load() != want || s.notClosed.Load() != 0 {
		t.Fatalf("accepted %d, CLOSED %d, not CLOSED %d; want %d", s.accepted.Load(), s.closed.Load(), s.notClosed.Load(), want)
	}
	gPeak, fdsPeak := runtime.NumGoroutine(), openFDs()
	s.stop()
	g1 := settle(5*time.Second, g0, runtime.NumGoroutine)
	fds1 := settle(5*time.Second, fds0, openFDs)
	heap1 := heapLive()
	t.Logf("%d connections in %v (%.0f/s): goroutines %d -> %d (after stop %d), FDs %d -> %d (after stop %d), heap %s -> %s",
		total, took.Round(time.Millisecond), float64(total)/took.Seconds(), g0, gPeak, g1, fds0, fdsPeak, fds1, mib(heap0), mib(heap1))
	if g1 > g0 || fds1 > fds0 {
		t.Fatalf("leak: goroutines %d -> %d, FDs %d -> %d", g0, g1, fds0, fds1)
	}
	if heap1-heap0 > 1<<20 {
		t.Fatalf("heap %s -> %s", mib(heap0), mib(heap1))
	}
}

func TestRobustConcurrency(t *testing.T) {
	// Send, Close, Poll, Wait, GetPacket and the getters from many
	// goroutines on both ends at once: no panic, no race, every message
	// that Send accepted arrives whole and in its sender's order, and both
	// ends reach CLOSED.
	senders := scale(8, 32)
	perSender := scale(300, 3000)
	srv, cli := peerPair(t, func(p *Peer) { p.OutboundBufferSize = 256 << 10 }, func(p *Peer) { p.OutboundBufferSize = 256 << 10 })
	ctx, cancel := context.WithTimeout(context.Background(), 3*testTimeout)
	defer cancel()

	type end struct {
		p        *Peer
		accepted atomic.Int64 // messages Send accepted
		received atomic.Int64
		err      atomic.Value
	}
	ends := []*end{{p: srv}, {p: cli}}
	var wg sync.WaitGroup
	for _, e := range ends {
		// Two pollers, each a Wait/Poll loop, draining and checking packets.
		var mu sync.Mutex
		lastSeq := make(map[int]int)
		for w := 0; w < 2; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				runUntilClosed(ctx, e.p, func() {
					for {
						mu.Lock()
						b, err := e.p.GetPacket()
						if err != nil {
							mu.Unlock()
							return
						}
						var g, seq int
						var body string
						if _, err := fmt.Sscanf(string(b), "%d %d %s", &g, &seq, &body); err != nil || body != fmt.Sprintf("x%0*d", seq%200, 0) {
							e.err.CompareAndSwap(nil, fmt.Errorf("damaged message %q", b))
						} else if last, ok := lastSeq[g]; ok && seq <= last {
							e.err.CompareAndSwap(nil, fmt.Errorf("sender %d: %d after %d", g, seq, last))
						}
						lastSeq[g] = seq
						e.received.Add(1)
						mu.Unlock()
					}
				})
			}()
		}
		// Senders: retry on ErrBufferFull, stop at ErrNotOpen.
		for g := 0; g < senders; g++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for seq := 0; seq < perSender && ctx.Err() == nil; {
					msg := fmt.Sprintf("%d %d x%0*d", g, seq, seq%200, 0)
					err := e.p.SendText(msg)
					switch {
					case err == nil:
						e.accepted.Add(1)
						seq++
					case errors.Is(err, ErrBufferFull):
						runtime.Gosched()
					case errors.Is(err, ErrNotOpen):
						return
					default:
						e.err.CompareAndSwap(nil, err)
						return
					}
				}
			}()
		}
		// Readers of the getters.
		wg.Add(1)
		go func() {
			defer wg.Done()
			for e.p.ReadyState() != StateClosed && ctx.Err() == nil {
				_ = e.p.AvailablePacketCount() + e.p.CurrentOutboundBufferedAmount() + e.p.CloseCode() + e.p.ConnectedPort()
				_, _ = e.p.CloseError(), e.p.WasStringPacket()
				time.Sleep(100 * time.Microsecond)
			}
		}()
	}
	// Close from two goroutines at once, midway.
	go func() {
		for ends[0].accepted.Load() < int64(senders*perSender/2) && ctx.Err() == nil {
			time.Sleep(time.Millisecond)
		}
		var cw sync.WaitGroup
		for i := 0; i < 2; i++ {
			cw.Add(1)
			go func() { defer cw.Done(); srv.Close(1000, "done") }()
		}
		cw.Wait()
	}()
	wg.Wait()
	if ctx.Err() != nil {
		t.Fatalf("timed out: states %v %v", srv.ReadyState(), cli.ReadyState())
	}
	for k, e := range ends {
		if err, _ := e.err.Load().(error); err != nil {
			t.Fatalf("end %d: %v", k, err)
		}
		if e.p.ReadyState() != StateClosed || e.p.CloseCode() != 1000 {
			t.Fatalf("end %d: %v code %d %v", k, e.p.ReadyState(), e.p.CloseCode(), e.p.CloseError())
		}
	}
	// What each end's Send accepted before the close, the other received.
	if ends[0].accepted.Load() != ends[1].received.Load() || ends[1].accepted.Load() != ends[0].received.Load() {
		t.Fatalf("server sent %d, client got %d; client sent %d, server got %d",
			ends[0].accepted.Load(), ends[1].received.Load(), ends[1].accepted.Load(), ends[0].received.Load())
	}
	t.Logf("%d senders per end: server sent %d, client sent %d, all delivered whole and in order; both CLOSED 1000",
		senders, ends[0].accepted.Load(), ends[1].accepted.Load())
}

// parkWait starts p.Wait on another goroutine and returns once it has parked
// (it did not return within 100 ms), or false. done closes when it returns.
func parkWait(ctx context.Context, p *Peer) (done chan struct{}, parked bool) {
	for try := 0; try < 50; try++ {
		p.Poll()
		done = make(chan struct{})
		go func() { p.Wait(ctx); close(done) }()
		select {
		case <-done:
			continue
		case <-time.After(100 * time.Millisecond):
			return done, true
		}
	}
	return done, false
}

func TestRobustCallsDuringParkedWait(t *testing.T) {
	// Wait parked on one goroutine must not block the other methods on
	// others: "nothing blocks", and sends and Close wake the Wait.
	const limit = 500 * time.Millisecond
	timed := func(t *testing.T, what string, f func()) {
		t.Helper()
		start := time.Now()
		f()
		if d := time.Since(start); d > limit {
			t.Errorf("%s blocked for %v while Wait was parked", what, d.Round(time.Millisecond))
		} else {
			t.Logf("%s took %v", what, d)
		}
	}
	t.Run("waiting to read", func(t *testing.T) {
		p, _ := openServer(t, nil)
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		done, ok := parkWait(ctx, p)
		if !ok {
			t.Fatal("Wait never parked")
		}
		timed(t, "Poll", p.Poll)
		timed(t, "SendText", func() { p.SendText("x") })
		timed(t, "Close", func() { p.Close(1000, "") })
		<-done
	})
	t.Run("waiting to write", func(t *testing.T) {
		// The remote reads nothing: megabytes wait to be written.
		p, _ := openServer(t, func(p *Peer) { p.OutboundBufferSize = 64 << 20 })
		msg := make([]byte, 64<<10)
		for i := 0; i < 300; i++ {
			p.PutPacket(msg)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		done, ok := parkWait(ctx, p)
		if !ok {
			t.Fatal("Wait never parked")
		}
		timed(t, "SendText", func() { p.SendText("x") })
		timed(t, "Poll", p.Poll)
		timed(t, "Close", func() { p.Close(1000, "") })
		<-done
	})
}
