package interop

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// findChromium returns the path of a Chromium binary.
func findChromium() (string, error) {
	var errs []error
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		path, err := exec.LookPath(name)
		if err == nil {
			return path, nil
		}
		errs = append(errs, err)
	}
	return "", fmt.Errorf("no Chromium (apt-get install chromium): %w", errors.Join(errs...))
}

// startChromium starts headless Chromium and returns its DevTools browser
// endpoint. Chromium is stopped and its profile removed when the test ends.
func startChromium(t *testing.T, path string) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "wspeer-chromium-")
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(path, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
		"--no-first-run", "--disable-background-networking", "--disable-component-update",
		"--disable-sync", "--disable-dev-shm-usage", "--remote-debugging-address=127.0.0.1",
		"--remote-debugging-port=0", "--user-data-dir="+dir, "about:blank")
	ownGroup(cmd)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	endpoint := make(chan string, 1)
	log := &lockedBuffer{}
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			line := sc.Text()
			if url, ok := strings.CutPrefix(line, "DevTools listening on "); ok {
				endpoint <- url
			}
			fmt.Fprintln(log, line)
		}
		cmd.Wait()
		close(exited)
	}()
	t.Cleanup(func() {
		killGroup(cmd)
		<-exited
		os.RemoveAll(dir)
		if t.Failed() {
			t.Logf("chromium stderr:\n%s", log.String())
		}
	})
	select {
	case url := <-endpoint:
		return url
	case <-exited:
		t.Fatalf("chromium exited before listening:\n%s", log.String())
	case <-time.After(30 * time.Second):
		t.Fatalf("chromium not listening after 30s:\n%s", log.String())
	}
	return ""
}

// cdp speaks the Chrome DevTools Protocol over a wspeer client connection
// (dogfooding). Calls are sequential; events are ignored.
type cdp struct {
	c      *ourConn
	nextID int
}

type cdpError struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
}

// call sends one command (to a flattened target session when session is not
// "") and decodes its result into result.
func (d *cdp) call(ctx context.Context, session, method string, params, result any) error {
	d.nextID++
	req := map[string]any{"id": d.nextID, "method": method}
	if params != nil {
		req["params"] = params
	}
	if session != "" {
		req["sessionId"] = session
	}
	b, err := json.Marshal(req)
	if err != nil {
		return err
	}
	if err := d.c.send(true, b); err != nil {
		return fmt.Errorf("%s: %w", method, err)
	}
	for {
		m, err := d.c.recv(ctx, 30*time.Second)
		if err != nil {
			return fmt.Errorf("%s: %w", method, err)
		}
		var resp struct {
			ID     int             `json:"id"`
			Result json.RawMessage `json:"result"`
			Error  *cdpError       `json:"error"`
		}
		if err := json.Unmarshal(m.data, &resp); err != nil {
			return fmt.Errorf("%s: bad message %v: %w", method, m, err)
		}
		if resp.ID != d.nextID {
			continue // an event
		}
		if resp.Error != nil {
			return fmt.Errorf("%s: error %d: %s", method, resp.Error.Code, resp.Error.Message)
		}
		if result == nil {
			return nil
		}
		return json.Unmarshal(resp.Result, result)
	}
}

// eval evaluates a JavaScript expression in the page and decodes its value.
func (d *cdp) eval(ctx context.Context, session, expr string, value any) error {
	var res struct {
		Result struct {
			Value json.RawMessage `json:"value"`
		} `json:"result"`
		ExceptionDetails *struct {
			Text      string `json:"text"`
			Exception struct {
				Description string `json:"description"`
			} `json:"exception"`
		} `json:"exceptionDetails"`
	}
	err := d.call(ctx, session, "Runtime.evaluate", map[string]any{"expression": expr, "returnByValue": true}, &res)
	if err != nil {
		return err
	}
	if e := res.ExceptionDetails; e != nil {
		return fmt.Errorf("evaluating %q: %s %s", expr, e.Text, e.Exception.Description)
	}
	if value == nil || len(res.Result.Value) == 0 {
		return nil
	}
	return json.Unmarshal(res.Result.Value, value)
}

// openPage opens url in a new tab and returns the flattened session to it,
// once the page's script is loaded.
func (d *cdp) openPage(ctx context.Context, url string) (string, error) {
	var target struct {
		TargetID string `json:"targetId"`
	}
	if err := d.call(ctx, "", "Target.createTarget", map[string]any{"url": url}, &target); err != nil {
		return "", err
	}
	var attached struct {
		SessionID string `json:"sessionId"`
	}
	err := d.call(ctx, "", "Target.attachToTarget", map[string]any{"targetId": target.TargetID, "flatten": true}, &attached)
	if err != nil {
		return "", err
	}
	for start := time.Now(); time.Since(start) < 30*time.Second; time.Sleep(50 * time.Millisecond) {
		var typ string
		if err := d.eval(ctx, attached.SessionID, "typeof startSession", &typ); err != nil {
			return "", err
		}
		if typ == "function" {
			return attached.SessionID, nil
		}
	}
	return "", fmt.Errorf("page %s did not load in 30s", url)
}
