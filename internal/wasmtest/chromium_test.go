//go:build unix

package wasmtest

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// findChromium returns Chromium's path. Without one the test skips, except
// under CI=true, where the browser tests must run.
func findChromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"/usr/bin/chromium", "chromium", "chromium-browser", "google-chrome"} {
		if path, err := exec.LookPath(name); err == nil {
			return path
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("no Chromium, and CI=true: install it (apt-get install chromium)")
	}
	t.Skip("no Chromium (apt-get install chromium)")
	return ""
}

// goTool returns the go command, needed to build the wasm binaries.
func goTool(t *testing.T) string {
	t.Helper()
	if p, err := exec.LookPath("go"); err == nil {
		return p
	}
	if p := filepath.Join(os.Getenv("GOROOT"), "bin", "go"); os.Getenv("GOROOT") != "" {
		return p
	}
	t.Fatal("no go command in PATH")
	return ""
}

// buildWasm runs the go command with GOOS=js GOARCH=wasm in the module.
func buildWasm(t *testing.T, args ...string) {
	t.Helper()
	cmd := exec.Command(goTool(t), args...)
	cmd.Env = append(os.Environ(), "GOOS=js", "GOARCH=wasm", "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// copyWasmExec copies the Go toolchain's wasm_exec.js into dir: it must match
// the toolchain that built the .wasm.
func copyWasmExec(t *testing.T, dir string) {
	t.Helper()
	out, err := exec.Command(goTool(t), "env", "GOROOT").Output()
	if err != nil {
		t.Fatal(err)
	}
	root := strings.TrimSpace(string(out))
	var src []byte
	for _, p := range []string{"lib/wasm/wasm_exec.js", "misc/wasm/wasm_exec.js"} { // Go 1.24+, older
		if src, err = os.ReadFile(filepath.Join(root, p)); err == nil {
			break
		}
	}
	if err != nil {
		t.Fatalf("wasm_exec.js: %v", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "wasm_exec.js"), src, 0o644); err != nil {
		t.Fatal(err)
	}
}

// startChromium opens url in headless Chromium, which is killed (with its
// whole process group) when the test ends.
func startChromium(t *testing.T, path, url string) {
	t.Helper()
	cmd := exec.Command(path, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
		"--no-first-run", "--disable-background-networking", "--disable-component-update",
		"--disable-sync", "--disable-dev-shm-usage", "--user-data-dir="+t.TempDir(),
		"--remote-debugging-port=0", url)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var log bytes.Buffer
	var logMu sync.Mutex
	done := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			logMu.Lock()
			fmt.Fprintln(&log, sc.Text())
			logMu.Unlock()
		}
		cmd.Wait()
		close(done)
	}()
	t.Cleanup(func() {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) // the group we created
		<-done
		if t.Failed() {
			logMu.Lock()
			t.Logf("chromium stderr:\n%s", log.String())
			logMu.Unlock()
		}
	})
}

// page is the HTML page that runs a Go wasm binary: its output and exit code
// go back to the test server, chunk by chunk, so that a hang still shows
// what was printed.
var page = template.Must(template.New("page").Parse(`<!doctype html>
<meta charset="utf-8"><title>wspeer wasm tests</title>
<script src="wasm_exec.js"></script>
<script>
"use strict";
let seq = 0;
const post = (path, body) => fetch(path, { method: "POST", body: body });
const decoder = new TextDecoder();
const write = globalThis.fs.writeSync.bind(globalThis.fs);
globalThis.fs.writeSync = (fd, buf) => {
  post("/out?seq=" + seq++, decoder.decode(buf));
  return write(fd, buf);
};
const go = new Go();
go.argv = {{.Argv}};
go.env = {{.Env}};
go.exit = (code) => post("/exit?code=" + code + "&chunks=" + seq, "");
WebAssembly.instantiateStreaming(fetch({{.Wasm}}), go.importObject)
  .then((r) => go.run(r.instance))
  .catch((e) => post("/exit?code=-1&chunks=" + seq, String((e && e.stack) || e)));
</script>
`))

// runner serves a wasm binary's page and collects what it reports.
type runner struct {
	mu     sync.Mutex
	chunks map[int]string
	exited chan struct{}
	code   int
	want   int    // chunks announced at exit
	fail   string // page error
}

func (r *runner) routes(mux *http.ServeMux, dir string, argv []string, env map[string]string) {
	r.chunks = make(map[int]string)
	r.exited = make(chan struct{})
	var once sync.Once
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, req *http.Request) {
		a, _ := json.Marshal(argv)
		e, _ := json.Marshal(env)
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		page.Execute(w, map[string]any{"Argv": template.JS(a), "Env": template.JS(e), "Wasm": "test.wasm"})
	})
	mux.Handle("GET /", http.FileServer(http.Dir(dir)))
	mux.HandleFunc("POST /out", func(w http.ResponseWriter, req *http.Request) {
		n, _ := strconv.Atoi(req.URL.Query().Get("seq"))
		b, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		r.chunks[n] = string(b)
		r.mu.Unlock()
	})
	mux.HandleFunc("POST /exit", func(w http.ResponseWriter, req *http.Request) {
		b, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		r.code, _ = strconv.Atoi(req.URL.Query().Get("code"))
		r.want, _ = strconv.Atoi(req.URL.Query().Get("chunks"))
		r.fail = string(b)
		r.mu.Unlock()
		once.Do(func() { close(r.exited) })
	})
}

// output returns the program's output, waiting briefly for chunks still in
// flight.
func (r *runner) output() string {
	for end := time.Now().Add(5 * time.Second); time.Now().Before(end); time.Sleep(20 * time.Millisecond) {
		r.mu.Lock()
		n := len(r.chunks)
		r.mu.Unlock()
		if n >= r.want {
			break
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	keys := make([]int, 0, len(r.chunks))
	for k := range r.chunks {
		keys = append(keys, k)
	}
	sort.Ints(keys)
	var b strings.Builder
	for _, k := range keys {
		b.WriteString(r.chunks[k])
	}
	return b.String()
}

// listenHTTP listens on a loopback port for serveHTTP.
func listenHTTP(t *testing.T) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return ln
}

// serveHTTP serves mux on ln until the test ends.
func serveHTTP(t *testing.T, ln net.Listener, mux http.Handler) {
	logged := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/out" {
			t.Logf("http: %s %s", r.Method, r.URL) // shown with -v or on failure
		}
		mux.ServeHTTP(w, r)
	})
	srv := &http.Server{Handler: logged, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
}

// closedPort returns a loopback port nothing listens on.
func closedPort(t *testing.T) string {
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}
