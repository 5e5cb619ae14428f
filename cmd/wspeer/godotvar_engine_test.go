package main

// Tests against the real Godot 3 engine (Debian's godot3-server, headless).
// They skip when it is not installed, except under CI=true, where they fail.

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/wspeer/wspeer"
	"github.com/wspeer/wspeer/godot"
)

// godot3 returns the path of godot3-server, skipping the test without it.
func godot3(t *testing.T) string {
	t.Helper()
	path, err := exec.LookPath("godot3-server")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("godot3-server is not installed (apt-get install godot3-server)")
		}
		t.Skip("godot3-server is not installed")
	}
	return path
}

// godotRun is a running headless Godot.
type godotRun struct {
	cmd  *exec.Cmd
	out  *lockedBuffer // stdout and stderr
	done chan error
}

// runGodot starts script (from testdata/godot) in a fresh project directory
// with its own HOME; the process is killed at the end of the test.
func runGodot(t *testing.T, script string, env ...string) *godotRun {
	t.Helper()
	engine := godot3(t)
	dir := t.TempDir()
	scripts, err := filepath.Glob("testdata/godot/*.gd")
	if err != nil || len(scripts) == 0 {
		t.Fatal("no GDScript in testdata/godot", err)
	}
	for _, s := range append(scripts, "project.godot") {
		var b []byte
		if s != "project.godot" {
			if b, err = os.ReadFile(s); err != nil {
				t.Fatal(err)
			}
		}
		if err := os.WriteFile(filepath.Join(dir, filepath.Base(s)), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	g := &godotRun{cmd: exec.Command(engine, "--no-window", "--path", dir, "-s", script), out: &lockedBuffer{}, done: make(chan error, 1)}
	g.cmd.Env = append(os.Environ(), append(env, "HOME="+dir, "XDG_DATA_HOME="+dir, "XDG_CONFIG_HOME="+dir)...)
	g.cmd.Stdout, g.cmd.Stderr = g.out, g.out
	if err := g.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { g.done <- g.cmd.Wait() }()
	t.Cleanup(func() {
		g.cmd.Process.Kill()
		<-g.done
		if t.Failed() {
			t.Logf("godot3-server %s output:\n%s", script, g.out.String())
		}
	})
	return g
}

// wait waits for the engine to exit and returns its output and exit status.
func (g *godotRun) wait(t *testing.T) (string, int) {
	t.Helper()
	select {
	case err := <-g.done:
		g.done <- err // for the cleanup
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		return g.out.String(), code
	case <-time.After(60 * time.Second):
		t.Fatalf("godot3-server still running after 60 s:\n%s", g.out.String())
	}
	return "", -1
}

// TestGodot3EchoEveryType: a Godot 3 client sends values of every Godot 3
// type (values.gd: objects as ids and whole, nested containers, a 10 kB
// PoolByteArray...) with put_var through `wspeer echo -godot-var 3`; each
// reply must equal Godot's own var2bytes byte for byte and decode with
// get_var to the value sent.
func TestGodot3EchoEveryType(t *testing.T) {
	t.Parallel()
	godot3(t)
	_, url := startServer(t, "echo", "-godot-var", "3")
	g := runGodot(t, "client.gd", "WSPEER_URL="+url+"/")
	out, code := g.wait(t)
	// 46 values of values.gd, a Node as its id, a whole Reference.
	if code != 0 || !strings.Contains(out, "DONE 48 values, 0 failures") {
		t.Fatalf("Godot client exit %d:\n%s", code, out)
	}
	t.Logf("%d values checked by Godot", strings.Count(out, "\nOK "))
}

// TestGodot3ServerGetsPutVar: a Godot 3 server receives Peer.PutVar values
// of every Godot 3 type from Go, checks that var2bytes(bytes2var(msg)) gives
// the message back, and replies with that encoding and with var2str. Go
// checks the encoding byte for byte and that Godot's text parses back to
// the same value.
func TestGodot3ServerGetsPutVar(t *testing.T) {
	t.Parallel()
	godot3(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close() // Godot listens there next
	g := runGodot(t, "server.gd", "WSPEER_PORT="+strconv.Itoa(port))
	for end := time.Now().Add(30 * time.Second); !strings.Contains(g.out.String(), "LISTENING"); {
		if time.Now().After(end) || strings.Contains(g.out.String(), "FAIL") {
			t.Fatalf("Godot server did not start:\n%s", g.out.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	p := dial(t, fmt.Sprintf("ws://127.0.0.1:%d/", port), func(p *wspeer.Peer) { p.Variant.Version = godot.Godot3 })
	o := godot.Options{Version: godot.Godot3}
	for i, v := range godot3Values() {
		want, err := o.Encode(v)
		if err != nil {
			t.Fatalf("value %d %#v: %v", i, v, err)
		}
		if err := p.PutVar(v); err != nil {
			t.Fatalf("PutVar(%#v): %v", v, err)
		}
		got, text := recv(t, p, 20*time.Second)
		if text || !bytes.Equal(got, want) {
			t.Errorf("value %d %s: Godot re-encoded %x, want %x", i, godot.Format(v, godot.Godot3), got, want)
		}
		str, text := recv(t, p, 20*time.Second)
		s, ok := strings.CutPrefix(string(str), "T:")
		if !text || !ok {
			t.Fatalf("value %d: want a T: text reply, got %q", i, str)
		}
		if _, isRID := v.(godot.RID); isRID && s == "" {
			continue // Godot 3 writes RID() as nothing
		}
		back, err := godot.Parse(s, godot.Godot3)
		decoded, _ := o.Decode(want)
		if err != nil || !godot.Equal(back, decoded) {
			t.Errorf("value %d: Godot's var2str %q parses to %v, %v; want %s", i, s, back, err, godot.Format(decoded, godot.Godot3))
		}
	}
	if err := p.SendText("done"); err != nil {
		t.Fatal(err)
	}
	out, code := g.wait(t)
	if code != 0 || !strings.Contains(out, fmt.Sprintf("DONE %d values, 0 failures", len(godot3Values()))) {
		t.Fatalf("Godot server exit %d:\n%s", code, out)
	}
}

// TestGodot3GoldenFile runs dump.gd and checks that the engine still makes
// godot/testdata/godot3_engine.txt, the Godot 3 golden vectors of package
// godot (NodePath padding aside: Godot 3 leaves it uninitialised).
func TestGodot3GoldenFile(t *testing.T) {
	t.Parallel()
	out, code := runGodot(t, "dump.gd").wait(t)
	if code != 0 {
		t.Fatalf("dump.gd exit %d:\n%s", code, out)
	}
	file, err := os.ReadFile("../../godot/testdata/godot3_engine.txt")
	if err != nil {
		t.Fatal(err)
	}
	var want, got []string
	for _, l := range strings.Split(string(file), "\n") {
		if l != "" && !strings.HasPrefix(l, "#") {
			want = append(want, l)
		}
	}
	for _, l := range strings.Split(out, "\n") {
		if h, _, ok := strings.Cut(l, "\t"); ok && h != "" && strings.Trim(h, "0123456789abcdef") == "" {
			got = append(got, l)
		}
	}
	if len(got) != len(want) {
		t.Fatalf("dump.gd printed %d vectors, the file has %d", len(got), len(want))
	}
	o := godot.Options{Version: godot.Godot3}
	for i := range want {
		if got[i] == want[i] {
			continue
		}
		gh, gt, _ := strings.Cut(got[i], "\t")
		wh, wt, _ := strings.Cut(want[i], "\t")
		gb, _ := hex.DecodeString(gh)
		wb, _ := hex.DecodeString(wh)
		gv, err1 := o.Decode(gb)
		wv, err2 := o.Decode(wb)
		_, isPath := wv.(godot.NodePath)
		if gt != wt || err1 != nil || err2 != nil || !isPath || !godot.Equal(gv, wv) {
			t.Errorf("vector %d: engine %s, file %s", i, got[i], want[i])
		}
	}
}

// godot3Values are Go values of every Godot 3 type, plain Go ones too.
func godot3Values() []any {
	d := godot.NewDictionary()
	d.Set(godot.Vector2{X: 1, Y: 2}, "vector key")
	d.Set(int64(3), []any{1.5, nil})
	d.Set("nested", map[string]any{"b": []int32{1, 2}, "a": godot.Color{R: 1, A: 1}})
	return []any{
		nil, true, false, 0, int64(-1) << 40, int32(7), uint16(65535), 1.5, 0.1, float32(-0.25),
		"", "héllo \"world\"\n\ttab ✓",
		godot.Vector2{X: 1.5, Y: -2}, godot.Rect2{Position: godot.Vector2{X: 1, Y: 2}, Size: godot.Vector2{X: 3, Y: 4}},
		godot.Vector3{X: 1, Y: 2, Z: 3},
		godot.Transform2D{X: godot.Vector2{X: 1, Y: 0.5}, Y: godot.Vector2{Y: 1}, Origin: godot.Vector2{X: 5, Y: 6}},
		godot.Plane{Normal: godot.Vector3{Y: 1}, D: 2}, godot.Quaternion{Z: 0.5, W: 1},
		godot.AABB{Position: godot.Vector3{X: 1, Y: 2, Z: 3}, Size: godot.Vector3{X: 4, Y: 5, Z: 6}},
		godot.Basis{Rows: [3]godot.Vector3{{X: 1, Y: 4, Z: 7}, {X: 2, Y: 5, Z: 8}, {X: 3, Y: 6, Z: 9}}},
		godot.Transform3D{Basis: godot.Basis{Rows: [3]godot.Vector3{{X: 1}, {Y: 1}, {Z: 1}}}, Origin: godot.Vector3{X: 10, Y: 11, Z: 12}},
		godot.Color{R: 1, G: 0.5, B: 0.25, A: 1},
		godot.NodePath{Names: []string{"root", "Player"}, SubNames: []string{"position", "x"}, Absolute: true},
		godot.NodePath{Names: []string{"a", "b"}}, godot.RID(0),
		d, map[string]int{"z": 26, "a": 1}, godot.NewDictionary(),
		[]any{}, []any{1, "two", []any{3, map[string]float64{"four": 4.5}}}, []int{1, 2, 3},
		[]byte{}, []byte{1, 2, 3, 255}, bytes.Repeat([]byte{7}, 10001),
		[]int32{1, -2, 2147483647}, []float32{1.5, -0.25}, []string{"", "ab", "héllo"},
		[]godot.Vector2{{X: 1, Y: 2}, {X: 3, Y: 4}}, []godot.Vector3{{X: 1, Y: 2, Z: 3}},
		[]godot.Color{{R: 1, A: 1}, {B: 1, A: 0.5}},
	}
}
