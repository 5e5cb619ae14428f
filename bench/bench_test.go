package bench

import (
	"net"
	"testing"
	"time"

	"github.com/wspeer/wspeer/bench/internal/load"
	"github.com/wspeer/wspeer/bench/internal/servers"
)

// start runs a server implementation in-process on a free port.
func start(t *testing.T, impl string) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go servers.Serve(impl, ln)
	return ln.Addr().String()
}

// TestServersEcho is a quick smoke of every server with the load generator:
// every echoed byte is checked, for a small message and for one that needs
// the 64-bit length form.
func TestServersEcho(t *testing.T) {
	for _, impl := range servers.Names() {
		t.Run(impl, func(t *testing.T) {
			addr := start(t, impl)
			for _, size := range []int{64, 70000} {
				r, err := load.Run(load.Config{Addr: addr, Raw: servers.IsRaw(impl), Conns: 2, InFlight: 4,
					Size: size, Duration: 200 * time.Millisecond, Warmup: 20 * time.Millisecond, Verify: true})
				if err != nil {
					t.Fatalf("size %d: %v", size, err)
				}
				if r.Count == 0 {
					t.Fatalf("size %d: nothing echoed", size)
				}
			}
		})
	}
}

// TestCompressedEcho drives every permessage-deflate server with the
// compressing client: the extension must be negotiated and every echo is
// inflated and compared byte for byte, at 1 KiB and 16 KiB, and a few
// compressed connections are opened for the idle scenario.
func TestCompressedEcho(t *testing.T) {
	for _, size := range []int{1024, 16 << 10} {
		if r := load.DeflateRatio(size); r < 2.5 || r > 6.5 {
			t.Errorf("%d-byte messages compress %.2fx, want 2.5-6.5x", size, r)
		}
	}
	for _, impl := range servers.Names() {
		if !servers.IsDeflate(impl) {
			continue
		}
		t.Run(impl, func(t *testing.T) {
			addr := start(t, impl)
			for _, size := range []int{1024, 16 << 10} {
				r, err := load.Run(load.Config{Addr: addr, Compress: true, Conns: 2, InFlight: 4,
					Size: size, Duration: 200 * time.Millisecond, Warmup: 20 * time.Millisecond})
				if err != nil {
					t.Fatalf("size %d: %v", size, err)
				}
				if r.Count == 0 {
					t.Fatalf("size %d: nothing echoed", size)
				}
				if r.EchoRatio < 1.5 {
					t.Errorf("size %d: echoes compressed only %.2fx", size, r.EchoRatio)
				}
			}
			conns, err := load.Idle(load.Config{Addr: addr, Compress: true, Size: 1024}, 8)
			if err != nil {
				t.Fatalf("idle: %v", err)
			}
			load.CloseAll(conns)
		})
	}
	// A server without the extension is refused, not measured uncompressed.
	addr := start(t, "gorilla")
	if _, err := load.Run(load.Config{Addr: addr, Compress: true, Conns: 1, InFlight: 1, Size: 1024,
		Duration: 50 * time.Millisecond}); err == nil {
		t.Error("compressed run against a server without permessage-deflate succeeded")
	}
}

// TestClients drives the fixed fast server with every client implementation.
func TestClients(t *testing.T) {
	addr := start(t, "gobwas-frame")
	for _, cl := range load.Clients {
		t.Run(cl, func(t *testing.T) {
			r, err := load.Run(load.Config{Addr: addr, Client: cl, Conns: 2, InFlight: 4, Size: 1024,
				Duration: 200 * time.Millisecond, Warmup: 20 * time.Millisecond, Verify: true})
			if err != nil {
				t.Fatal(err)
			}
			if r.Count == 0 {
				t.Fatal("nothing echoed")
			}
		})
	}
}

// TestHandshakeAndIdle runs the handshake and idle modes briefly.
func TestHandshakeAndIdle(t *testing.T) {
	for _, impl := range []string{"rawtcp", "wspeer-poll", "gorilla"} {
		addr := start(t, impl)
		cfg := load.Config{Addr: addr, Raw: servers.IsRaw(impl)}
		r, err := load.Handshakes(cfg, 4, 100*time.Millisecond)
		if err != nil || r.Count == 0 {
			t.Fatalf("%s handshakes: %v (%d)", impl, err, r.Count)
		}
		conns, err := load.Idle(cfg, 50)
		if err != nil {
			t.Fatalf("%s idle: %v", impl, err)
		}
		load.CloseAll(conns)
	}
}
