// Command benchrun runs the whole comparison: it builds benchsrv and
// benchload, runs every scenario for every contender in interleaved rounds
// (A, B, C, A, B, C...), with the server pinned to CPU 0 and the load
// generator to CPU 1 when taskset is available, and writes results.json,
// bench.svg and ../BENCHMARKS.md.
//
//	cd bench && go run ./cmd/benchrun            # full run, 3 rounds (~20 min)
//	cd bench && go run ./cmd/benchrun -quick     # smoke run (~2 min)
//	cd bench && go run ./cmd/benchrun -only compress  # permessage-deflate section only (~2 min)
//	cd bench && go run ./cmd/benchrun -before /tmp/benchsrv-old  # before/after comparison (compare.go)
//
// Before each round it waits, at most -calm-wait, for the 1-minute load
// average to drop to -max-load, and it records the load around every round
// and the CPU other processes used during every run; the report says when
// either was over its limit (noise.go).
//
// The compression scenario's records go to results-compress.json and its
// section of BENCHMARKS.md is spliced in place (see compress.go), so that
// -only compress leaves the rest of the report alone.
package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/wspeer/wspeer/bench/internal/load"
	"github.com/wspeer/wspeer/bench/internal/stats"
)

// Servers in report order.
var servers = []string{"rawtcp", "wspeer-poll", "wspeer-wait", "wspeer-http", "gorilla", "coder", "gobwas-wsutil", "gobwas-frame", "gws"}

// Sizes of the throughput scenario and the messages kept in flight for each.
var sizes = []int{64, 1024, 16 << 10, 1 << 20}

func inflight(size int) int {
	switch {
	case size <= 1024:
		return 16
	case size <= 16<<10:
		return 4
	}
	return 2
}

// Cell is one measurement setting; every contender runs it each round.
type Cell struct {
	Kind  string `json:"kind"` // echo, latency, idle, handshake, client, zecho, zidle
	Conns int    `json:"conns,omitempty"`
	Size  int    `json:"size,omitempty"`
	K     int    `json:"inflight,omitempty"`
}

func (c Cell) key() string { return fmt.Sprintf("%s/%d/%d", c.Kind, c.Conns, c.Size) }

// Record is one run of one contender in one cell.
type Record struct {
	Cell      Cell        `json:"cell"`
	Contender string      `json:"contender"`
	Round     int         `json:"round"`
	Result    load.Result `json:"result"`
	Mem       *MemPerConn `json:"mem,omitempty"`
	Err       string      `json:"err,omitempty"`
}

// MemPerConn is the idle scenario's server memory per connection.
type MemPerConn struct {
	N          int     `json:"n"`
	RSS        float64 `json:"rss"`
	Heap       float64 `json:"heap"`
	Stack      float64 `json:"stack"`
	Goroutines float64 `json:"goroutines"`
}

type runner struct {
	srvBin, loadBin string
	beforeBin       string // with -before: the old benchsrv for the "@before" contenders
	pinSrv, pinLoad []string
	d, warmup       time.Duration
	idleConns       int
	verbose         bool
}

func main() {
	rounds := flag.Int("rounds", 3, "interleaved rounds")
	quick := flag.Bool("quick", false, "short smoke run: 1 round, short durations, 1,000 idle connections")
	d := flag.Duration("d", 2*time.Second, "measured time per run")
	only := flag.String("only", "", "comma-separated scenario kinds to run (echo,latency,idle,handshake,client,compress); default all")
	md := flag.String("md", "../BENCHMARKS.md", "Markdown report to write")
	svg := flag.String("svg", "bench.svg", "SVG chart to write")
	jsonOut := flag.String("json", "results.json", "raw results to write")
	zjsonOut := flag.String("zjson", "results-compress.json", "raw results of the compression scenario to write")
	fromJSON := flag.String("report", "", "only regenerate the report from this results file")
	runNote := flag.String("note", "(regenerated from saved results)", "with -report: the run description to print")
	nz := noise{}
	flag.Float64Var(&nz.maxLoad, "max-load", defaultMaxLoad(), "1-minute load average above which a round waits, then counts as noisy")
	flag.DurationVar(&nz.maxWait, "calm-wait", 2*time.Minute, "longest wait before a round for the load average to drop to -max-load")
	flag.Float64Var(&nz.maxOthers, "max-others", 0.2, "CPU (cores) other processes may use during a run before it counts as noisy")
	before := flag.String("before", "", "compare mode: an older benchsrv binary whose wspeer-poll and wspeer-wait run interleaved with the current ones (see compare.go)")
	cmpMD := flag.String("compare-md", "compare.md", "with -before: the comparison report to write")
	cmpJSON := flag.String("compare-json", "compare.json", "with -before: the raw results to write")
	flag.Parse()

	if *fromJSON != "" {
		res, err := readResults(*fromJSON)
		check(err)
		check(writeReport(res, *md, *svg, machine(), *runNote))
		return
	}

	r := &runner{d: *d, warmup: 300 * time.Millisecond, idleConns: 10000, verbose: true, beforeBin: *before}
	if *quick {
		*rounds, r.d, r.warmup, r.idleConns = 1, 300*time.Millisecond, 100*time.Millisecond, 1000
		nz.maxWait = min(nz.maxWait, 15*time.Second)
	}
	if r.beforeBin != "" {
		if _, err := os.Stat(r.beforeBin); err != nil {
			check(fmt.Errorf("-before: %w", err))
		}
		if *only == "" {
			*only = compareKinds
		}
	}
	tmp, err := os.MkdirTemp("", "benchrun")
	check(err)
	defer os.RemoveAll(tmp)
	r.srvBin, r.loadBin = filepath.Join(tmp, "benchsrv"), filepath.Join(tmp, "benchload")
	for bin, pkg := range map[string]string{r.srvBin: "./cmd/benchsrv", r.loadBin: "./cmd/benchload"} {
		cmd := exec.Command("go", "build", "-o", bin, pkg)
		cmd.Stderr = os.Stderr
		check(cmd.Run())
	}
	if _, err := exec.LookPath("taskset"); err == nil && runtime.NumCPU() >= 2 {
		r.pinSrv, r.pinLoad = []string{"taskset", "-c", "0"}, []string{"taskset", "-c", "1"}
	}

	var cells []Cell
	want := func(kind string) bool { return *only == "" || strings.Contains(","+*only+",", ","+kind+",") }
	if want("latency") {
		cells = append(cells, Cell{Kind: "latency", Conns: 1, Size: 64, K: 1})
	}
	if want("echo") {
		for _, n := range []int{64, 512} {
			for _, s := range sizes {
				cells = append(cells, Cell{Kind: "echo", Conns: n, Size: s, K: inflight(s)})
			}
		}
	}
	if want("handshake") {
		cells = append(cells, Cell{Kind: "handshake"})
	}
	if want("idle") {
		cells = append(cells, Cell{Kind: "idle", Conns: r.idleConns})
	}
	if want("client") {
		for _, s := range []int{64, 1024, 16 << 10} {
			cells = append(cells, Cell{Kind: "client", Conns: 64, Size: s, K: inflight(s)})
		}
	}
	if want("compress") {
		cells = append(cells, zCells(*quick)...)
	}

	started := time.Now()
	load0 := loadAvg()
	res := Results{MaxOthers: nz.maxOthers}
	zres := Results{MaxOthers: nz.maxOthers}
	recs, zrecs := &res.Records, &zres.Records
	for round := 1; round <= *rounds; round++ {
		rl := nz.calm(round)
		for _, c := range cells {
			contenders := servers
			if c.Kind == "client" {
				contenders = load.Clients
			}
			if isZKind(c.Kind) {
				contenders = zContenders(c)
			}
			if r.beforeBin != "" {
				contenders = compareContenders(round)
			}
			for _, who := range contenders {
				rec := r.run(c, who)
				rec.Round = round
				if isZKind(c.Kind) {
					*zrecs = append(*zrecs, rec)
				} else {
					*recs = append(*recs, rec)
				}
				status := "ok"
				if rec.Err != "" {
					status = "ERROR " + rec.Err
				} else if noisyRun(rec, nz.maxOthers) {
					status = fmt.Sprintf("NOISY (others used %.2f cores)", *rec.Result.OthersCPU)
				}
				fmt.Fprintf(os.Stderr, "round %d %-22s %-14s %s %s\n", round, c.key(), who, summary(rec), status)
			}
		}
		rl = done(rl)
		res.Rounds, zres.Rounds = append(res.Rounds, rl), append(zres.Rounds, rl)
		if r.beforeBin != "" {
			check(writeResults(*cmpJSON, res))
			continue
		}
		if len(*recs) > 0 {
			check(writeResults(*jsonOut, res))
		}
		if len(*zrecs) > 0 {
			check(writeResults(*zjsonOut, zres))
		}
	}
	note := fmt.Sprintf("%d round(s), %v measured per run (+%v warm-up), run took %v; load average before: %s, after: %s; %s",
		*rounds, r.d, r.warmup, time.Since(started).Round(time.Second), load0, loadAvg(), loadLine(res.Rounds))
	if r.pinSrv == nil {
		note += "; taskset not available: processes not pinned"
	}
	if r.beforeBin != "" {
		out := compareReport(res, r.beforeBin, machine(), note)
		check(os.WriteFile(*cmpMD, []byte(out), 0o644))
		fmt.Print(out)
		fmt.Fprintf(os.Stderr, "wrote %s, %s\n", *cmpJSON, *cmpMD)
		return
	}
	if len(*recs) > 0 {
		check(writeReport(res, *md, *svg, machine(), note))
		fmt.Fprintf(os.Stderr, "wrote %s, %s, %s\n", *jsonOut, *md, *svg)
	}
	if len(*zrecs) > 0 {
		check(writeCompressSection(zres, *md, machine(), note))
		fmt.Fprintf(os.Stderr, "wrote %s and the compression section of %s\n", *zjsonOut, *md)
	}
}

func summary(r Record) string {
	switch {
	case r.Mem != nil:
		return fmt.Sprintf("rss %.0f B/conn, heap %.0f, stack %.0f", r.Mem.RSS, r.Mem.Heap, r.Mem.Stack)
	case r.Result.Handshake > 0:
		return fmt.Sprintf("%.0f handshakes/s (load cpu %.2f)", r.Result.Handshake, r.Result.LoadCPU)
	}
	return fmt.Sprintf("%.0f msg/s p50 %.0fµs p99 %.0fµs (load cpu %.2f, srv %.2f)", r.Result.Msgs, r.Result.P50us, r.Result.P99us, r.Result.LoadCPU, r.Result.SrvCPU)
}

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchrun:", err)
		os.Exit(1)
	}
}

// server is a running benchsrv.
type server struct {
	cmd             *exec.Cmd
	addr, statsAddr string
}

func (r *runner) startServer(bin, impl string, withStats bool) (*server, error) {
	args := append(append([]string{}, r.pinSrv...), bin, "-impl", impl, "-listen", "127.0.0.1:0")
	if withStats {
		args = append(args, "-stats", "127.0.0.1:0")
	}
	cmd := exec.Command(args[0], args[1:]...)
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	s := &server{cmd: cmd}
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		line := sc.Text()
		if a, ok := strings.CutPrefix(line, "stats on "); ok {
			s.statsAddr = a
		}
		if a, ok := strings.CutPrefix(line, "listening on "); ok {
			s.addr = a
			break
		}
	}
	if s.addr == "" {
		s.stop()
		return nil, fmt.Errorf("server %s did not start", impl)
	}
	go io.Copy(io.Discard, out)
	return s, nil
}

func (s *server) pid() int { return s.cmd.Process.Pid }

func (s *server) stop() {
	s.cmd.Process.Kill()
	s.cmd.Wait()
}

func (r *runner) loadCmd(args ...string) *exec.Cmd {
	all := append(append(append([]string{}, r.pinLoad...), r.loadBin), args...)
	return exec.Command(all[0], all[1:]...)
}

// run measures one contender in one cell.
func (r *runner) run(c Cell, who string) (rec Record) {
	rec = Record{Cell: c, Contender: who}
	impl, raw, client := who, who == "rawtcp", "fast"
	if c.Kind == "client" {
		impl, raw, client = "gobwas-frame", false, who
	}
	bin := r.srvBin
	if old, ok := strings.CutSuffix(impl, beforeSuffix); ok {
		impl, bin = old, r.beforeBin
	}
	srv, err := r.startServer(bin, impl, c.Kind == "idle" || c.Kind == "zidle")
	if err != nil {
		rec.Err = err.Error()
		return rec
	}
	defer srv.stop()
	// The taskset wrapper execs the server, so the pid is the server's.
	// 1 MiB messages with hundreds of connections take a while to reach a
	// steady state (a full cycle moves a gigabyte).
	warmup := r.warmup
	if c.Size >= 1<<20 && r.d >= time.Second {
		warmup = max(warmup, time.Second)
	}
	args := []string{"-addr", srv.addr, "-d", r.d.String(), "-warmup", warmup.String(),
		"-server-pid", fmt.Sprint(srv.pid()), "-client", client}
	if raw {
		args = append(args, "-raw")
	}
	switch c.Kind {
	case "echo", "latency", "client":
		args = append(args, "-mode", "echo", "-conns", fmt.Sprint(c.Conns), "-inflight", fmt.Sprint(c.K), "-size", fmt.Sprint(c.Size))
	case "handshake":
		args = append(args, "-mode", "handshake", "-workers", "32")
	case "idle":
		return r.idle(rec, srv, args)
	case "zecho":
		args = append(args, "-mode", "echo", "-conns", fmt.Sprint(c.Conns), "-inflight", fmt.Sprint(c.K), "-size", fmt.Sprint(c.Size))
		if strings.HasSuffix(who, "-deflate") {
			args = append(args, "-compress")
		}
	case "zidle":
		return r.idle(rec, srv, append(args, "-compress", "-size", fmt.Sprint(c.Size)))
	}
	cmd := r.loadCmd(args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if jerr := json.Unmarshal(bytes.TrimSpace(out), &rec.Result); jerr != nil && err == nil {
		err = jerr
	}
	if err != nil {
		rec.Err = strings.TrimSpace(err.Error() + " " + stderr.String())
	}
	return rec
}

// idle opens the idle connections and reads the server's memory before and
// after.
func (r *runner) idle(rec Record, srv *server, args []string) Record {
	base, err := stats.Fetch(srv.statsAddr)
	if err != nil {
		rec.Err = err.Error()
		return rec
	}
	cmd := r.loadCmd(append(args, "-mode", "idle", "-conns", fmt.Sprint(rec.Cell.Conns))...)
	in, _ := cmd.StdinPipe()
	out, _ := cmd.StdoutPipe()
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		rec.Err = err.Error()
		return rec
	}
	defer func() {
		in.Close()
		cmd.Wait()
	}()
	sc := bufio.NewScanner(out)
	if !sc.Scan() || !strings.HasPrefix(sc.Text(), "ready") {
		cmd.Wait()
		rec.Err = "idle load failed: " + stderr.String()
		return rec
	}
	// Let the servers settle (handshake buffers released, goroutines parked).
	time.Sleep(500 * time.Millisecond)
	m, err := stats.Fetch(srv.statsAddr)
	if err != nil {
		rec.Err = err.Error()
		return rec
	}
	n := float64(rec.Cell.Conns)
	rec.Mem = &MemPerConn{N: rec.Cell.Conns,
		RSS:        (float64(m.RSS) - float64(base.RSS)) / n,
		Heap:       (float64(m.HeapInuse) - float64(base.HeapInuse)) / n,
		Stack:      (float64(m.StackInuse) - float64(base.StackInuse)) / n,
		Goroutines: float64(m.Goroutines-base.Goroutines) / n,
	}
	return rec
}

func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}

// machine describes the host for the report.
func machine() string {
	model := "?"
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(line, "model name"); ok {
				model = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(v), ":"))
				break
			}
		}
	}
	kernel := "?"
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		kernel = strings.TrimSpace(string(b))
	}
	var memKB uint64
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		fmt.Sscanf(string(b), "MemTotal: %d kB", &memKB)
	}
	return fmt.Sprintf("%s, %d logical CPUs, %.0f GiB RAM, Linux %s, %s %s/%s", model, runtime.NumCPU(),
		float64(memKB)/(1<<20), kernel, runtime.Version(), runtime.GOOS, runtime.GOARCH)
}
