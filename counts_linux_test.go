//go:build linux

package wspeer

import (
	"context"
	"runtime"
	"testing"
	"time"
)

// echoCounts pipelines n masked 64-byte messages, inflight at a time, from a
// raw client through a Poller-driven echo peer (TakePackets, SendBatch), and
// returns the server side's system calls (reads, writes, epoll_wait) and
// mallocs per echoed message and the Poller's wake-pipe writes.
func echoCounts(t *testing.T, n, inflight int) (syscalls, mallocs float64, wakes int64) {
	p, rc := openServer(t, nil)
	pl, err := NewPoller()
	if err != nil {
		t.Fatal(err)
	}
	defer pl.Close()
	pl.Add(p)
	frameBytes := frame(2, true, true, make([]byte, 64))
	burst := make([]byte, 0, inflight*len(frameBytes))
	for range inflight {
		burst = append(burst, frameBytes...)
	}
	echoLen := 2 + 64
	// The client keeps two bursts in flight: it writes two, then another
	// each time the echoes of one are back; bounded by n and by the test's
	// deadline on the connection.
	clientDone := make(chan error, 1)
	go func() {
		buf := make([]byte, inflight*echoLen)
		for sent, read := 0, 0; read < n; read += inflight {
			for sent < n && sent < read+2*inflight {
				if _, err := rc.conn.Write(burst); err != nil {
					clientDone <- err
					return
				}
				sent += inflight
			}
			for got := 0; got < len(buf); {
				m, err := rc.br.Read(buf[got:])
				if err != nil {
					clientDone <- err
					return
				}
				got += m
			}
		}
		clientDone <- nil
	}()
	tr := func() *rawTransport { p.mu.Lock(); defer p.mu.Unlock(); return p.tr.(*rawTransport) }()
	e := pl.impl.(*epollPoller)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var ready []*Peer
	var pks []Packet
	echoed := 0
	warm := n / 10
	var ms0, ms1 runtime.MemStats
	var calls0, waits0 int
	for echoed < n {
		if echoed >= warm && calls0 == 0 {
			runtime.ReadMemStats(&ms0)
			calls0, waits0 = tr.calls, e.waits
			e.wakes.Store(0)
		}
		ready, err = pl.Wait(ctx, ready[:0])
		if err != nil {
			t.Fatalf("after %d echoes: %v", echoed, err)
		}
		for _, q := range ready {
			q.Poll()
			pks = q.TakePackets(pks[:0])
			if _, err := q.SendBatch(pks); err != nil {
				t.Fatal(err)
			}
			echoed += len(pks)
		}
	}
	runtime.ReadMemStats(&ms1)
	if err := <-clientDone; err != nil {
		t.Fatal(err)
	}
	measured := float64(echoed - warm)
	syscalls = float64(tr.calls-calls0+e.waits-waits0) / measured
	mallocs = float64(ms1.Mallocs-ms0.Mallocs) / measured
	return syscalls, mallocs, e.wakes.Load()
}

// Counts, not timings: a pipelined 64-byte echo through the Poller makes at
// most 0.25 system calls and no allocation per message on the server side,
// and never writes the wake-up pipe when every send comes from the polling
// goroutine.
func TestPollerEchoCounts(t *testing.T) {
	if testing.Short() {
		t.Skip("pipelines 20,000 messages")
	}
	sc, allocs, wakes := echoCounts(t, 20000, 16)
	t.Logf("per echoed message: %.3f system calls, %.3f mallocs; %d wake-pipe writes", sc, allocs, wakes)
	if sc > 0.25 {
		t.Errorf("%.3f system calls per message, want <= 0.25", sc)
	}
	// The client goroutine shares the process: its reads allocate nothing
	// either (a reused buffer), so the budget is for the whole process.
	if allocs > 0.01 && !raceEnabled {
		t.Errorf("%.3f mallocs per message, want 0", allocs)
	}
	if wakes != 0 {
		t.Errorf("%d wake-pipe writes, want 0", wakes)
	}
}
