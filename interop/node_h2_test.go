package interop

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"sync"
	"testing"
	"time"

	"github.com/wspeer/wspeer"
	_ "github.com/wspeer/wspeer/xconnect" // extended CONNECT in net/http's server
)

// h2Observed is what the server saw of the streams: their remote addresses
// and, for /reset, how the peer ended.
type h2Observed struct {
	mu      sync.Mutex
	remotes map[string]int
	reset   chan *wspeer.Peer
}

// startH2Echo serves our Upgrader over HTTP/2 (TLS): /echo echoes with 2 MiB
// budgets; /reset drives the peer until it ends and reports it.
func startH2Echo(t *testing.T) (*httptest.Server, *h2Observed) {
	obs := &h2Observed{remotes: map[string]int{}, reset: make(chan *wspeer.Peer, 1)}
	up := &wspeer.Upgrader{NewPeer: func() *wspeer.Peer {
		p := wspeer.NewPeer()
		p.InboundBufferSize, p.OutboundBufferSize = 2<<20, 2<<20
		return p
	}}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, err := up.Upgrade(w, r)
		if err != nil {
			return
		}
		obs.mu.Lock()
		obs.remotes[r.RemoteAddr]++
		obs.mu.Unlock()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		for p.Wait(ctx) == nil {
			p.Poll()
			for p.AvailablePacketCount() > 0 {
				b, _ := p.GetPacket()
				mode := wspeer.WriteModeBinary
				if p.WasStringPacket() {
					mode = wspeer.WriteModeText
				}
				_ = p.Send(b, mode)
			}
		}
		if r.URL.Path == "/reset" {
			obs.reset <- p
		}
	}))
	srv.EnableHTTP2 = true
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv, obs
}

// runH2Case runs node/h2client.js's case and decodes its one JSON line.
func runH2Case(t *testing.T, srv *httptest.Server, name string, into any) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "node", "node/h2client.js", srv.URL, name)
	out, err := cmd.Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			t.Fatalf("node %s: %v\n%s", name, err, ee.Stderr)
		}
		t.Fatalf("node %s: %v", name, err)
	}
	if err := json.Unmarshal(out, into); err != nil {
		t.Fatalf("node %s printed %q: %v", name, out, err)
	}
}

// TestNodeH2 drives our HTTP/2 server (Upgrader on net/http's HTTP/2) with
// Node's own http2 module (nghttp2) and hand-made WebSocket frames: the
// SETTINGS carry ENABLE_CONNECT_PROTOCOL; a wrong :protocol and a missing
// Sec-WebSocket-Version get 400; a stream reset in the middle of a message
// makes the server peer a lost connection (-1, ErrConnectionLost); a 1 MiB
// message goes both ways (16 times the default stream window) and closes
// cleanly; 32 WebSocket streams on one connection all echo and close.
func TestNodeH2(t *testing.T) {
	if _, err := exec.LookPath("node"); err != nil {
		requirePeer(t, err, "Node.js")
	}
	srv, obs := startH2Echo(t)
	t.Run("settings", func(t *testing.T) {
		var r struct{ EnableConnectProtocol bool }
		if runH2Case(t, srv, "settings", &r); !r.EnableConnectProtocol {
			t.Fatal("SETTINGS_ENABLE_CONNECT_PROTOCOL not announced")
		}
	})
	for _, name := range []string{"bad-protocol", "no-version"} {
		t.Run(name, func(t *testing.T) {
			var r struct{ Status int }
			if runH2Case(t, srv, name, &r); r.Status != http.StatusBadRequest {
				t.Fatalf("status %d, want 400", r.Status)
			}
		})
	}
	t.Run("reset", func(t *testing.T) {
		var r struct{ Status int }
		if runH2Case(t, srv, "reset", &r); r.Status != http.StatusOK {
			t.Fatalf("status %d", r.Status)
		}
		select {
		case p := <-obs.reset:
			if p.CloseCode() != -1 || !errors.Is(p.CloseError(), wspeer.ErrConnectionLost) {
				t.Fatalf("server peer: %d %v, want -1 and ErrConnectionLost", p.CloseCode(), p.CloseError())
			}
		case <-time.After(20 * time.Second):
			t.Fatal("the server peer did not end after the reset")
		}
	})
	t.Run("big", func(t *testing.T) {
		var r struct {
			Status, Op, Len, Close int
			Same                   bool
		}
		if runH2Case(t, srv, "big", &r); r.Status != 200 || r.Op != 2 || r.Len != 1<<20 || !r.Same || r.Close != 1000 {
			t.Fatalf("%+v", r)
		}
	})
	t.Run("many", func(t *testing.T) {
		obs.mu.Lock()
		clear(obs.remotes)
		obs.mu.Unlock()
		var r struct{ Streams, Ok int }
		if runH2Case(t, srv, "many", &r); r.Ok != r.Streams || r.Streams != 32 {
			t.Fatalf("%+v", r)
		}
		obs.mu.Lock()
		defer obs.mu.Unlock()
		if len(obs.remotes) != 1 {
			t.Fatalf("streams came from %d connections, want 1: %v", len(obs.remotes), obs.remotes)
		}
	})
}
