package main

import (
	"crypto/tls"
	"net/http"
	"slices"

	// net/http serves extended CONNECT (RFC 8441) only with
	// GODEBUG=http2xconnect=1, read when it is initialized: xconnect's init
	// sets it first. A //go:debug line cannot: Go rejects the unknown key.
	_ "github.com/wspeer/wspeer/xconnect"
)

// withHTTP2 offers HTTP/2 in ALPN, first (Go's TLS server follows its own
// order), on serve's TLS
// listener, so that browsers open the page and its WebSockets as streams of
// one HTTP/2 connection. net/http picks h2 connections up by itself.
func withHTTP2(c *tls.Config) *tls.Config {
	c = c.Clone()
	protos := []string{"h2", "http/1.1"} // the server's order decides
	for _, p := range c.NextProtos {
		if !slices.Contains(protos, p) {
			protos = append(protos, p)
		}
	}
	c.NextProtos = protos
	return c
}

// routesH2 adds the WebSocket endpoints for HTTP/2: there a WebSocket is a
// CONNECT request (with :protocol websocket) on the same paths.
func (s *server) routesH2(mux *http.ServeMux) {
	mux.HandleFunc("CONNECT /chat", s.serveChat)
	mux.HandleFunc("CONNECT /chat/{room}", s.serveChat)
	mux.HandleFunc("CONNECT /echo", s.serveEcho)
}
