package main

import (
	"context"
	"crypto/tls"
	"embed"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/wspeer/wspeer"
	"github.com/wspeer/wspeer/internal/wasmassets"
)

// web holds the chat page: index.html and app.js. Its style.css and
// favicon.svg are the Go/wasm page's, from internal/wasmassets: the two
// pages share them (routes).
//
//go:embed web
var web embed.FS

func runServe(args []string) int {
	fs := newFlagSet("serve", "",
		`Serves a chat page at / and two WebSocket endpoints, over net/http:
`+chatHelp+`
  /echo  every message is sent back with its type (text or binary) unchanged.

Browsers' Origin must match the host, or one of the -origin patterns
(path.Match syntax, e.g. "*.example.com"). On start it prints
"listening on ws://HOST:PORT" and the page's http:// URL on stdout; logs go to
stderr. With -tls-cert the server offers HTTP/2 too, and browsers open the
WebSockets as streams of it (RFC 8441). SIGINT/SIGTERM closes every peer with 1001 and exits within 2 s.`,
		"wspeer serve -listen 127.0.0.1:8080   # then open http://127.0.0.1:8080 in two tabs")
	var sf serverFlags
	sf.register(fs.FlagSet, "127.0.0.1:8080", 1<<20, "https:// and wss://")
	var origins stringList
	fs.Var(&origins, "origin", "an extra allowed Origin host `pattern` (repeatable)")
	natsURL := fs.String("nats", "", "share chat rooms with the other nodes on the NATS server at `URL` (nats://host:port)")
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	log := newLogger()
	ln, tlsConf, code, ok := sf.open(fs)
	if !ok {
		return code
	}
	if tlsConf != nil {
		ln = tls.NewListener(ln, withHTTP2(tlsConf)) // serve_h2.go
	}
	rooms, err := newChat(log, *natsURL)
	if err != nil {
		log.Error("serve", "err", err)
		return exitUsage
	}
	defer rooms.close()
	s := &server{
		log: log,
		up: wspeer.Upgrader{
			Protocols:      sf.protocols.stringList,
			OriginPatterns: origins,
			NewPeer:        sf.newPeer,
		},
		peers: make(map[*wspeer.Peer]struct{}),
		chat:  rooms,
	}
	// hard ends every connection loop once the shutdown grace is over.
	hard, cancelHard := context.WithCancel(context.Background())
	defer cancelHard()
	s.hard = hard
	srv := &http.Server{
		Handler:           s.routes(),
		ReadHeaderTimeout: 10 * time.Second,
		ConnContext:       wspeer.ConnContext, // SetNoDelay on HTTP/2 streams
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	httpScheme := "http"
	if tlsConf != nil {
		httpScheme = "https"
	}
	addr := hostPort(ln, log)
	fmt.Printf("listening on %s://%s\n", scheme(tlsConf), addr)
	fmt.Printf("chat page at %s://%s/\n", httpScheme, addr)

	ctx, stop := signalContext()
	defer stop()
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	select {
	case err := <-served:
		return fs.fail(exitFailure, "%v", err)
	case <-ctx.Done():
	}
	s.shutdown(srv, cancelHard)
	return exitOK
}

// shutdown stops accepting, closes every peer with 1001 and waits for their
// closing handshakes for at most shutdownGrace, then ends the connection
// loops with cancelHard.
func (s *server) shutdown(srv *http.Server, cancelHard context.CancelFunc) {
	s.log.Info("shutting down", "peers", s.count())
	graceCtx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	go srv.Shutdown(graceCtx) // stops accepting; hijacked WebSocket connections are ours
	s.closeAll(1001, "server shutting down")
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-graceCtx.Done():
		s.log.Warn("closing handshakes unfinished, dropping", "peers", s.count())
		cancelHard()
		<-done
	}
}

// server is the state of wspeer serve: its peers, chat rooms and settings.
type server struct {
	log  *slog.Logger
	up   wspeer.Upgrader // protocols, origin patterns and budgets
	hard context.Context
	wg   sync.WaitGroup

	chat *chat // the /chat rooms (chat.go)

	mu    sync.Mutex
	peers map[*wspeer.Peer]struct{} // every open peer, chat and echo, for shutdown
}

func (s *server) routes() http.Handler {
	mux := http.NewServeMux()
	page, _ := fs.Sub(web, "web")
	mux.Handle("GET /", http.FileServerFS(page))
	for _, shared := range wasmassets.Shared() {
		mux.Handle("GET /"+shared, wasmassets.Handler())
	}
	mux.HandleFunc("GET /chat", s.serveChat)
	mux.HandleFunc("GET /chat/{room}", s.serveChat)
	mux.HandleFunc("GET /cluster", s.serveCluster)
	mux.HandleFunc("GET /echo", s.serveEcho)
	s.routesH2(mux) // WebSocket over HTTP/2: serve_h2.go
	// The same chat in Go compiled to WebAssembly, on the browser build of Peer.
	mux.Handle("GET /wasm/", http.StripPrefix("/wasm", wasmassets.Handler()))
	return mux
}

// serveEcho runs one echo connection; see echoer for the backpressure.
func (s *server) serveEcho(w http.ResponseWriter, r *http.Request) {
	var e echoer
	s.serveWS(w, r, func(p *wspeer.Peer) { e.pump(p) })
}

// serveWS upgrades the request and runs the connection's Wait loop, calling
// handle once the peer is open and after each Poll, until the peer is closed (or the shutdown grace is
// over). Peer methods are goroutine-safe, so other connections' goroutines
// may send to this peer meanwhile.
func (s *server) serveWS(w http.ResponseWriter, r *http.Request, handle func(*wspeer.Peer)) {
	p, err := s.up.Upgrade(w, r)
	if err != nil {
		s.log.Info("upgrade refused", "remote", r.RemoteAddr, "path", r.URL.Path, errAttr(err))
		return
	}
	if !s.add(p) {
		p.Close(-1, "") // shutting down: closeAll has already run
		return
	}
	defer s.wg.Done()
	handle(p) // first on the open peer: chat joins its room before the "open" log line
	s.log.Info("open", "remote", r.RemoteAddr, "path", r.URL.Path, "http", r.Proto, "protocol", p.SelectedProtocol())
	for p.Wait(s.hard) == nil {
		p.Poll()
		handle(p)
	}
	if p.ReadyState() != wspeer.StateClosed {
		p.Close(-1, "")
	}
	s.remove(p)
	s.log.Info("closed", "remote", r.RemoteAddr, "path", r.URL.Path, "code", p.CloseCode(), "reason", p.CloseReason(), errAttr(p.CloseError()))
}

// add registers an open peer and counts it in wg; it reports false once
// shutdown has begun.
func (s *server) add(p *wspeer.Peer) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.peers == nil {
		return false
	}
	s.wg.Add(1)
	s.peers[p] = struct{}{}
	return true
}

func (s *server) remove(p *wspeer.Peer) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.peers, p)
}

func (s *server) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.peers)
}

// closeAll starts the closing handshake of every peer and refuses new ones.
func (s *server) closeAll(code int, reason string) {
	s.mu.Lock()
	peers := s.peers
	s.peers = nil
	s.mu.Unlock()
	for p := range peers {
		p.Close(code, reason)
	}
}
