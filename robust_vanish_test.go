//go:build !js

package wspeer

import (
	"net"
	"testing"
	"time"
)

// A peer that vanishes at any point: every Peer reaches CLOSED with
// CloseCode -1 and a CloseError, within the configured timeouts
// (ROBUSTNESS.md).

func TestRobustPeerVanishesServerSide(t *testing.T) {
	const (
		hsTimeout    = 400 * time.Millisecond
		closeTimeout = 400 * time.Millisecond
		interval     = 200 * time.Millisecond
	)
	setup := func(p *Peer) {
		p.HandshakeTimeout = hsTimeout
		p.CloseTimeout = closeTimeout
	}
	drop := func(c net.Conn) { c.Close() }
	reset := func(c net.Conn) { c.(*net.TCPConn).SetLinger(0); c.Close() }
	tests := []struct {
		name  string
		open  bool                         // complete the handshake first
		setup func(*Peer)                  // extra settings
		act   func(p *Peer, rc *rawClient) // what the client does
		want  error                        // CloseError sentinel
		limit time.Duration                // bound on the time to CLOSED
		check func(t *testing.T, p *Peer, rc *rawClient)
	}{
		{name: "mid-handshake", act: func(p *Peer, rc *rawClient) {
			rc.write(validRequest()[:40])
			drop(rc.conn)
		}, want: ErrHandshake, limit: 200 * time.Millisecond},
		{name: "mid-handshake, reset", act: func(p *Peer, rc *rawClient) {
			rc.write(validRequest()[:40])
			reset(rc.conn)
		}, want: ErrHandshake, limit: 200 * time.Millisecond},
		{name: "mid-handshake, silent", act: func(p *Peer, rc *rawClient) {
			rc.write(validRequest()[:40])
		}, want: ErrHandshakeTimeout, limit: hsTimeout + 200*time.Millisecond},
		{name: "mid-frame header", open: true, act: func(p *Peer, rc *rawClient) {
			rc.write(frame(2, true, true, make([]byte, 300))[:3])
			drop(rc.conn)
		}, want: ErrConnectionLost, limit: 200 * time.Millisecond},
		{name: "mid-frame payload", open: true, act: func(p *Peer, rc *rawClient) {
			rc.write(frame(2, true, true, make([]byte, 300))[:150])
			drop(rc.conn)
		}, want: ErrConnectionLost, limit: 200 * time.Millisecond},
		{name: "mid-fragmented message, reset", open: true, act: func(p *Peer, rc *rawClient) {
			rc.write(frame(1, false, true, []byte("first part")))
			reset(rc.conn)
		}, want: ErrConnectionLost, limit: 200 * time.Millisecond},
		{name: "mid-close frame", open: true, act: func(p *Peer, rc *rawClient) {
			rc.write(frame(8, true, true, closePayload(1000, "bye"))[:4])
			drop(rc.conn)
		}, want: ErrConnectionLost, limit: 200 * time.Millisecond},
		{name: "mid-close: our close unanswered, dropped", open: true, act: func(p *Peer, rc *rawClient) {
			p.Close(1000, "bye")
			rc.expectClose()
			drop(rc.conn)
		}, want: ErrConnectionLost, limit: 200 * time.Millisecond},
		{name: "mid-close: our close unanswered, silent", open: true, act: func(p *Peer, rc *rawClient) {
			p.Close(1000, "bye")
			rc.expectClose()
		}, want: ErrCloseTimeout, limit: closeTimeout + 200*time.Millisecond},
		{name: "half-open with heartbeat", open: true, setup: func(p *Peer) { p.HeartbeatInterval = interval },
			act:  func(p *Peer, rc *rawClient) {}, // stops reading and writing, socket kept open
			want: ErrHeartbeatTimeout, limit: 2*interval + 300*time.Millisecond,
			check: func(t *testing.T, p *Peer, rc *rawClient) {
				// The ping then the 1011 close were still sent.
				if f := rc.readFrame(); f.op != 9 {
					t.Fatalf("frame %d, want a ping", f.op)
				}
				if code, _ := rc.expectClose(); code != 1011 {
					t.Fatalf("close %d, want 1011", code)
				}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var p *Peer
			var rc *rawClient
			cfg := func(p *Peer) {
				setup(p)
				if tt.setup != nil {
					tt.setup(p)
				}
			}
			if tt.open {
				p, rc = openServer(t, cfg)
			} else {
				p, rc = serverPeer(t, cfg)
			}
			tt.act(p, rc)
			// The timers themselves are checked on a fake clock in
			// internal/proto (TestConn*); here the bound only guards
			// against a hang, and the time taken is reported.
			took := closedWithin(t, p, tt.limit+5*time.Second)
			expectLost(t, p, tt.want)
			if tt.check != nil {
				tt.check(t, p, rc)
			}
			t.Logf("CLOSED -1 after %v: %v", took.Round(time.Millisecond), p.CloseError())
		})
	}
}

func TestRobustPeerVanishesClientSide(t *testing.T) {
	const (
		hsTimeout    = 400 * time.Millisecond
		closeTimeout = 400 * time.Millisecond
		interval     = 200 * time.Millisecond
	)
	setup := func(p *Peer) {
		p.HandshakeTimeout = hsTimeout
		p.CloseTimeout = closeTimeout
		p.Proxy = noProxy
	}
	tests := []struct {
		name  string
		open  bool
		setup func(*Peer)
		act   func(p *Peer, s *rawServer)
		want  error
		limit time.Duration
	}{
		{name: "server drops mid-response", act: func(p *Peer, s *rawServer) {
			s.write([]byte("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"))
			s.conn.Close()
		}, want: ErrHandshake, limit: 200 * time.Millisecond},
		{name: "server silent after the request", act: func(p *Peer, s *rawServer) {},
			want: ErrHandshakeTimeout, limit: hsTimeout + 200*time.Millisecond},
		{name: "server drops mid-frame", open: true, act: func(p *Peer, s *rawServer) {
			s.write(frame(2, true, false, make([]byte, 1000))[:500])
			s.conn.Close()
		}, want: ErrConnectionLost, limit: 200 * time.Millisecond},
		{name: "server drops mid-close", open: true, act: func(p *Peer, s *rawServer) {
			p.Close(1000, "")
			readFrame(t, s.br)
			s.conn.Close()
		}, want: ErrConnectionLost, limit: 200 * time.Millisecond},
		{name: "half-open with heartbeat", open: true, setup: func(p *Peer) { p.HeartbeatInterval = interval },
			act: func(p *Peer, s *rawServer) {}, want: ErrHeartbeatTimeout, limit: 2*interval + 300*time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := func(p *Peer) {
				setup(p)
				if tt.setup != nil {
					tt.setup(p)
				}
			}
			var p *Peer
			var s *rawServer
			if tt.open {
				p, s = openClient(t, cfg)
			} else {
				s = newRawServer(t)
				p = NewPeer()
				cfg(p)
				if err := p.ConnectToURL(s.url("/"), nil); err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { p.Close(-1, "") })
				accepted := make(chan struct{})
				go func() { s.accept(); close(accepted) }()
				for waiting := true; waiting; {
					p.Poll()
					select {
					case <-accepted:
						waiting = false
					case <-time.After(time.Millisecond):
					}
				}
			}
			tt.act(p, s)
			// The timers themselves are checked on a fake clock in
			// internal/proto (TestConn*); here the bound only guards
			// against a hang, and the time taken is reported.
			took := closedWithin(t, p, tt.limit+5*time.Second)
			expectLost(t, p, tt.want)
			t.Logf("CLOSED -1 after %v: %v", took.Round(time.Millisecond), p.CloseError())
		})
	}
}
