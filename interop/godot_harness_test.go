package interop

// The reusable part of the Godot tests: find headless Godot 3 (Debian's
// godot3-server), run a GDScript with it, and build the wspeer binary for
// tests that run the CLI against it.

import (
	"context"
	"fmt"
	"net"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// godotServerCommand is Debian's headless Godot 3 (package godot3-server).
const godotServerCommand = "godot3-server"

// godot runs GDScript files with headless Godot 3.
type godot struct {
	bin  string // the godot3-server executable
	home string // HOME and XDG directories for Godot's user data
}

// requireGodot finds godot3-server, skipping the test when it is missing (or
// failing it when CI=true: scripts/test.sh installs it).
func requireGodot(t *testing.T) *godot {
	t.Helper()
	bin, err := exec.LookPath(godotServerCommand)
	requirePeer(t, err, "headless Godot 3 (apt-get install godot3-server)")
	return &godot{bin: bin, home: t.TempDir()}
}

// run starts `godot3-server --no-window --path project -s script args...`:
// project is a folder holding project.godot (its settings apply) and script,
// a GDScript extending SceneTree or MainLoop, relative to project; with
// script "" the project's main scene runs instead. Godot gets
// a private HOME and XDG directories, and WSPEER_GODOT_TIMEOUT_MS for the
// script's own watchdog; the coreutils timeout command kills it after
// timeout in any case, and the test's cleanup kills its process group. Its
// stdout lines arrive on the returned proc's lines; its stderr is kept and
// printed when the test fails.
func (g *godot) run(t *testing.T, timeout time.Duration, project, script string, args ...string) *proc {
	t.Helper()
	abs, err := filepath.Abs(project)
	if err != nil {
		t.Fatal(err)
	}
	argv := []string{
		"HOME=" + g.home,
		"XDG_CONFIG_HOME=" + filepath.Join(g.home, "config"),
		"XDG_DATA_HOME=" + filepath.Join(g.home, "data"),
		"XDG_CACHE_HOME=" + filepath.Join(g.home, "cache"),
		"LANG=en_US.UTF-8", "LC_ALL=en_US.UTF-8", // Godot rejects the C locale noisily
		"WSPEER_GODOT_TIMEOUT_MS=" + strconv.FormatInt(timeout.Milliseconds(), 10),
		"timeout", "-k", "2", strconv.Itoa(int(timeout/time.Second) + 5),
		g.bin, "--no-window", "--path", abs,
	}
	if script != "" {
		argv = append(argv, "-s", script)
	}
	p := startProc(t, "env", append(argv, args...)...)
	p.name = godotServerCommand + " " + script + " " + strings.Join(args, " ")
	return p
}

// waitExit waits for a process to end and returns its error (nil: status 0).
func waitExit(ctx context.Context, p *proc, timeout time.Duration) error {
	select {
	case <-p.exited:
		return p.err
	case <-time.After(timeout):
		return fmt.Errorf("%s still running after %v; stderr: %s", p.name, timeout, p.stderr.String())
	case <-ctx.Done():
		return ctx.Err()
	}
}

// buildWspeer builds the wspeer command (cmd/wspeer of the root module, which
// this module replaces with ../) into a temporary directory.
func buildWspeer(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "wspeer")
	out, err := exec.Command("go", "build", "-o", bin, "github.com/wspeer/wspeer/cmd/wspeer").CombinedOutput()
	if err != nil {
		t.Fatalf("building wspeer: %v\n%s", err, out)
	}
	return bin
}

// startWspeerServer runs `wspeer <args> -listen 127.0.0.1:0` and returns it
// with the ws:// URL it prints first.
func startWspeerServer(ctx context.Context, t *testing.T, bin string, args ...string) (*proc, string) {
	t.Helper()
	p := startProc(t, bin, append(args, "-listen", "127.0.0.1:0")...)
	l, err := p.line(ctx, 20*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	url, ok := strings.CutPrefix(l, "listening on ")
	if !ok || !strings.HasPrefix(url, "ws://127.0.0.1:") {
		t.Fatalf("wspeer %s: first line %q, want listening on ws://127.0.0.1:PORT", args[0], l)
	}
	return p, url
}

// freePort returns a loopback TCP port that was free a moment ago, for a
// server (Godot's) that cannot report the port it was given for port 0.
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}
