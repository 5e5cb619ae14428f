package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"runtime"
	"sync"
	"time"

	"github.com/wspeer/wspeer"
)

// Budgets of the echo server, the autobahn client and connect -echo: the
// Autobahn TestSuite sends messages of up to 16 MiB, with room to spare.
const (
	defaultMaxMessage = 64 << 20
	defaultMaxPackets = 4096
)

// shutdownGrace bounds how long a server waits for its peers to finish the
// closing handshake after SIGINT/SIGTERM; the process exits within 2 s.
const shutdownGrace = 1500 * time.Millisecond

func runEcho(args []string) int {
	fs := newFlagSet("echo", "",
		`A bare WebSocket echo server: it accepts an upgrade on any path and sends
every message back with its type (text or binary) unchanged. It never drops a
message: when a peer's outbound buffer is full, echoing waits (and reading from
that peer stops) until the peer reads. This is the server to point conformance
suites, interop tests and benchmarks at.

It is built the Godot way: net.Listen + AcceptStream and a single poll loop
over all peers. A wspeer.Poller tells the loop which peers have work, so it
neither spins nor sleeps, and an idle peer costs no goroutine.

On start it prints "listening on ws://HOST:PORT" (wss:// with TLS) on stdout;
logs go to stderr. SIGINT/SIGTERM closes every peer with 1001.`,
		"wspeer echo -listen 127.0.0.1:9001 -protocol chat")
	var sf serverFlags
	sf.register(fs.FlagSet, "127.0.0.1:9001", defaultMaxMessage, "wss://")
	maxPackets := fs.Int("max-packets", defaultMaxPackets, "`number` of messages queued per direction per peer")
	gv := addGodotVarFlag(fs.FlagSet, "each one is decoded and sent back re-encoded; one that does not decode closes with 1007")
	verbose := fs.Bool("v", false, "log every connection's open and close (off: no log line per connection)")
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	if err := gv.check(); err != nil {
		code, _ := fs.usageError("%v", err)
		return code
	}
	if *maxPackets <= 0 {
		code, _ := fs.usageError("-max-packets must be positive")
		return code
	}
	log := newLevelLogger(*verbose)
	ln, tlsConf, code, ok := sf.open(fs)
	if !ok {
		return code
	}
	newPeer := func() *wspeer.Peer {
		p := sf.newPeer()
		p.MaxQueuedPackets = *maxPackets
		return p
	}
	fmt.Printf("listening on %s://%s\n", scheme(tlsConf), hostPort(ln, log))
	ctx, stop := signalContext()
	defer stop()
	var conns chan net.Conn
	if tlsConf != nil {
		// TLS needs a net.Conn per peer: a goroutine accepts and wraps.
		conns = make(chan net.Conn)
		go acceptLoop(ctx, ln, tlsConf, conns, log)
	} else {
		// The Poller accepts by itself, inside Wait.
		context.AfterFunc(ctx, func() { ln.Close() })
	}
	pollLoop(ctx, ln, conns, newPeer, gv.echoConvert(), log)
	return exitOK
}

// acceptLoop accepts TCP connections and hands them to the poll loop; the TLS
// handshake happens later, inside the peer's Poll, so a slow client cannot
// stall accepting. It ends when ctx ends.
func acceptLoop(ctx context.Context, ln net.Listener, tlsConf *tls.Config, out chan<- net.Conn, log *slog.Logger) {
	go func() {
		<-ctx.Done()
		ln.Close()
	}()
	for {
		c, err := ln.Accept()
		if err != nil {
			if ctx.Err() == nil {
				log.Error("accept", "err", err)
			}
			return
		}
		if tlsConf != nil {
			c = tls.Server(c, tlsConf)
		}
		select {
		case out <- c:
		case <-ctx.Done():
			c.Close()
			return
		}
	}
}

// echoConn is one peer of the poll loop.
type echoConn struct {
	p     *wspeer.Peer
	e     echoer
	state wspeer.State
}

// pollLoop is the Godot-style server loop: a single goroutine polls every
// peer, drains its packets and echoes them. A wspeer.Poller tells it which
// peers have work, so it neither sleeps nor spins, and an idle peer costs no
// goroutine. When ctx ends it closes every peer with 1001 and keeps polling,
// for at most shutdownGrace, until the closing handshakes are done.
func pollLoop(ctx context.Context, ln net.Listener, conns <-chan net.Conn, newPeer func() *wspeer.Peer, convert func([]byte) ([]byte, error), log *slog.Logger) {
	// One loop per GOMAXPROCS, each with its own Poller accepting from the
	// same listener: a loop busy with a huge message leaves the others free.
	trim := &memTrimmer{}
	var wg sync.WaitGroup
	for range runtime.GOMAXPROCS(0) {
		pl, err := wspeer.NewPoller()
		if err != nil {
			log.Error("poller", "err", err)
			break
		}
		es := &echoServer{pl: pl, peers: map[*wspeer.Peer]*echoConn{}, trim: trim, convert: convert, log: log}
		if err := es.accept(ln, conns, newPeer); err != nil {
			log.Error("poller", "err", err)
			pl.Close()
			break
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer pl.Close()
			es.run(ctx)
		}()
	}
	wg.Wait()
}

// echoServer is the state of echo's poll loop.
type echoServer struct {
	pl      *wspeer.Poller
	mu      sync.Mutex // guards peers: the accepting goroutine (TLS) adds to it
	peers   map[*wspeer.Peer]*echoConn
	trim    *memTrimmer
	convert func([]byte) ([]byte, error)
	log     *slog.Logger
}

// track starts echoing on p.
func (es *echoServer) track(p *wspeer.Peer) *wspeer.Peer {
	es.mu.Lock()
	es.peers[p] = &echoConn{p: p, e: echoer{convert: es.convert, trim: es.trim}, state: wspeer.StateConnecting}
	es.mu.Unlock()
	return p
}

// accept makes the Poller accept ln's connections inside Wait (no
// goroutine, channel or wake-up per connection), or, with TLS, takes them
// from conns.
func (es *echoServer) accept(ln net.Listener, conns <-chan net.Conn, newPeer func() *wspeer.Peer) error {
	if conns == nil {
		// A burst of new connections leaves its handshakes' garbage: once
		// the server is quiet, the trimmer hands that memory back too.
		return es.pl.Listen(ln, func() *wspeer.Peer { es.trim.released(); return es.track(newPeer()) })
	}
	go func() {
		for c := range conns {
			p := newPeer()
			if err := p.AcceptStream(c); err != nil {
				es.log.Error("accept stream", "remote", c.RemoteAddr().String(), errAttr(err))
				continue
			}
			es.pl.Add(es.track(p))
		}
	}()
	return nil
}

// run is the loop: when ctx ends it closes every peer with 1001 and keeps
// polling, for at most shutdownGrace, until the closing handshakes are done.
func (es *echoServer) run(ctx context.Context) {
	var ready []*wspeer.Peer
	var err error
	waitCtx := ctx
	graceCtx, endGrace := context.WithCancel(context.Background())
	defer endGrace()
	for {
		ready, err = es.pl.Wait(waitCtx, ready[:0])
		if err != nil {
			if waitCtx != ctx || ctx.Err() == nil {
				break // the shutdown grace is over
			}
			// Shutdown: close every peer, then wait for their handshakes.
			waitCtx = graceCtx
			time.AfterFunc(shutdownGrace, endGrace)
			if es.closeAll() == 0 {
				break
			}
			continue
		}
		if left := es.step(ready); waitCtx != ctx && left == 0 {
			return
		}
	}
	es.mu.Lock()
	defer es.mu.Unlock()
	for p := range es.peers {
		p.Close(-1, "")
	}
}

// step polls the ready peers and echoes; it returns how many peers are left.
func (es *echoServer) step(ready []*wspeer.Peer) int {
	for _, p := range ready {
		es.mu.Lock()
		ec := es.peers[p]
		es.mu.Unlock()
		if ec == nil {
			continue
		}
		ec.step()
		if ec.state == wspeer.StateClosed {
			es.pl.Remove(p)
			es.mu.Lock()
			delete(es.peers, p)
			es.mu.Unlock()
			// No log line per connection on the hot path: -v shows them.
			es.log.Debug("closed", "remote", p.ConnectedHost(), "code", p.CloseCode(), "reason", p.CloseReason(), errAttr(p.CloseError()))
		}
	}
	es.mu.Lock()
	defer es.mu.Unlock()
	return len(es.peers)
}

// closeAll starts the closing handshake of every peer with 1001 and returns
// how many there are.
func (es *echoServer) closeAll() int {
	es.mu.Lock()
	defer es.mu.Unlock()
	for p := range es.peers {
		p.Close(1001, "server shutting down")
	}
	return len(es.peers)
}

// step polls the peer once and echoes what it received.
func (ec *echoConn) step() {
	ec.p.Poll()
	ec.e.pump(ec.p)
	if st := ec.p.ReadyState(); st != ec.state {
		if st == wspeer.StateOpen {
			slog.Default().Debug("open", "remote", ec.p.ConnectedHost(), "protocol", ec.p.SelectedProtocol())
		}
		ec.state = st
	}
}

// echoer sends every received message back with its type, without ever
// dropping one. It takes the peer's whole queue at once (TakePackets: the
// messages are lent, not copied) and sends it back at once (SendBatch: one
// lock, one write). Messages the outbound buffer has no room for are copied
// and retried after the next Poll, and nothing more is taken from the peer's
// queue meanwhile, so the peer's inbound budget fills and TCP pushes back on
// the sender. Call pump after each Poll.
//
// An idle echoer holds no message buffer: held copies are dropped once sent,
// and a big one's release lets the trimmer give the memory back.
type echoer struct {
	pks  []wspeer.Packet
	held []wspeer.Packet // owned copies waiting for room
	// echoed counts the messages sent back.
	echoed int
	// convert, when set, transforms each binary message (-godot-var).
	convert func([]byte) ([]byte, error)
	// trim, when set, hands the memory back once big buffers are released.
	trim *memTrimmer
}

// pump sends what is held, then echoes the queued packets. It reports
// whether it sent or dropped anything. Messages that arrive once the peer is
// closing cannot be echoed and are discarded.
func (e *echoer) pump(p *wspeer.Peer) bool {
	if len(e.held) > 0 {
		n, err := p.SendBatch(e.held)
		e.echoed += n
		e.release(e.held[:n])
		e.held = e.held[n:]
		if len(e.held) > 0 && errors.Is(err, wspeer.ErrBufferFull) {
			return n > 0
		}
		e.held = nil // sent, or the peer is closing: nothing to keep
	}
	e.pks = p.TakePackets(e.pks[:0])
	if len(e.pks) == 0 {
		return false
	}
	if !e.convertAll(p) {
		return true
	}
	n, err := p.SendBatch(e.pks)
	e.echoed += n
	e.release(e.pks[:n]) // the peer's big buffers go back to its pools
	if errors.Is(err, wspeer.ErrBufferFull) {
		for _, pk := range e.pks[n:] {
			// Lent until the next Poll: keep a copy of what has to wait.
			e.held = append(e.held, wspeer.Packet{Data: append([]byte(nil), pk.Data...), Text: pk.Text})
		}
	}
	clear(e.pks) // keep no reference to the peer's buffer
	return true
}

// release notes the messages just sent: after a big one, the memory of the
// buffers that carried it may go back to the operating system.
func (e *echoer) release(sent []wspeer.Packet) {
	for _, pk := range sent {
		if cap(pk.Data) > maxIdleBuf {
			e.trim.released()
		}
	}
}

// maxIdleBuf is the largest buffer an echoer keeps while its queue is empty.
const maxIdleBuf = 64 << 10

// stderrIsTerminal reports whether stderr is a terminal, for live progress
// lines that would only clutter a log file.
func stderrIsTerminal() bool {
	fi, err := os.Stderr.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
