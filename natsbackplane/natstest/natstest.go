// Package natstest runs a NATS server inside a test process (the real
// nats-server code, on loopback), for tests of programs that use
// natsbackplane: start it, stop it and start it again on the same port to
// play a NATS restart.
package natstest

import (
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// Server is an embedded NATS server on 127.0.0.1.
type Server struct {
	t    testing.TB
	port int
	s    *server.Server
}

// Start starts a server on a free loopback port; it is stopped at the end of
// the test.
func Start(t testing.TB) *Server {
	t.Helper()
	ns := &Server{t: t, port: -1}
	ns.Restart()
	t.Cleanup(ns.Stop)
	return ns
}

// URL returns the server's nats:// URL, the same across restarts.
func (ns *Server) URL() string { return fmt.Sprintf("nats://127.0.0.1:%d", ns.port) }

// Stop shuts the server down, closing every client connection; it does
// nothing if the server is stopped.
func (ns *Server) Stop() {
	if ns.s == nil {
		return
	}
	ns.s.Shutdown()
	ns.s.WaitForShutdown()
	ns.s = nil
}

// Restart starts the server again on the same port (or a free one the first
// time); it does nothing if the server runs.
func (ns *Server) Restart() {
	ns.t.Helper()
	if ns.s != nil {
		return
	}
	s, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: ns.port, NoLog: true, NoSigs: true})
	if err != nil {
		ns.t.Fatalf("natstest: %v", err)
	}
	go s.Start()
	if !s.ReadyForConnections(10 * time.Second) {
		s.Shutdown()
		ns.t.Fatalf("natstest: server on port %d not ready in 10 s", ns.port)
	}
	ns.s = s
	ns.port = s.Addr().(*net.TCPAddr).Port
}

// Clients returns the number of client connections the server has.
func (ns *Server) Clients() int {
	if ns.s == nil {
		return 0
	}
	return ns.s.NumClients()
}
