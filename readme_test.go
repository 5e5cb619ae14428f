//go:build !js

package wspeer_test

import (
	"bufio"
	"context"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/wspeer/wspeer"
)

// readmePrograms returns the README's Go blocks by the file each names in the
// "<!-- path -->" comment just above it.
func readmePrograms(t *testing.T) map[string]string {
	t.Helper()
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	blocks := regexp.MustCompile("(?s)(?:<!-- ([^ ]+) -->\n)?```go\n(.*?)```").FindAllStringSubmatch(string(readme), -1)
	progs := map[string]string{}
	for _, b := range blocks {
		if b[1] == "" {
			t.Errorf("README has a Go block without a <!-- examples/.../main.go --> line above it:\n%s", b[2])
			continue
		}
		progs[b[1]] = b[2]
	}
	return progs
}

// The README's Go blocks are complete programs, the same bytes as the
// example programs the build compiles; every example program is in the
// README. The programs are built and run by TestReadmeProgramsRun.
func TestReadmeProgramsInSync(t *testing.T) {
	progs := readmePrograms(t)
	for _, dir := range []string{"examples/client", "examples/upgrader"} {
		path := dir + "/main.go"
		if _, ok := progs[path]; !ok {
			t.Errorf("README does not show %s", path)
		}
	}
	for path, block := range progs {
		file, err := os.ReadFile(filepath.FromSlash(path))
		if err != nil {
			t.Errorf("README shows %s: %v", path, err)
			continue
		}
		if string(file) != block {
			t.Errorf("README's block for %s differs from the file: copy the file into the README", path)
		}
	}
}

// The README's programs build and do what the README says: the client gets
// its echo and closes with 1000 against the upgrader example, which refuses a
// request without a token with 401.
func TestReadmeProgramsRun(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("go command not found")
		}
		t.Skip("go command not found")
	}
	dir := t.TempDir()
	build := exec.Command("go", "build", "-o", dir+string(os.PathSeparator), "./examples/client", "./examples/upgrader")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	url := startUpgrader(t, filepath.Join(dir, "upgrader"))

	// Without a token: 401 and the upgrader's reason.
	out, err := exec.Command(filepath.Join(dir, "client"), url).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "closed -1  ") || !strings.Contains(string(out), "401") {
		t.Fatalf("client without a token: %v\n%s", err, out)
	}
	// The client against an echo server that wants no token.
	out, err = exec.Command(filepath.Join(dir, "client"), echoServer(t)).CombinedOutput()
	if want := "hello (text: true)\nclosed 1000 done <nil>\n"; err != nil || string(out) != want {
		t.Fatalf("client: %v\n%s\nwant:\n%s", err, out, want)
	}
	// The upgrader with a token, through a library client: the echo comes back.
	checkEcho(t, url, http.Header{"Authorization": {"Bearer x"}})
}

// startUpgrader runs the upgrader program on a free loopback port and returns
// its endpoint's URL.
func startUpgrader(t *testing.T, bin string) string {
	t.Helper()
	srv := exec.Command(bin, "127.0.0.1:0")
	stdout, err := srv.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		srv.Process.Kill()
		srv.Wait()
	})
	sc := bufio.NewScanner(stdout)
	if !sc.Scan() {
		t.Fatal("upgrader printed nothing")
	}
	addr, ok := strings.CutPrefix(sc.Text(), "listening on ")
	if !ok {
		t.Fatalf("upgrader printed %q", sc.Text())
	}
	return "ws://" + addr + "/ws"
}

// echoServer runs a net/http echo server in the test and returns its URL.
func echoServer(t *testing.T) string {
	t.Helper()
	echo := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, err := (&wspeer.Upgrader{}).Upgrade(w, r)
		if err != nil {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		for p.Wait(ctx) == nil {
			p.Poll()
			if msg, err := p.GetPacket(); err == nil {
				p.SendText(string(msg))
			}
		}
	})}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go echo.Serve(ln)
	t.Cleanup(func() { echo.Close() })
	return "ws://" + ln.Addr().String() + "/"
}

// checkEcho connects a library client with header to url and checks that a
// text message comes back and the connection closes cleanly.
func checkEcho(t *testing.T, url string, header http.Header) {
	t.Helper()
	p := wspeer.NewPeer()
	p.HandshakeHeaders = header
	if err := p.ConnectToURL(url, nil); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	sent := false
	for p.Wait(ctx) == nil {
		p.Poll()
		if p.ReadyState() == wspeer.StateOpen && !sent {
			p.SendText("ping me")
			sent = true
		}
		if msg, err := p.GetPacket(); err == nil {
			if string(msg) != "ping me" || !p.WasStringPacket() {
				t.Fatalf("echo %q", msg)
			}
			p.Close(1000, "done")
		}
	}
	if p.CloseCode() != 1000 || p.CloseError() != nil {
		t.Fatalf("closed %d %v", p.CloseCode(), p.CloseError())
	}
}
