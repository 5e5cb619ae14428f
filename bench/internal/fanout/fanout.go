// Package fanout measures chat fan-out across a cluster: a real nats-server
// and N real `wspeer serve -nats` nodes (both built from this repository's
// modules), with many wspeer clients spread over the nodes in one room. One
// client sends, one message at a time; the figure for a message is the time
// from its send to its arrival at the last of the other clients.
package fanout

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/wspeer/wspeer"
)

// Config describes one run.
type Config struct {
	Root     string        // repository root: holds cmd/wspeer and natsbackplane
	Nodes    int           // serve nodes
	Clients  int           // clients, spread round-robin over the nodes; client 0 sends
	Messages int           // measured broadcasts
	Size     int           // message size in bytes (at least 32)
	Gap      time.Duration // pause between two broadcasts
	Log      io.Writer     // progress lines; nil for none
}

// Result is the send-to-last-receiver latency of each measured message.
type Result struct {
	Receivers int
	Latencies []time.Duration // sorted
}

// Percentile returns the p-th percentile (0 < p <= 100) of the latencies.
func (r *Result) Percentile(p float64) time.Duration {
	if len(r.Latencies) == 0 {
		return 0
	}
	i := int(p/100*float64(len(r.Latencies))+0.5) - 1
	return r.Latencies[min(max(i, 0), len(r.Latencies)-1)]
}

// Run builds the binaries, starts the cluster and measures.
func Run(ctx context.Context, cfg Config) (*Result, error) {
	if cfg.Nodes < 1 || cfg.Clients < 2 || cfg.Messages < 1 || cfg.Size < 32 {
		return nil, fmt.Errorf("fanout: need nodes >= 1, clients >= 2, messages >= 1, size >= 32: %+v", cfg)
	}
	logf := func(format string, args ...any) {
		if cfg.Log != nil {
			fmt.Fprintf(cfg.Log, format+"\n", args...)
		}
	}
	tmp, err := os.MkdirTemp("", "fanout")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	logf("building nats-server and wspeer")
	natsBin, wspeerBin := filepath.Join(tmp, "nats-server"), filepath.Join(tmp, "wspeer")
	if err := goBuild(filepath.Join(cfg.Root, "natsbackplane"), natsBin, "github.com/nats-io/nats-server/v2"); err != nil {
		return nil, err
	}
	if err := goBuild(filepath.Join(cfg.Root, "cmd", "wspeer"), wspeerBin, "."); err != nil {
		return nil, err
	}
	var procs procGroup
	defer procs.stop()
	natsURL, err := startNATS(&procs, natsBin)
	if err != nil {
		return nil, err
	}
	urls := make([]string, cfg.Nodes)
	for i := range urls {
		if urls[i], err = startNode(ctx, &procs, wspeerBin, natsURL); err != nil {
			return nil, err
		}
	}
	logf("NATS at %s, nodes %v; connecting %d clients", natsURL, urls, cfg.Clients)
	room := newRoom(cfg)
	defer room.close()
	if err := room.connect(ctx, urls); err != nil {
		return nil, err
	}
	if err := room.warmUp(ctx); err != nil {
		return nil, err
	}
	logf("measuring %d broadcasts to %d receivers", cfg.Messages, cfg.Clients-1)
	return room.measure(ctx)
}

func goBuild(dir, out, pkg string) error {
	cmd := exec.Command("go", "build", "-o", out, pkg)
	cmd.Dir = dir
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("fanout: go build %s in %s: %w\n%s", pkg, dir, err, b)
	}
	return nil
}

// procGroup is the processes a run started, stopped at its end.
type procGroup struct{ cmds []*exec.Cmd }

func (g *procGroup) start(cmd *exec.Cmd) error {
	if err := cmd.Start(); err != nil {
		return err
	}
	g.cmds = append(g.cmds, cmd)
	return nil
}

func (g *procGroup) stop() {
	for _, cmd := range slices.Backward(g.cmds) {
		cmd.Process.Kill()
		cmd.Wait()
	}
}

// startNATS runs nats-server on a free loopback port and waits for it.
func startNATS(g *procGroup, bin string) (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	addr := ln.Addr().String()
	ln.Close()
	host, port, _ := net.SplitHostPort(addr)
	if err := g.start(exec.Command(bin, "-a", host, "-p", port)); err != nil {
		return "", err
	}
	for range 200 {
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			return "nats://" + addr, nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	return "", fmt.Errorf("fanout: nats-server on %s did not come up in 10 s", addr)
}

// startNode runs `wspeer serve -nats` and returns its ws:// URL once its NATS
// link is up.
func startNode(ctx context.Context, g *procGroup, bin, natsURL string) (string, error) {
	cmd := exec.Command(bin, "serve", "-listen", "127.0.0.1:0", "-nats", natsURL)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return "", err
	}
	if err := g.start(cmd); err != nil {
		return "", err
	}
	line, err := bufio.NewReader(stdout).ReadString('\n')
	go io.Copy(io.Discard, stdout)
	url, ok := strings.CutPrefix(strings.TrimSpace(line), "listening on ")
	if err != nil || !ok {
		return "", fmt.Errorf("fanout: wspeer serve printed %q: %v", line, err)
	}
	status := "http" + strings.TrimPrefix(url, "ws") + "/cluster"
	for range 300 {
		var v struct{ NATS string }
		if resp, err := http.Get(status); err == nil {
			json.NewDecoder(resp.Body).Decode(&v)
			resp.Body.Close()
		}
		if v.NATS == "up" {
			return url, nil
		}
		if ctx.Err() != nil {
			return "", ctx.Err()
		}
		time.Sleep(50 * time.Millisecond)
	}
	return "", errors.New("fanout: a node's NATS link did not come up in 15 s")
}

// room is the clients and what they received.
type room struct {
	cfg     Config
	clients []*wspeer.Peer
	wg      sync.WaitGroup
	cancel  context.CancelFunc

	warm    []atomic.Bool  // per client: got a warm-up message
	count   []atomic.Int32 // per measured message: receivers that got it
	last    []atomic.Int64 // per measured message: latest arrival, UnixNano
	done    []chan struct{}
	payload string
}

func newRoom(cfg Config) *room {
	r := &room{cfg: cfg, warm: make([]atomic.Bool, cfg.Clients),
		count: make([]atomic.Int32, cfg.Messages), last: make([]atomic.Int64, cfg.Messages),
		done: make([]chan struct{}, cfg.Messages), payload: strings.Repeat("x", cfg.Size)}
	for i := range r.done {
		r.done[i] = make(chan struct{})
	}
	return r
}

func (r *room) close() {
	if r.cancel != nil {
		r.cancel()
	}
	r.wg.Wait()
	for _, c := range r.clients {
		c.Close(-1, "")
	}
}
