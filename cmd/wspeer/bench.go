package main

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math/bits"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/wspeer/wspeer"
)

func runBench(args []string) int {
	fs := newFlagSet("bench", "",
		`A load generator for any WebSocket echo server. Each connection keeps
-inflight binary messages of -size bytes in flight and sends the next one as
each echo comes back. Echoes are checked: length, and a sequence number in the
first 8 bytes (the rest is a fixed pattern, not compared, to keep the check
cheap). A live progress line goes to stderr when it is a terminal. At the end,
stdout gets messages/s, MB/s (payload echoed, 10^6 bytes) and the round-trip
p50/p99 (from a log-scale histogram, about 3% precision). A connection the
server closes (an endpoint that does not echo, such as serve's /chat) is
reported with the server's close code and reason. The exit status is 1 when no
echo came back, an echo was wrong or a connection failed.`,
		"wspeer bench -url ws://127.0.0.1:9001 -conns 64 -size 1024 -duration 10s")
	target := fs.String("url", "", "`URL` of the echo server")
	fs.require("url")
	conns := fs.Int("conns", 64, "`number` of connections")
	size := byteSize(1024)
	fs.Var(&size, "size", "message size in `bytes` (or with a KiB or MiB suffix)")
	inflight := fs.Int("inflight", 8, "`number` of messages in flight per connection")
	duration := fs.Duration("duration", 10*time.Second, "how long to send")
	insecure := fs.Bool("insecure", false, "do not verify the server's TLS certificate (wss://)")
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	if *conns <= 0 || *inflight <= 0 || *duration <= 0 {
		code, _ := fs.usageError("-conns, -inflight and -duration must be positive")
		return code
	}
	url := withScheme(fs, *target)
	ctx, stop := signalContext()
	defer stop()

	b := &bench{size: int(size), inflight: *inflight}
	var wg sync.WaitGroup
	workers := make([]*benchConn, *conns)
	for i := range workers {
		w := &benchConn{bench: b, p: wspeer.NewPeer()}
		w.p.InboundBufferSize = max(int(size)*(*inflight)*2, wspeer.DefaultBufferSize)
		w.p.OutboundBufferSize = w.p.InboundBufferSize
		workers[i] = w
		if err := w.p.ConnectToURL(url, clientTLS(*insecure)); err != nil {
			return fs.fail(exitUsage, "%v", err)
		}
	}
	start := time.Now()
	end := start.Add(*duration)
	b.end.Store(end.UnixNano())
	for _, w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w.run(ctx, end)
		}()
	}
	stopProgress := b.progress(start)
	wg.Wait()
	stopProgress()
	return b.report(workers, *duration, time.Since(start))
}

// report prints the results on stdout, and the first failures on stderr,
// and returns the exit status.
func (b *bench) report(workers []*benchConn, duration, elapsed time.Duration) int {
	var h histogram
	failed := 0
	for _, w := range workers {
		h.merge(&w.hist)
		if w.err != nil {
			failed++
			if failed <= 3 {
				fmt.Fprintln(os.Stderr, "wspeer bench: connection failed:", errText(w.err))
			}
		}
	}
	n := b.received.Load()
	// Rates are over the run's time: the duration asked for, or less when
	// every connection ended early (or an interrupt came).
	ran := min(elapsed, duration)
	header := fmt.Sprintf("bench: %s, %d-byte binary messages, %d in flight each, %v", plural(len(workers), "connection", "connections"), b.size, b.inflight, duration)
	if elapsed < duration {
		header += fmt.Sprintf(" (ended after %v)", elapsed.Round(time.Millisecond))
	}
	fmt.Println(header)
	fmt.Printf("messages: %d\n", n)
	fmt.Printf("messages/s: %.0f\n", float64(n)/ran.Seconds())
	fmt.Printf("MB/s: %.1f\n", float64(n)*float64(b.size)/ran.Seconds()/1e6)
	fmt.Printf("rtt p50: %v\n", h.quantile(0.50))
	fmt.Printf("rtt p99: %v\n", h.quantile(0.99))
	fmt.Printf("errors: %s, %s\n", plural(int(b.bad.Load()), "bad echo", "bad echoes"), plural(failed, "failed connection", "failed connections"))
	if n == 0 {
		fmt.Fprintln(os.Stderr, "wspeer bench: no echo came back")
	}
	if b.bad.Load() > 0 || failed > 0 || n == 0 {
		return exitFailure
	}
	return exitOK
}

// plural is "1 connection", "2 connections".
func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

// bench is what the connections share.
type bench struct {
	size, inflight int
	end            atomic.Int64 // UnixNano after which no message is sent
	received       atomic.Int64 // echoes received before end
	bad            atomic.Int64 // echoes with a wrong length or sequence number
}

// progress prints a live line on a terminal every half second and returns
// the function that stops it and clears the line.
func (b *bench) progress(start time.Time) func() {
	if !stderrIsTerminal() {
		return func() {}
	}
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(500 * time.Millisecond)
		defer t.Stop()
		last, lastT := int64(0), start
		for {
			select {
			case <-stop:
				fmt.Fprint(os.Stderr, "\r\033[K")
				return
			case now := <-t.C:
				n := b.received.Load()
				rate := float64(n-last) / now.Sub(lastT).Seconds()
				fmt.Fprintf(os.Stderr, "\r\033[K%5.1fs  %10.0f msg/s  %8.1f MB/s", now.Sub(start).Seconds(), rate, rate*float64(b.size)/1e6)
				last, lastT = n, now
			}
		}
	}()
	return func() { close(stop); <-done }
}

// benchConn is one connection: a Wait loop that sends, receives and times.
type benchConn struct {
	*bench
	p    *wspeer.Peer
	hist histogram
	err  error
	seq  uint64      // next sequence number to send
	want uint64      // next sequence number expected back
	sent []time.Time // send times of the messages in flight, oldest first
	buf  []byte
}

func (w *benchConn) run(ctx context.Context, end time.Time) {
	w.buf = make([]byte, w.size)
	for i := range w.buf {
		w.buf[i] = byte(i)
	}
	sendCtx, cancel := context.WithDeadline(ctx, end)
	defer cancel()
	for w.p.Wait(sendCtx) == nil {
		w.p.Poll()
		w.drain()
		for w.p.ReadyState() == wspeer.StateOpen && len(w.sent) < w.inflight {
			if w.size >= 8 {
				binary.BigEndian.PutUint64(w.buf, w.seq)
			}
			if err := w.p.PutPacket(w.buf); err != nil {
				if !errors.Is(err, wspeer.ErrBufferFull) {
					w.err = err
				}
				break
			}
			w.seq++
			w.sent = append(w.sent, time.Now())
		}
	}
	if w.p.ReadyState() == wspeer.StateClosed && w.err == nil {
		// Ended before the time was up: the server closed, or it failed.
		if w.err = w.p.CloseError(); w.err == nil {
			w.err = fmt.Errorf("the server closed the connection: %s (is the URL an echo endpoint?)", strings.TrimSpace(fmt.Sprintf("%d %s", w.p.CloseCode(), w.p.CloseReason())))
		}
		return
	}
	// Time is up: echoes still in flight are dropped with the connection.
	w.p.Close(1000, "bench done")
	graceCtx, cancel2 := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel2()
	for w.p.Wait(graceCtx) == nil {
		w.p.Poll()
		w.drain()
	}
	if w.p.ReadyState() != wspeer.StateClosed {
		w.p.Close(-1, "")
		w.err = errors.New("closing handshake did not finish")
	} else if cerr := w.p.CloseError(); cerr != nil && w.err == nil {
		w.err = cerr
	}
}

// drain takes the echoes, checks them and records their round trip.
func (w *benchConn) drain() {
	for {
		msg, err := w.p.GetPacket()
		if err != nil {
			return
		}
		if len(w.sent) == 0 {
			w.bad.Add(1) // an echo of nothing we sent
			continue
		}
		now := time.Now()
		if len(msg) != w.size || (w.size >= 8 && binary.BigEndian.Uint64(msg) != w.want) {
			w.bad.Add(1)
		}
		w.want++
		w.hist.add(now.Sub(w.sent[0]))
		w.sent = w.sent[1:]
		if now.UnixNano() < w.end.Load() {
			w.received.Add(1)
		}
	}
}

// histogram counts durations in log-scale buckets: 32 sub-buckets per power
// of two of nanoseconds, so any quantile is within about 3%, in fixed memory.
type histogram struct {
	counts [64 * 32]uint64
	total  uint64
}

func bucketOf(ns uint64) int {
	if ns < 32 {
		return int(ns)
	}
	exp := bits.Len64(ns) - 6 // keep 6 significant bits: 32..63
	return (exp+1)*32 + int(ns>>exp) - 32
}

func bucketValue(i int) time.Duration {
	if i < 32 {
		return time.Duration(i)
	}
	exp := i/32 - 1
	return time.Duration(uint64(i%32+32) << exp)
}

func (h *histogram) add(d time.Duration) {
	h.counts[bucketOf(uint64(max(d, 0)))]++
	h.total++
}

func (h *histogram) merge(o *histogram) {
	for i, c := range o.counts {
		h.counts[i] += c
	}
	h.total += o.total
}

// quantile returns the duration below which a fraction q of the samples lie.
func (h *histogram) quantile(q float64) time.Duration {
	if h.total == 0 {
		return 0
	}
	rank := uint64(q*float64(h.total-1)) + 1
	var seen uint64
	for i, c := range h.counts {
		if seen += c; seen >= rank {
			return bucketValue(i).Round(time.Microsecond)
		}
	}
	return 0
}
