package main

import (
	"context"
	"crypto/tls"
	"embed"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
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

// serveHelp is serve's -h text.
const serveHelp = `Serves a chat page at / and two WebSocket endpoints, over net/http:
` + chatHelp + `
  /echo  every message is sent back with its type (text or binary) unchanged.

Browsers' Origin must match the host, or one of the -origin patterns
(path.Match syntax, e.g. "*.example.com"). Listening on a loopback address,
the WebSocket endpoints answer only requests for a loopback name (localhost,
127.0.0.1, [::1]) unless -allow-host adds others, so that a web page whose
name was rebound to 127.0.0.1 (DNS rebinding) gets 403; on another address,
-allow-host, when given, lists every host allowed. Request heads above
-max-head get 431; idle peers are pinged every -heartbeat. On start it prints
"listening on ws://HOST:PORT" and the page's http:// URL on stdout; logs go to
stderr. With -tls-cert the server offers HTTP/2 too, and browsers open the
WebSockets as streams of it (RFC 8441). SIGINT/SIGTERM closes every peer with
1001 and exits within 2 s.`

func runServe(args []string) int {
	fs := newFlagSet("serve", "", serveHelp,
		"wspeer serve -listen 127.0.0.1:8080   # then open http://127.0.0.1:8080 in two tabs")
	var sf serverFlags
	sf.register(fs.FlagSet, "127.0.0.1:8080", 1<<20, "https:// and wss://")
	var origins stringList
	fs.Var(&origins, "origin", "an extra allowed Origin host `pattern` (repeatable)")
	var hosts stringList
	fs.Var(&hosts, "allow-host", "an extra allowed Host `pattern` for the WebSocket endpoints (repeatable)")
	heartbeat := fs.Duration("heartbeat", 30*time.Second, "ping `interval` that closes silent peers after two (0: off)")
	chatRate := fs.Float64("chat-rate", defaultChatRate, "`messages` per second a chat peer may send, in bursts of twice as many (0: no limit)")
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
	rooms, err := newChat(log, *natsURL, *chatRate)
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
			AllowedHosts:   allowedHosts(ln, hosts),
			NewPeer: func() *wspeer.Peer {
				p := sf.newPeer()
				p.HeartbeatInterval = *heartbeat
				return p
			},
		},
		peers: make(map[*wspeer.Peer]struct{}),
		chat:  rooms,
	}
	// hard ends every connection loop once the shutdown grace is over.
	hard, cancelHard := context.WithCancel(context.Background())
	defer cancelHard()
	s.hard = hard
	if err := s.startLoop(); err != nil {
		return fs.fail(exitFailure, "%v", err)
	}
	srv := s.httpServer(int(sf.maxHead))
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

// httpServer is the http.Server in front of the routes: heads bounded in
// time and size.
func (s *server) httpServer(maxHead int) *http.Server {
	return &http.Server{
		Handler:           s.routes(),
		ReadHeaderTimeout: 10 * time.Second,
		// net/http reads up to 4 KiB more than this before refusing with
		// 431; the Upgrader then applies -max-head to what it parsed.
		MaxHeaderBytes: maxHead,
		ConnContext:    wspeer.ConnContext, // SetNoDelay on HTTP/2 streams
		ErrorLog:       slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
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
	loop *peerLoop // drives the open peers (serve_loop.go)

	chat *chat // the /chat rooms (chat.go)
	trim memTrimmer

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
	e := echoer{trim: &s.trim}
	s.serveWS(w, r, func(p *wspeer.Peer) { e.pump(p) }, nil)
}

// serveWS upgrades the request and hands the peer to serve's poll loop,
// which calls handle once the peer is open and after each Poll, until the
// peer is closed (or the shutdown grace is over), then done (if not nil).
// Over HTTP/1.1 the handler returns at once, so that net/http drops the
// request and its buffers: an open connection keeps only its peer, and no
// goroutine. Peer methods are goroutine-safe, so handlers of other requests
// may send to this peer meanwhile.
func (s *server) serveWS(w http.ResponseWriter, r *http.Request, handle func(*wspeer.Peer), done func()) {
	remote, path := r.RemoteAddr, clip(r.URL.Path)
	p, err := s.up.Upgrade(w, r)
	if err != nil {
		s.log.Info("upgrade refused", "remote", remote, "path", path, errAttr(err))
		return
	}
	if !s.add(p) {
		p.Close(-1, "") // shutting down: closeAll has already run
		return
	}
	// The request's buffers are garbage now: once upgrades stop for a
	// while, the trimmer hands their memory back.
	s.trim.released()
	s.run(p, remote, path, r.Proto, handle, done)
	// Over HTTP/2 the WebSocket is a stream of the request: it ends with the
	// handler, so the handler stays until the peer is done with it.
	<-p.Released()
}

// run starts driving p: handle once on the open peer (chat joins its room
// before the "open" log line), then after each Poll in serve's loop.
func (s *server) run(p *wspeer.Peer, remote, path, proto string, handle func(*wspeer.Peer), done func()) {
	handle(p)
	s.log.Info("open", "remote", remote, "path", path, "http", proto, "protocol", p.SelectedProtocol())
	s.drive(p, &servedConn{remote: remote, path: path, handle: handle, done: done})
}

// allowedHosts is the Upgrader's AllowedHosts: on a loopback address the
// loopback names and the -allow-host patterns; elsewhere the patterns alone
// (nil: every host).
func allowedHosts(ln net.Listener, extra []string) []string {
	if addr, ok := ln.Addr().(*net.TCPAddr); ok && addr.IP.IsLoopback() {
		return append(wspeer.LoopbackHosts(), extra...)
	}
	return extra
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
