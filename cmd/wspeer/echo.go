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
	fs := newFlagSet("echo", "[-listen ADDR] [-protocol P]... [-tls-cert F -tls-key F]",
		`A bare WebSocket echo server: it accepts an upgrade on any path and sends
every message back with its type (text or binary) unchanged. It never drops a
message: when a peer's outbound buffer is full, echoing waits (and reading from
that peer stops) until the peer reads. This is the server to point conformance
suites, interop tests and benchmarks at.

It is built the Godot way: net.Listen + AcceptStream and a single poll loop
over all peers. When rounds find nothing to do, the loop sleeps: 50µs at
first, doubling up to 1 ms, so an idle server costs about 1000 cheap wake-ups
a second, not a core (and a quiet moment under load costs little latency).

On start it prints "listening on ws://HOST:PORT" (wss:// with TLS) on stdout;
logs go to stderr. SIGINT/SIGTERM closes every peer with 1001.`,
		"wspeer echo -listen 127.0.0.1:9001 -protocol chat")
	listen := fs.String("listen", "127.0.0.1:9001", "TCP `address` to listen on (port 0 picks a free port)")
	var protocols protocolList
	fs.Var(&protocols, "protocol", "a subprotocol the server supports (repeatable; the client's order decides)")
	certFile := fs.String("tls-cert", "", "certificate `file` (PEM) for wss://")
	keyFile := fs.String("tls-key", "", "private key `file` (PEM) for wss://")
	maxMessage := byteSize(defaultMaxMessage)
	fs.Var(&maxMessage, "max-message", "inbound and outbound buffer `size` per peer (largest message)")
	maxPackets := fs.Int("max-packets", defaultMaxPackets, "messages queued per direction per peer")
	compress := fs.Bool("compress", false, "negotiate permessage-deflate compression (RFC 7692)")
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	log := newLogger()
	tlsConf, err := loadServerTLS(*certFile, *keyFile)
	if err != nil {
		log.Error("echo", "err", err)
		return exitUsage
	}
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		log.Error("listen", "err", err)
		return exitFailure
	}
	newPeer := func() *wspeer.Peer {
		p := wspeer.NewPeer()
		p.InboundBufferSize = int(maxMessage)
		p.OutboundBufferSize = int(maxMessage)
		p.MaxQueuedPackets = *maxPackets
		p.SupportedProtocols = protocols.stringList
		p.Compression = *compress
		return p
	}
	if *maxPackets <= 0 {
		log.Error("echo", "err", "-max-packets must be positive")
		ln.Close()
		return exitUsage
	}
	fmt.Printf("listening on %s://%s\n", scheme(tlsConf), ln.Addr())
	ctx, stop := signalContext()
	defer stop()
	conns := make(chan net.Conn)
	go acceptLoop(ctx, ln, tlsConf, conns, log)
	pollLoop(ctx, conns, newPeer, log)
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
	addr  string
}

// pollLoop is the Godot-style server loop: a single goroutine polls every
// peer, drains its packets and echoes them. Poll does not report whether it
// made progress, so a round counts as busy when a peer changed state,
// received or echoed a message, or wrote queued bytes; after a few idle
// rounds the loop sleeps, up to 1 ms (less while it was busy moments ago; a new
// connection ends the sleep). When ctx
// ends it closes every peer with 1001 and keeps polling, for at most
// shutdownGrace, until the closing handshakes are done.
func pollLoop(ctx context.Context, conns <-chan net.Conn, newPeer func() *wspeer.Peer, log *slog.Logger) {
	peers := make(map[*echoConn]struct{})
	var deadline time.Time
	idle := 0
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		if deadline.IsZero() && ctx.Err() != nil {
			deadline = time.Now().Add(shutdownGrace)
			conns = nil
			for ec := range peers {
				ec.p.Close(1001, "server shutting down")
			}
		}
		if !deadline.IsZero() && (len(peers) == 0 || time.Now().After(deadline)) {
			for ec := range peers {
				ec.p.Close(-1, "")
			}
			return
		}
		busy := false
		// Take new connections every round: under load the loop never idles.
	accept:
		for conns != nil {
			select {
			case c, ok := <-conns:
				if !ok {
					conns = nil
					break accept
				}
				if ec := acceptPeer(c, newPeer, log); ec != nil {
					peers[ec] = struct{}{}
					busy = true
				}
			default:
				break accept
			}
		}
		for ec := range peers {
			if ec.step() {
				busy = true
			}
			if ec.state == wspeer.StateClosed {
				delete(peers, ec)
				log.Info("closed", "remote", ec.addr, "code", ec.p.CloseCode(), "reason", ec.p.CloseReason(), "err", ec.p.CloseError())
			}
		}
		if busy {
			idle = 0
			continue
		}
		// A few cheap idle rounds first: a message may be mid-transfer (Poll
		// reads at most one buffer per call and that does not show here).
		// Then sleeps that double from 25µs to 1ms, so that a quiet moment
		// between two round trips costs little latency and a server that
		// stays idle wakes up only about 1000 times a second.
		if idle++; idle <= spinRounds {
			runtime.Gosched()
			continue
		}
		timer.Reset(idleSleep(idle - spinRounds))
		select {
		case c, ok := <-conns:
			if !ok {
				conns = nil
				break
			}
			if ec := acceptPeer(c, newPeer, log); ec != nil {
				peers[ec] = struct{}{}
			}
			idle = 0
		case <-timer.C:
		case <-ctx.Done():
		}
		if !timer.Stop() {
			select {
			case <-timer.C:
			default:
			}
		}
	}
}

// acceptPeer starts the server handshake on c in a new peer.
func acceptPeer(c net.Conn, newPeer func() *wspeer.Peer, log *slog.Logger) *echoConn {
	ec := &echoConn{p: newPeer(), addr: c.RemoteAddr().String()}
	if err := ec.p.AcceptStream(c); err != nil {
		log.Error("accept stream", "remote", ec.addr, "err", err)
		return nil
	}
	ec.state = ec.p.ReadyState()
	return ec
}

// spinRounds is how many idle rounds the poll loop does before sleeping.
const spinRounds = 16

// idleSleep is the poll loop's sleep after n idle sleeps in a row.
func idleSleep(n int) time.Duration {
	if n > 6 {
		return time.Millisecond
	}
	return min(25*time.Microsecond<<n, time.Millisecond)
}

// step polls the peer once and echoes what it received; it reports whether
// anything happened.
func (ec *echoConn) step() bool {
	before := ec.p.CurrentOutboundBufferedAmount()
	ec.p.Poll()
	busy := ec.e.pump(ec.p)
	if st := ec.p.ReadyState(); st != ec.state {
		if st == wspeer.StateOpen {
			slog.Default().Debug("open", "remote", ec.addr, "protocol", ec.p.SelectedProtocol())
		}
		ec.state = st
		busy = true
	}
	return busy || ec.p.CurrentOutboundBufferedAmount() != before
}

// echoer sends every received message back with its type, without ever
// dropping one: a message the outbound buffer has no room for is kept and
// retried after the next Poll, and nothing more is read from the peer's queue
// meanwhile, so the peer's inbound budget fills and TCP pushes back on the
// sender. Call pump after each Poll.
type echoer struct {
	pending []byte
	mode    wspeer.WriteMode
	held    bool
	// Echoed counts the messages sent back.
	echoed int
}

// pump retries a held message, then echoes queued packets until the peer's
// queue is empty or its outbound buffer is full. It reports whether it sent
// or dropped anything. Messages that arrive once the peer is closing cannot
// be echoed and are discarded.
func (e *echoer) pump(p *wspeer.Peer) bool {
	did := false
	for {
		if !e.held {
			msg, err := p.GetPacket()
			if err != nil {
				return did
			}
			e.pending, e.held = msg, true
			e.mode = wspeer.WriteModeBinary
			if p.WasStringPacket() {
				e.mode = wspeer.WriteModeText
			}
		}
		err := p.Send(e.pending, e.mode)
		if errors.Is(err, wspeer.ErrBufferFull) {
			return did
		}
		if err == nil {
			e.echoed++
		}
		e.pending, e.held = nil, false
		did = true
	}
}

// stderrIsTerminal reports whether stderr is a terminal, for live progress
// lines that would only clutter a log file.
func stderrIsTerminal() bool {
	fi, err := os.Stderr.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
