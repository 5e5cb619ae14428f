//go:build unix

package wasmtest

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/wspeer/wspeer"
	"github.com/wspeer/wspeer/internal/wasmassets"
)

// TestChatPage loads the committed Go/wasm chat page (internal/wasmassets) in
// headless Chromium, mounted at /wasm/ as `wspeer serve` mounts it, and checks
// that the client connects to /chat and sends the text given in ?say=. A stale
// or broken main.wasm fails here.
func TestChatPage(t *testing.T) {
	if testing.Short() {
		t.Skip("starts Chromium")
	}
	chromium := findChromium(t)
	got := make(chan string, 1)
	mux := http.NewServeMux()
	mux.Handle("/wasm/", http.StripPrefix("/wasm", wasmassets.Handler()))
	mux.HandleFunc("GET /chat", func(w http.ResponseWriter, r *http.Request) {
		p, err := wspeer.Upgrade(w, r)
		if err != nil {
			t.Errorf("upgrade: %v", err)
			return
		}
		defer p.Close(-1, "")
		ctx, cancel := context.WithTimeout(r.Context(), time.Minute)
		defer cancel()
		for p.Wait(ctx) == nil {
			p.Poll()
			if msg, err := p.GetPacket(); err == nil && p.WasStringPacket() {
				p.SendText("welcome")
				select {
				case got <- string(msg):
				default:
				}
			}
		}
	})
	ln := listenHTTP(t)
	serveHTTP(t, ln, mux)
	startChromium(t, chromium, "http://"+ln.Addr().String()+"/wasm/?say=hello+from+wasm")
	select {
	case msg := <-got:
		if msg != "hello from wasm" {
			t.Errorf("chat got %q, want %q", msg, "hello from wasm")
		}
	case <-time.After(time.Minute):
		t.Fatal("the Go/wasm chat page sent nothing in a minute")
	}
}
