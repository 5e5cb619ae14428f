//go:build unix

package wasmtest

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/wspeer/wspeer"
	"github.com/wspeer/wspeer/internal/wasmassets"
)

// TestChatPage loads the committed Go/wasm chat page (internal/wasmassets) in
// headless Chromium, mounted at /wasm/ as `wspeer serve` mounts it, and checks
// that the client connects to /chat and sends the text a test-only copy of
// the page sets in the global wspeerTestSay. A stale or broken main.wasm
// fails here. TestChatPageIgnoresSayQuery checks that the shipped page has
// no such hook reachable from a link.
func TestChatPage(t *testing.T) {
	if testing.Short() {
		t.Skip("starts Chromium")
	}
	chromium := findChromium(t)
	got := make(chan string, 1)
	mux := http.NewServeMux()
	mux.Handle("/wasm/", http.StripPrefix("/wasm", wasmassets.Handler()))
	mux.HandleFunc("GET /wasm/{$}", func(w http.ResponseWriter, r *http.Request) {
		// The test-only route: the shipped page, with the hook set.
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write([]byte(testPage(t, `<script>window.wspeerTestSay = "hello from wasm";</script>`)))
	})
	mux.HandleFunc("GET /chat", chatHandler(t, time.Minute, nil, func(p *wspeer.Peer, msg []byte) bool {
		if p.WasStringPacket() {
			p.SendText("welcome")
			select {
			case got <- string(msg):
			default:
			}
		}
		return false
	}))
	ln := listenHTTP(t)
	serveHTTP(t, ln, mux)
	startChromium(t, chromium, "http://"+ln.Addr().String()+"/wasm/")
	select {
	case msg := <-got:
		if msg != "hello from wasm" {
			t.Errorf("chat got %q, want %q", msg, "hello from wasm")
		}
	case <-time.After(time.Minute):
		t.Fatal("the Go/wasm chat page sent nothing in a minute")
	}
}

// testPage is the shipped /wasm/ page with extra inserted before its first
// script: the test-only route's page.
func testPage(t *testing.T, extra string) string {
	t.Helper()
	rec := httptest.NewRecorder()
	wasmassets.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
	page := rec.Body.String()
	i := strings.Index(page, "<script")
	if rec.Code != http.StatusOK || i < 0 {
		t.Fatalf("index page: status %d, %d bytes", rec.Code, len(page))
	}
	return page[:i] + extra + page[i:]
}

// TestChatPageIgnoresSayQuery: the shipped page opened from a link with
// ?say= connects and sends nothing (issue 15 item 11, F11).
func TestChatPageIgnoresSayQuery(t *testing.T) {
	if testing.Short() {
		t.Skip("starts Chromium")
	}
	chromium := findChromium(t)
	opened := make(chan struct{}, 1)
	got := make(chan string, 1)
	mux := http.NewServeMux()
	mux.Handle("/wasm/", http.StripPrefix("/wasm", wasmassets.Handler()))
	mux.HandleFunc("GET /chat", chatHandler(t, 10*time.Second, opened, func(_ *wspeer.Peer, msg []byte) bool {
		got <- string(msg)
		return true
	}))
	ln := listenHTTP(t)
	serveHTTP(t, ln, mux)
	startChromium(t, chromium, "http://"+ln.Addr().String()+"/wasm/?say=attacker+text")
	select {
	case <-opened:
	case <-time.After(time.Minute):
		t.Fatal("the Go/wasm chat page did not connect in a minute")
	}
	select {
	case msg := <-got:
		t.Errorf("the page sent %q from its URL", msg)
	case <-time.After(3 * time.Second):
	}
}

// chatHandler upgrades /chat, signals opened (if not nil), and calls each
// for every message until it returns true or timeout passes.
func chatHandler(t *testing.T, timeout time.Duration, opened chan<- struct{}, each func(*wspeer.Peer, []byte) bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		p, err := wspeer.Upgrade(w, r)
		if err != nil {
			t.Errorf("upgrade: %v", err)
			return
		}
		defer p.Close(-1, "")
		if opened != nil {
			opened <- struct{}{}
		}
		ctx, cancel := context.WithTimeout(r.Context(), timeout)
		defer cancel()
		for p.Wait(ctx) == nil {
			p.Poll()
			if msg, err := p.GetPacket(); err == nil && each(p, msg) {
				return
			}
		}
	}
}
