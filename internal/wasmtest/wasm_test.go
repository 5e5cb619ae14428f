//go:build unix

package wasmtest

import (
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// wasmTimeout bounds the browser tests, whose own -test.timeout is 3m.
const wasmTimeout = 4 * time.Minute

// TestBrowserPeer runs the root package's web_js_test.go in headless Chromium
// against echoServer and checks both sides: every browser test passed (only
// the IPv6 one may skip, when the host has no ::1), and the server saw the
// closes the browser sent.
func TestBrowserPeer(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a wasm binary and starts Chromium")
	}
	chromium := findChromium(t)
	dir := t.TempDir()
	buildWasm(t, "test", "-c", "-o", filepath.Join(dir, "test.wasm"), "github.com/wspeer/wspeer")
	copyWasmExec(t, dir)

	srv := newEchoServer(t)
	env := map[string]string{
		"WSPEER_WS":      srv.listen("tcp4", "127.0.0.1:0"),
		"WSPEER_REFUSED": "ws://" + closedPort(t) + "/",
	}
	if ws6 := srv.listen("tcp6", "[::1]:0"); ws6 != "" {
		env["WSPEER_WS6"] = ws6
	} else {
		t.Log("no IPv6 loopback: TestWebIPv6 will skip")
	}
	argv := []string{"wspeer.test", "-test.v", "-test.timeout=3m"}
	if run := os.Getenv("WASMTEST_RUN"); run != "" {
		argv = append(argv, "-test.run="+run)
	}

	ln := listenHTTP(t)
	host := ln.Addr().String()
	env["WSPEER_REJECT"] = "ws://" + host + "/reject"
	var r runner
	mux := http.NewServeMux()
	mux.HandleFunc("GET /reject", func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "no WebSocket here", http.StatusForbidden)
	})
	r.routes(mux, dir, argv, env)
	serveHTTP(t, ln, mux)

	startChromium(t, chromium, "http://"+host+"/")
	select {
	case <-r.exited:
	case <-time.After(wasmTimeout):
		t.Fatalf("the wasm tests did not finish in %v; output so far:\n%s", wasmTimeout, r.output())
	}
	out := r.output()
	t.Logf("browser output:\n%s", out)
	if r.code != 0 || r.fail != "" {
		t.Fatalf("wasm tests exited with %d %s", r.code, r.fail)
	}
	if os.Getenv("WASMTEST_RUN") != "" {
		return
	}
	for _, name := range []string{"TestWebEcho", "TestWebClientClose", "TestWebServerClose",
		"TestWebCloseRefusedLocally", "TestWebConstructorException", "TestWebConnectFailure",
		"TestWebWait", "TestWebBudgets", "TestWebUnsupported", "TestWebIPv6"} {
		want := "PASS"
		if name == "TestWebIPv6" && env["WSPEER_WS6"] == "" {
			want = "SKIP"
		}
		if !regexp.MustCompile(`--- ` + want + `: ` + name + ` `).MatchString(out) {
			t.Errorf("%s did not %s in the browser", name, want)
		}
	}

	// What the native server saw of the browser's closes.
	for id, want := range map[string]closeInfo{
		"echo":       {1000, "bye"},
		"client4001": {4001, "client bye"},
		"server4000": {4000, "server bye"}, // the browser's echo of ours
		"refused":    {4999, strings.Repeat("r", 123)},
		"toobig":     {4009, "message too big"},
		"queuefull":  {4009, "inbound buffer full"},
	} {
		got, ok := srv.closed(id)
		if !ok || got != want {
			t.Errorf("server close for %s = %+v (seen %v), want %+v", id, got, ok, want)
		}
	}
	if got, ok := srv.closed("wait"); !ok || got.code != 1005 {
		t.Errorf("server close after Close(-1) = %+v (seen %v), want 1005 (a close frame without status)", got, ok)
	}
}
