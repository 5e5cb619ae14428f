//go:build !js

package wasmtest

import (
	"context"
	"net"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/wspeer/wspeer"
)

// closeInfo is how a server connection ended, as its peer reports it.
type closeInfo struct {
	code   int
	reason string
}

// echoServer is the native side of the browser tests, built on the library the
// way an application would: net.Listen, AcceptStream and a Wait loop per
// connection. It echoes every message with its type; on /close4000 it closes
// with 4000 "server bye" after echoing the first message. It records each
// connection's end under the URL's id query parameter.
type echoServer struct {
	t  *testing.T
	wg sync.WaitGroup

	mu     sync.Mutex
	closes map[string]closeInfo
}

func newEchoServer(t *testing.T) *echoServer {
	s := &echoServer{t: t, closes: make(map[string]closeInfo)}
	t.Cleanup(s.wg.Wait) // runs after the listeners' cleanups close them
	return s
}

// listen serves on network ("tcp4" or "tcp6") loopback and returns the
// ws:// base URL, or "" when the network is not available.
func (s *echoServer) listen(network, addr string) string {
	ln, err := net.Listen(network, addr)
	if err != nil {
		return ""
	}
	s.t.Cleanup(func() { ln.Close() })
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s.wg.Add(1)
			go func() {
				defer s.wg.Done()
				s.handle(c)
			}()
		}
	}()
	return "ws://" + ln.Addr().String()
}

func (s *echoServer) handle(c net.Conn) {
	p := wspeer.NewPeer()
	p.SupportedProtocols = []string{"superchat"}
	if err := p.AcceptStream(c); err != nil {
		s.t.Errorf("AcceptStream: %v", err)
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var target *url.URL
	for p.Wait(ctx) == nil {
		p.Poll()
		if target == nil && p.ReadyState() != wspeer.StateConnecting {
			target, _ = url.Parse(p.RequestedURL())
		}
		for {
			b, err := p.GetPacket()
			if err != nil {
				break
			}
			mode := wspeer.WriteModeBinary
			if p.WasStringPacket() {
				mode = wspeer.WriteModeText
			}
			_ = p.Send(b, mode) // fails once CLOSING: nothing to echo then
			if target != nil && target.Path == "/close4000" {
				_ = p.Close(4000, "server bye")
			}
		}
	}
	if p.ReadyState() != wspeer.StateClosed {
		p.Close(-1, "")
	}
	if target == nil {
		return
	}
	if id := target.Query().Get("id"); id != "" {
		s.mu.Lock()
		s.closes[id] = closeInfo{p.CloseCode(), p.CloseReason()}
		s.mu.Unlock()
	}
}

// closed returns how the connection with id ended, waiting a little for the
// server's side to finish.
func (s *echoServer) closed(id string) (closeInfo, bool) {
	for end := time.Now().Add(5 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		s.mu.Lock()
		ci, ok := s.closes[id]
		s.mu.Unlock()
		if ok || time.Now().After(end) {
			return ci, ok
		}
	}
}
