package conformance

import (
	"bufio"
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

var (
	cliOnce sync.Once
	cliDir  string // removed by TestMain
	cliPath string
	cliErr  string
)

func TestMain(m *testing.M) {
	code := m.Run()
	if cliDir != "" {
		os.RemoveAll(cliDir)
	}
	os.Exit(code)
}

// buildCLI builds cmd/wspeer once per test binary, or skips the test when it
// does not build (the CLI is optional for this package).
func buildCLI(t *testing.T) string {
	t.Helper()
	cliOnce.Do(func() {
		goTool, err := exec.LookPath("go")
		if err != nil {
			goTool = filepath.Join(runtime.GOROOT(), "bin", "go")
		}
		dir, err := os.MkdirTemp("", "wsconform")
		if err != nil {
			cliErr = err.Error()
			return
		}
		cliDir = dir
		out := filepath.Join(dir, "wspeer")
		cmd := exec.Command(goTool, "build", "-o", out, "../../cmd/wspeer")
		if b, err := cmd.CombinedOutput(); err != nil {
			cliErr = "go build ../../cmd/wspeer: " + err.Error() + ": " + string(b)
			return
		}
		cliPath = out
	})
	if cliPath == "" {
		t.Skip("no CLI binary: " + cliErr)
	}
	return cliPath
}

// TestServerRoleCLI runs the suite against `wspeer echo -compress`.
func TestServerRoleCLI(t *testing.T) {
	bin := buildCLI(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "echo", "-compress", "-listen", "127.0.0.1:0")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		cmd.Process.Kill()
		cmd.Wait()
	}()
	lines := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		if sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
		for sc.Scan() {
		}
	}()
	var url string
	select {
	case line := <-lines:
		var ok bool
		url, ok = strings.CutPrefix(line, "listening on ")
		if !ok || !strings.HasPrefix(url, "ws://") {
			t.Fatalf("wspeer echo printed %q, want \"listening on ws://HOST:PORT\"", line)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("wspeer echo printed nothing in 10s")
	}
	cases := testCases()
	rep := RunClient(ctx, url, cases, nil)
	rep.Agent = "wspeer echo"
	checkReport(t, rep, len(cases))
}

// TestClientRoleCLI runs `wspeer autobahn -compress` against the suite's
// fuzzingserver.
func TestClientRoleCLI(t *testing.T) {
	bin := buildCLI(t)
	cases := testCases()
	srv := NewServer(cases)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, l) }()
	cmd := exec.CommandContext(ctx, bin, "autobahn", "-compress", "-url", "ws://"+l.Addr().String(), "-agent", "wspeer-cli", "-case-timeout", "2m")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Errorf("wspeer autobahn: %v\n%s", err, tail(string(out), 20))
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Serve: %v", err)
	}
	rep := srv.Report("wspeer-cli")
	if rep == nil {
		t.Fatalf("no report for agent wspeer-cli; output:\n%s", tail(string(out), 20))
	}
	if n := srv.ReportsUpdated("wspeer-cli"); n != 1 {
		t.Errorf("updateReports called %d times, want 1", n)
	}
	checkReport(t, rep, len(cases))
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
