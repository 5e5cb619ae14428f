package main

// The chat page in headless Chromium, driven over the DevTools protocol (CDP)
// with the library's own client Peer.

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/wspeer/wspeer"
)

const chromiumPath = "/usr/bin/chromium"

// startChromium starts headless Chromium (with the extra flags) and returns
// the DevTools WebSocket URL of its first page (about:blank).
func startChromium(t *testing.T, extra ...string) string {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("chromium is required in CI: %v", err)
		}
		t.Skipf("no %s: %v", chromiumPath, err)
	}
	cmd := exec.Command(chromiumPath, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
		"--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--remote-debugging-port=0", "--user-data-dir="+t.TempDir(), "--window-size=800,600")
	cmd.Args = append(append(cmd.Args, extra...), "about:blank")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // its helpers die with it
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		cmd.Wait()
	})
	found := make(chan string, 1)
	go func() {
		re := regexp.MustCompile(`DevTools listening on (ws://\S+)`)
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			if m := re.FindStringSubmatch(sc.Text()); m != nil {
				found <- m[1]
			}
		}
	}()
	var browser string
	select {
	case browser = <-found:
	case <-time.After(20 * time.Second):
		t.Fatal("chromium printed no DevTools URL")
	}
	// The page targets are listed over HTTP on the same port.
	host := strings.SplitN(strings.TrimPrefix(browser, "ws://"), "/", 2)[0]
	resp, err := http.Get("http://" + host + "/json/list")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var targets []struct{ Type, WebSocketDebuggerURL string }
	if err := json.NewDecoder(resp.Body).Decode(&targets); err != nil {
		t.Fatal(err)
	}
	for _, tg := range targets {
		if tg.Type == "page" {
			return tg.WebSocketDebuggerURL
		}
	}
	t.Fatalf("no page target in %+v", targets)
	return ""
}

// cdp is a minimal DevTools protocol client: commands out, their results
// matched by id, events ignored.
type cdp struct {
	p       *wspeer.Peer
	mu      sync.Mutex
	next    int
	pending map[int]chan cdpResult
}

type cdpResult struct {
	ID     int             `json:"id"`
	Result json.RawMessage `json:"result"`
	Error  *struct {
		Message string `json:"message"`
	} `json:"error"`
}

func newCDP(t *testing.T, url string) *cdp {
	c := &cdp{pending: map[int]chan cdpResult{}}
	c.p = dial(t, url, func(p *wspeer.Peer) {
		p.InboundBufferSize = 64 << 20 // screenshots
		p.OutboundBufferSize = 1 << 20
	})
	go func() {
		for c.p.Wait(context.Background()) == nil {
			c.p.Poll()
			for {
				msg, err := c.p.GetPacket()
				if err != nil {
					break
				}
				var r cdpResult
				if json.Unmarshal(msg, &r) != nil || r.ID == 0 {
					continue // an event
				}
				c.mu.Lock()
				ch := c.pending[r.ID]
				delete(c.pending, r.ID)
				c.mu.Unlock()
				if ch != nil {
					ch <- r
				}
			}
		}
	}()
	return c
}

// call sends a command and waits for its result.
func (c *cdp) call(method string, params any) (json.RawMessage, error) {
	c.mu.Lock()
	c.next++
	id := c.next
	ch := make(chan cdpResult, 1)
	c.pending[id] = ch
	c.mu.Unlock()
	msg, _ := json.Marshal(map[string]any{"id": id, "method": method, "params": params})
	if err := c.p.SendText(string(msg)); err != nil {
		return nil, err
	}
	select {
	case r := <-ch:
		if r.Error != nil {
			return nil, errors.New(r.Error.Message)
		}
		return r.Result, nil
	case <-time.After(10 * time.Second):
		return nil, fmt.Errorf("%s: no answer", method)
	}
}

// eval evaluates a JavaScript expression in the page and returns its value
// as JSON text.
func (c *cdp) eval(t *testing.T, expr string) string {
	t.Helper()
	res, err := c.call("Runtime.evaluate", map[string]any{"expression": expr, "returnByValue": true})
	if err != nil {
		t.Fatalf("evaluate %s: %v", expr, err)
	}
	var r struct {
		Result struct {
			Value json.RawMessage `json:"value"`
		} `json:"result"`
		ExceptionDetails any `json:"exceptionDetails"`
	}
	if err := json.Unmarshal(res, &r); err != nil || r.ExceptionDetails != nil {
		t.Fatalf("evaluate %s: %s", expr, res)
	}
	return string(r.Result.Value)
}

// waitEval polls expr until it evaluates to want (JSON).
func (c *cdp) waitEval(t *testing.T, expr, want string) {
	t.Helper()
	end := time.Now().Add(10 * time.Second)
	for {
		got := c.eval(t, expr)
		if got == want {
			return
		}
		if time.Now().After(end) {
			t.Fatalf("%s = %s, want %s", expr, got, want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (c *cdp) screenshot(t *testing.T, path string) {
	t.Helper()
	res, err := c.call("Page.captureScreenshot", map[string]any{"format": "png"})
	if err != nil {
		t.Fatal(err)
	}
	var r struct{ Data string }
	json.Unmarshal(res, &r)
	png, err := base64.StdEncoding.DecodeString(r.Data)
	if err != nil || len(png) < 8 || string(png[1:4]) != "PNG" {
		t.Fatalf("screenshot: %v, %d bytes", err, len(png))
	}
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s", path)
}

func TestChatPageInChromium(t *testing.T) {
	t.Parallel()
	debugURL := startChromium(t)
	srv, wsURL := startServer(t, "serve")
	pageURL := "http" + strings.TrimPrefix(wsURL, "ws") + "/"
	c := newCDP(t, debugURL)
	if _, err := c.call("Page.navigate", map[string]any{"url": pageURL}); err != nil {
		t.Fatal(err)
	}
	c.waitEval(t, `document.body && document.body.dataset.state`, `"open"`)

	// A library peer in the room; its message shows on the page as another's.
	other := dial(t, wsURL+"/chat", nil)
	if err := other.SendText("hello browser"); err != nil {
		t.Fatal(err)
	}
	c.waitEval(t, `[...document.querySelectorAll("#log li.other")].map(e => e.lastChild.textContent).join("|")`, `"hello browser"`)

	// Typed on the page: shown as ours, broadcast to the other peer.
	c.eval(t, `document.getElementById("input").value = "hello from chromium"; document.getElementById("form").requestSubmit(); true`)
	if msg, text := recv(t, other, 5*time.Second); string(msg) != "hello from chromium" || !text {
		t.Fatalf("other peer got %q (text %v)", msg, text)
	}
	c.waitEval(t, `[...document.querySelectorAll("#log li.mine")].map(e => e.lastChild.textContent).join("|")`, `"hello from chromium"`)

	// Server shutdown: the page shows 1001 and offers to reconnect.
	srv.cmd.Process.Signal(syscall.SIGTERM)
	c.waitEval(t, `document.body.dataset.closeCode`, `"1001"`)
	c.waitEval(t, `document.getElementById("state").textContent`, `"closed 1001"`)
	c.waitEval(t, `document.getElementById("reconnect").hidden`, `false`)
	c.waitEval(t, `document.getElementById("log").textContent.includes("code 1001 — server shutting down")`, `true`)
	shot := filepath.Join(t.TempDir(), "chat.png")
	if keep := os.Getenv("WSPEER_SCREENSHOT"); keep != "" {
		shot = keep // to look at it after the test: t.TempDir is removed
	}
	c.screenshot(t, shot)
	if code := srv.exit(3 * time.Second); code != 0 {
		t.Fatalf("serve exit %d", code)
	}
}
