//go:build !js

package wspeer

import (
	"context"
	"encoding/binary"
	"errors"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Robustness against hostile frames: huge announced lengths, oversized
// messages, endless fragments, ping floods (ROBUSTNESS.md).

// maskedHeader returns the header of a masked client frame with a zero
// masking key, so that the payload goes on the wire as is.
func maskedHeader(op byte, fin bool, n uint64) []byte {
	b0 := op
	if fin {
		b0 |= 0x80
	}
	var b []byte
	switch {
	case n < 126:
		b = []byte{b0, 0x80 | byte(n)}
	case n < 65536:
		b = []byte{b0, 0x80 | 126, byte(n >> 8), byte(n)}
	default:
		b = append([]byte{b0, 0x80 | 127}, binary.BigEndian.AppendUint64(nil, n)...)
	}
	return append(b, 0, 0, 0, 0)
}

// attack writes chunks to c from a goroutine until one fails (the peer closed)
// or stop is closed; wait waits for it. Nothing is allocated per write.
type attack struct {
	stop    chan struct{}
	wg      sync.WaitGroup
	written int64
}

func startAttack(c net.Conn, chunks func(i int) []byte) *attack {
	a := &attack{stop: make(chan struct{})}
	a.wg.Add(1)
	go func() {
		defer a.wg.Done()
		for i := 0; ; i++ {
			b := chunks(i)
			if b == nil {
				return
			}
			select {
			case <-a.stop:
				return
			default:
			}
			c.SetWriteDeadline(time.Now().Add(testTimeout))
			n, err := c.Write(b)
			a.written += int64(n)
			if err != nil {
				return
			}
		}
	}()
	return a
}

func (a *attack) end() { close(a.stop); a.wg.Wait() }

// expectProtocolClose checks a peer that failed the connection with code.
func expectProtocolClose(t *testing.T, p *Peer, rc *rawClient, code int, sentinel error) {
	t.Helper()
	if p.CloseCode() != code || !errors.Is(p.CloseError(), ErrProtocol) || !errors.Is(p.CloseError(), sentinel) {
		t.Fatalf("code %d err %v; want %d, %v", p.CloseCode(), p.CloseError(), code, sentinel)
	}
	rc.conn.SetReadDeadline(time.Now().Add(testTimeout))
	if got, _ := rc.expectClose(); got != code {
		t.Fatalf("close frame %d, want %d", got, code)
	}
}

func TestRobustHugeFrameHeader(t *testing.T) {
	tests := []struct {
		name     string
		length   uint64
		code     int
		sentinel error
	}{
		{"2^63-1 bytes", 1<<63 - 1, 1009, ErrMessageTooBig},
		{"2^64-1 bytes (top bit set)", 1<<64 - 1, 1002, ErrProtocolViolation},
		{"budget+1 bytes", DefaultBufferSize + 1, 1009, ErrMessageTooBig},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, rc := openServer(t, nil)
			junk := make([]byte, 32<<10)
			a0 := totalAlloc()
			a := startAttack(rc.conn, func(i int) []byte {
				if i == 0 {
					return maskedHeader(2, true, tt.length)
				}
				return junk
			})
			took := closedWithin(t, p, 5*time.Second)
			grew := totalAlloc() - a0
			rc.conn.Close()
			a.end()
			expectProtocolCloseNoRead(t, p, tt.code, tt.sentinel)
			if grew > 1<<20 {
				t.Fatalf("allocated %s", mib(grew))
			}
			t.Logf("CLOSED %d in %v, %d bytes allocated meanwhile", p.CloseCode(), took.Round(time.Microsecond), grew)
		})
	}
}

// expectProtocolCloseNoRead is expectProtocolClose without reading the close
// frame (the raw end is already closed).
func expectProtocolCloseNoRead(t *testing.T, p *Peer, code int, sentinel error) {
	t.Helper()
	if p.CloseCode() != code || !errors.Is(p.CloseError(), ErrProtocol) || !errors.Is(p.CloseError(), sentinel) {
		t.Fatalf("code %d err %v; want %d, %v", p.CloseCode(), p.CloseError(), code, sentinel)
	}
}

func TestRobustOversizedMessage(t *testing.T) {
	// 16 MiB against a 64 KiB budget, announced at once or grown fragment by
	// fragment: 1009 before the budget is exceeded, and the heap never holds
	// more than the budget.
	const budget = 64 << 10
	const total = 16 << 20
	const frag = 16 << 10
	payload := make([]byte, 32<<10)
	tests := []struct {
		name   string
		chunks func(i int) []byte
	}{
		{"one 16 MiB frame", func(i int) []byte {
			if i == 0 {
				return maskedHeader(2, true, total)
			}
			if i > total/len(payload) {
				return nil
			}
			return payload
		}},
		{"16 MiB in 16 KiB fragments", func() func(i int) []byte {
			var fr []byte
			return func(i int) []byte {
				if i >= total/frag {
					return nil
				}
				op, fin := byte(0), i == total/frag-1
				if i == 0 {
					op = 2
				}
				fr = append(append(fr[:0], maskedHeader(op, fin, frag)...), payload[:frag]...)
				return fr
			}
		}()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, rc := openServer(t, func(p *Peer) { p.InboundBufferSize = budget })
			h0 := heapLive()
			a0 := totalAlloc()
			a := startAttack(rc.conn, tt.chunks)
			took := closedWithin(t, p, 10*time.Second)
			grew := totalAlloc() - a0
			h1 := heapLive()
			expectProtocolClose(t, p, rc, 1009, ErrMessageTooBig)
			rc.conn.Close()
			a.end()
			if limit := int64(4*budget + 1<<20); grew > limit {
				t.Fatalf("allocated %s during the attack, limit %s", mib(grew), mib(limit))
			}
			t.Logf("1009 after %v having read %d of %d bytes; allocated %d bytes meanwhile; live heap %s -> %s",
				took.Round(time.Microsecond), a.written, total, grew, mib(h0), mib(h1))
		})
	}
}

func TestRobustUnreadMessagesFlood(t *testing.T) {
	// The application reads nothing while the remote sends 16 MiB of
	// messages that each fit the budget: reading stops when the budget is
	// full (backpressure through TCP), nothing is dropped, and the heap holds
	// the budget, not the flood.
	const budget = 64 << 10
	total := scale(4<<20, 16<<20)
	msg := 8 << 10
	p, rc := openServer(t, func(p *Peer) { p.InboundBufferSize = budget })
	fr := append(maskedHeader(2, true, uint64(msg)), make([]byte, msg)...)
	for i := 0; i < msg; i += 4 {
		binary.BigEndian.PutUint32(fr[8+i:], uint32(i)) // offset 8: header of 4 + mask of 4
	}
	count := total / msg
	h0 := heapLive()
	a := startAttack(rc.conn, func(i int) []byte {
		if i >= count {
			return nil
		}
		return fr
	})
	defer a.end()
	// Poll until reading has stopped: the queue is full and stays full.
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	runUntilClosed(ctx, p, nil)
	cancel()
	queued, unread := p.AvailablePacketCount(), 0
	p.mu.Lock()
	unread = p.cfg.inMax - p.inboundRoomLocked()
	p.mu.Unlock()
	hStalled := heapLive()
	if unread > budget || p.ReadyState() != StateOpen {
		t.Fatalf("%d unread bytes (budget %d), state %v", unread, budget, p.ReadyState())
	}
	// Now drain: every message arrives, whole and in order.
	got := 0
	ctx, cancel = context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	runUntilClosed(ctx, p, func() {
		for {
			b, err := p.GetPacket()
			if err != nil {
				break
			}
			if len(b) != msg || binary.BigEndian.Uint32(b[msg-4:]) != uint32(msg-4) {
				t.Errorf("message %d damaged", got)
			}
			got++
		}
		if got == count {
			p.Close(-1, "")
		}
	})
	if got != count {
		t.Fatalf("received %d of %d messages", got, count)
	}
	t.Logf("%s flood, application not reading: %d messages (%d bytes) queued, live heap %s -> %s; then all %d received in order",
		mib(int64(total)), queued, unread, mib(h0), mib(hStalled), count)
	if hStalled-h0 > 4*budget+1<<20 {
		t.Fatalf("heap grew %s", mib(hStalled-h0))
	}
}

func TestRobustEndlessFragments(t *testing.T) {
	// 100,000 one-byte (or empty) continuation frames: the fragment limit
	// (max(4096, InboundBufferSize/16)) closes with 1009 long before the
	// size budget would, with bounded memory.
	const budget = 1 << 20 // 65,536 fragments allowed
	for _, size := range []int{1, 0} {
		name := map[int]string{1: "one-byte fragments", 0: "empty fragments"}[size]
		t.Run(name, func(t *testing.T) {
			n := 100000
			var buf []byte
			for i := 0; i < n; i++ {
				op := byte(0)
				if i == 0 {
					op = 2
				}
				buf = append(buf, maskedHeader(op, i == n-1, uint64(size))...)
				buf = append(buf, make([]byte, size)...)
			}
			p, rc := openServer(t, func(p *Peer) { p.InboundBufferSize = budget })
			a0 := totalAlloc()
			a := startAttack(rc.conn, func(i int) []byte {
				if i > 0 {
					return nil
				}
				return buf
			})
			took := closedWithin(t, p, 10*time.Second)
			grew := totalAlloc() - a0
			expectProtocolClose(t, p, rc, 1009, ErrMessageTooBig)
			rc.conn.Close()
			a.end()
			if limit := int64(4*maxFragments(budget) + 1<<20); grew > limit {
				t.Fatalf("allocated %s", mib(grew))
			}
			t.Logf("%d fragments of %d bytes: 1009 after %v (limit %d fragments), %d bytes allocated meanwhile",
				n, size, took.Round(time.Microsecond), maxFragments(budget), grew)
		})
	}
}

// controlBacklog returns the unwritten bytes in p's write buffer.
func controlBacklog(p *Peer) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.wbuf) - p.woff
}

func TestRobustPingFlood(t *testing.T) {
	pings := make([]byte, 0, 256*131)
	for i := 0; i < 256; i++ {
		pings = append(pings, maskedHeader(9, true, 125)...)
		pings = append(pings, make([]byte, 125)...)
	}
	flood := scale(time.Second, 5*time.Second)

	t.Run("backpressure", func(t *testing.T) {
		// No heartbeat: once maxControlBacklog bytes of pongs wait, the
		// server stops reading, so TCP stops the flooder. When the client
		// reads again, every pong arrives.
		p, rc := openServer(t, nil)
		h0 := heapLive()
		var sent int64
		a := startAttack(rc.conn, func(int) []byte { return pings })
		maxBacklog, loops := 0, 0
		ctx, cancel := context.WithTimeout(context.Background(), flood)
		runUntilClosed(ctx, p, func() {
			loops++
			maxBacklog = max(maxBacklog, controlBacklog(p))
		})
		cancel()
		hFlood := heapLive()
		if p.ReadyState() != StateOpen {
			t.Fatalf("state %v err %v", p.ReadyState(), p.CloseError())
		}
		if maxBacklog > maxControlBacklog+1<<10 {
			t.Fatalf("write backlog reached %d bytes", maxBacklog)
		}
		// The flooder stops; the client reads every pong while the server
		// polls, then answers the server's close.
		close(a.stop)
		var pongs atomic.Int64
		readerDone := make(chan error, 1)
		go func() {
			for {
				f, err := tryReadFrame(rc.br)
				switch {
				case err != nil:
					readerDone <- err
					return
				case f.op == 8:
					rc.conn.Write(frame(8, true, true, f.payload))
					readerDone <- nil
					return
				case f.op != 10 || len(f.payload) != 125:
					readerDone <- errors.New("not a pong")
					return
				}
				pongs.Add(1)
			}
		}()
		ctx, cancel = context.WithTimeout(context.Background(), testTimeout)
		defer cancel()
		go func() {
			// Close from another goroutine once every pong arrived.
			a.wg.Wait()
			sent = a.written / 131
			for pongs.Load() < sent && ctx.Err() == nil {
				time.Sleep(time.Millisecond)
			}
			p.Close(1000, "")
		}()
		runUntilClosed(ctx, p, nil)
		if err := <-readerDone; err != nil || p.CloseCode() != 1000 || pongs.Load() != sent {
			t.Fatalf("reader %v, code %d, %d pongs for %d pings", err, p.CloseCode(), pongs.Load(), sent)
		}
		t.Logf("ping flood for %v: write backlog <= %d bytes, %d Poll loops (no busy loop), live heap %s -> %s; %d pongs all delivered afterwards",
			flood, maxBacklog, loops, mib(h0), mib(hFlood), sent)
		if hFlood-h0 > 1<<20 {
			t.Fatalf("heap grew %s", mib(hFlood-h0))
		}
		if loops > 10000 {
			t.Fatalf("%d Poll loops in %v: busy loop", loops, flood)
		}
	})

	t.Run("heartbeat closes the flooder", func(t *testing.T) {
		const interval = 200 * time.Millisecond
		p, rc := openServer(t, func(p *Peer) { p.HeartbeatInterval = interval })
		a := startAttack(rc.conn, func(int) []byte { return pings })
		defer a.end()
		maxBacklog := 0
		start := time.Now()
		ctx, cancel := context.WithTimeout(context.Background(), 10*interval)
		defer cancel()
		if !runUntilClosed(ctx, p, func() { maxBacklog = max(maxBacklog, controlBacklog(p)) }) {
			t.Fatalf("still %v", p.ReadyState())
		}
		took := time.Since(start)
		rc.conn.Close()
		expectLost(t, p, ErrHeartbeatTimeout)
		if took > 2*interval+400*time.Millisecond || maxBacklog > maxControlBacklog+1<<10 {
			t.Fatalf("CLOSED after %v, backlog %d", took, maxBacklog)
		}
		t.Logf("HeartbeatInterval %v: flooder CLOSED -1 after %v, write backlog <= %d bytes", interval, took.Round(time.Millisecond), maxBacklog)
	})
}
