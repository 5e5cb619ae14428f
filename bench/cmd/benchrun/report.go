package main

import (
	"fmt"
	"math"
	"os"
	"sort"
	"strings"

	"github.com/wspeer/wspeer/bench/internal/load"
)

// table indexes records by cell and contender, in round order.
type table map[string]map[string][]Record

func index(recs []Record) table {
	t := table{}
	for _, r := range recs {
		k := r.Cell.key()
		if t[k] == nil {
			t[k] = map[string][]Record{}
		}
		t[k][r.Contender] = append(t[k][r.Contender], r)
	}
	return t
}

// stat is a median with its range over rounds.
type stat struct {
	med, min, max float64
	n             int
}

func statOf(v []float64) stat {
	if len(v) == 0 {
		return stat{med: math.NaN()}
	}
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	m := s[len(s)/2]
	if len(s)%2 == 0 {
		m = (s[len(s)/2-1] + s[len(s)/2]) / 2
	}
	return stat{med: m, min: s[0], max: s[len(s)-1], n: len(s)}
}

// values extracts f from the error-free runs.
func values(rs []Record, f func(Record) float64) []float64 {
	var v []float64
	for _, r := range rs {
		if r.Err == "" {
			v = append(v, f(r))
		}
	}
	return v
}

// ratio is the median over rounds of f(who)/f(ref) measured in the same round.
func (t table) ratio(cell Cell, who, ref string, f func(Record) float64) float64 {
	byRound := map[int]float64{}
	for _, r := range t[cell.key()][ref] {
		if r.Err == "" && f(r) > 0 {
			byRound[r.Round] = f(r)
		}
	}
	var v []float64
	for _, r := range t[cell.key()][who] {
		if d, ok := byRound[r.Round]; ok && r.Err == "" {
			v = append(v, f(r)/d)
		}
	}
	return statOf(v).med
}

func (t table) stat(cell Cell, who string, f func(Record) float64) stat {
	return statOf(values(t[cell.key()][who], f))
}

func (t table) errs(cell Cell, who string) string {
	for _, r := range t[cell.key()][who] {
		if r.Err != "" {
			return r.Err
		}
	}
	return ""
}

func msgs(r Record) float64  { return r.Result.Msgs }
func p50(r Record) float64   { return r.Result.P50us }
func p99(r Record) float64   { return r.Result.P99us }
func hs(r Record) float64    { return r.Result.Handshake }
func ldcpu(r Record) float64 { return r.Result.LoadCPU }

// si formats a rate compactly: 1234567 -> 1.23M.
func si(v float64) string {
	switch {
	case math.IsNaN(v):
		return "–"
	case v >= 1e6:
		return fmt.Sprintf("%.2fM", v/1e6)
	case v >= 1e4:
		return fmt.Sprintf("%.0fk", v/1e3)
	case v >= 1e3:
		return fmt.Sprintf("%.1fk", v/1e3)
	}
	return fmt.Sprintf("%.0f", v)
}

func x(v float64) string {
	if math.IsNaN(v) || v == 0 {
		return "–"
	}
	return fmt.Sprintf("%.2f×", v)
}

func sizeName(n int) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d B", n)
}

// peers are the other libraries (the "best peer" of the targets).
var peers = []string{"gorilla", "coder", "gobwas-wsutil", "gobwas-frame", "gws"}

func isWspeer(s string) bool { return strings.HasPrefix(s, "wspeer") }

func writeReport(res Results, mdPath, svgPath, mach, note string) error {
	recs, mo := res.Records, res.MaxOthers
	t := index(recs)
	var b strings.Builder
	p := func(format string, a ...any) { fmt.Fprintf(&b, format, a...) }
	p("# Benchmarks\n\n")
	p("wspeer against the other Go WebSocket libraries and against raw TCP (GitHub issue 8). ")
	p("Everything here is produced by `bench/cmd/benchrun` (tables, chart, `bench/results.json`); do not edit by hand.\n\n")
	b.WriteString(noiseSummary(res))
	b.WriteString(zLinkAfter)
	b.WriteString(zLink)
	p("## How it was measured\n\n")
	p("- **Machine:** %s.\n", mach)
	p("- **Run:** %s.\n", note)
	p("- **Reproduce:** `cd bench && go run ./cmd/benchrun` (full, ~20 min) or `go run ./cmd/benchrun -quick` (smoke, ~2 min). `-only echo,latency,idle,handshake,client` picks scenarios; `-report results.json` redraws this file from saved results; `-before OLD_BENCHSRV` runs an older benchsrv's wspeer servers interleaved with the current ones and writes `compare.md` instead.\n")
	p("- **Processes:** each run starts a fresh server (`bench/cmd/benchsrv -impl NAME`) pinned to CPU 0 with `taskset -c 0` and the load generator (`bench/cmd/benchload`) pinned to CPU 1 (so GOMAXPROCS is 1 in both). Contenders run interleaved: round 1 runs every contender on a scenario, then the next scenario...; round 2 repeats it all. Cells give the **median** of the rounds with **min–max** in parentheses; ratios are medians of per-round ratios against **gorilla** and against **raw TCP measured in the same round**.\n")
	p("- **Load generator:** a frame-level client of its own: pre-masked payload templates (random key per connection), only the header and a 16-byte stamp (send time, sequence number) written per message, reused buffers, no allocation per message; a writer and a reader goroutine per connection keep K messages in flight (K = 16 for 64 B and 1 KiB, 4 for 16 KiB, 2 for 1 MiB). Order and size of every echo are checked (every byte in `go test`). Its CPU share is in the diagnostics table: at 1.0 it would be the bottleneck.\n")
	p("- **Servers** are written the way each library's README shows (see `bench/internal/servers`): gorilla `Upgrader` + `ReadMessage`/`WriteMessage`; coder `Accept` + `Read`/`Write`; gobwas `UpgradeHTTP` + `wsutil.ReadClientData`/`WriteServerMessage`; gobwas-frame is a hand-tuned frame-level server (raw-conn upgrade, bufio pair, reused buffer, flush when no input is buffered); gws `Upgrader` + `OnMessage` echo; wspeer-wait: `AcceptStream` + goroutine per connection with the `Wait` loop; wspeer-http: `net/http` + `wspeer.Upgrader` + `Wait` loop; wspeer-poll: `AcceptStream` and a `Poll` loop per GOMAXPROCS owning all peers, calling `Poll` only on peers its level-triggered epoll set reports ready (plus every peer once a second for timers), no goroutine per connection. rawtcp echoes 4-byte-length-prefixed messages with a bufio pair and flushes when no input is buffered: the same bytes through the kernel with no WebSocket work.\n")
	p("- **Noise:** other people's tests may run on the same 2-CPU machine. Before each round benchrun waits (up to `-calm-wait`, 2 min) for the 1-minute load average to drop to `-max-load` (0.5 per CPU) and records it before and after every round (above, and in `results.json`); a round that starts above the limit counts as noisy. For every run the load generator also measures the CPU that processes other than the server and itself used during the measured window (`/proc/stat` less both processes' times, interrupts left out); a run where that exceeds `-max-others` (0.2 of a core) is marked ⚠️. The line at the top of this file says whether the run was quiet.\n\n")

	// Throughput.
	for _, n := range []int{64, 512} {
		if !t.has("echo", n) {
			continue
		}
		p("## Echo throughput, %d connections (messages/s)\n\n", n)
		p("| server |")
		for _, s := range sizes {
			p(" %s |", sizeName(s))
		}
		p("\n|---|")
		for range sizes {
			p("---|")
		}
		p("\n")
		for _, who := range servers {
			p("| %s |", who)
			for _, s := range sizes {
				c := Cell{Kind: "echo", Conns: n, Size: s, K: inflight(s)}
				st := t.stat(c, who, msgs)
				if st.n == 0 {
					p(" error: %s |", short(t.errs(c, who)))
					continue
				}
				p(" **%s** (%s–%s)%s", si(st.med), si(st.min), si(st.max), t.warn(c, who, mo))
				if s >= 16<<10 {
					p(" %.0f MB/s", st.med*float64(s)/1e6)
				}
				p("<br>%s raw · %s gorilla |", x(t.ratio(c, who, "rawtcp", msgs)), x(t.ratio(c, who, "gorilla", msgs)))
			}
			p("\n")
		}
		p("\n")
	}

	// Latency.
	lat := Cell{Kind: "latency", Conns: 1, Size: 64, K: 1}
	if t[lat.key()] != nil {
		p("## Latency, 1 connection, 64 B ping-pong (round trip, µs)\n\n")
		p("| server | p50 | p99 | p50 vs raw TCP | p50 vs gorilla | msgs/s |\n|---|---|---|---|---|---|\n")
		for _, who := range servers {
			a, b99, m := t.stat(lat, who, p50), t.stat(lat, who, p99), t.stat(lat, who, msgs)
			if a.n == 0 {
				p("| %s | error: %s | | | | |\n", who, short(t.errs(lat, who)))
				continue
			}
			p("| %s | **%.1f** (%.1f–%.1f)%s | %.1f (%.1f–%.1f) | %s | %s | %s |\n", who, a.med, a.min, a.max, t.warn(lat, who, mo), b99.med, b99.min, b99.max,
				x(t.ratio(lat, who, "rawtcp", p50)), x(t.ratio(lat, who, "gorilla", p50)), si(m.med))
		}
		p("\n")
	}

	// Idle memory.
	var idle Cell
	for _, r := range recs {
		if r.Cell.Kind == "idle" {
			idle = r.Cell
		}
	}
	if idle.Kind != "" {
		p("## Idle connections: %d upgraded connections held open (server memory per connection)\n\n", idle.Conns)
		p("Measured by the server itself through a side channel (`benchsrv -stats`): after two GCs, before and after the connections are opened, divided by their number. RSS is the process's VmRSS; kernel socket buffers are not included.\n\n")
		p("| server | RSS/conn | Go heap in use/conn | stacks/conn | heap+stacks/conn | goroutines/conn |\n|---|---|---|---|---|---|\n")
		for _, who := range servers {
			rs := t[idle.key()][who]
			mem := func(f func(*MemPerConn) float64) stat {
				return statOf(values(rs, func(r Record) float64 {
					if r.Mem == nil {
						return math.NaN()
					}
					return f(r.Mem)
				}))
			}
			rss := mem(func(m *MemPerConn) float64 { return m.RSS })
			if rss.n == 0 {
				p("| %s | error: %s | | | | |\n", who, short(t.errs(idle, who)))
				continue
			}
			heap := mem(func(m *MemPerConn) float64 { return m.Heap })
			stack := mem(func(m *MemPerConn) float64 { return m.Stack })
			both := mem(func(m *MemPerConn) float64 { return m.Heap + m.Stack })
			g := mem(func(m *MemPerConn) float64 { return m.Goroutines })
			p("| %s | %s (%s–%s) | %s | %s | **%s** | %.1f |\n", who, kib(rss.med), kib(rss.min), kib(rss.max), kib(heap.med), kib(stack.med), kib(both.med), g.med)
		}
		p("\n")
	}

	// Handshakes.
	hc := Cell{Kind: "handshake"}
	if t[hc.key()] != nil {
		p("## Handshakes per second (connect, upgrade, reset; 32 concurrent workers)\n\n")
		p("For rawtcp a \"handshake\" is a connect plus one 16-byte echo: the floor of a round trip on a fresh connection.\n\n")
		p("| server | handshakes/s | vs gorilla | load generator CPU |\n|---|---|---|---|\n")
		for _, who := range servers {
			st := t.stat(hc, who, hs)
			if st.n == 0 {
				p("| %s | error: %s | | |\n", who, short(t.errs(hc, who)))
				continue
			}
			p("| %s | **%s** (%s–%s)%s | %s | %.2f |\n", who, si(st.med), si(st.min), si(st.max), t.warn(hc, who, mo), x(t.ratio(hc, who, "gorilla", hs)), t.stat(hc, who, ldcpu).med)
		}
		p("\n")
	}

	// Clients.
	if t.has("client", 64) {
		p("## Clients: each library's client as the load generator, 64 connections against gobwas-frame (messages/s)\n\n")
		p("Library clients are written the README way: a reader and a writer goroutine per connection (gws: its `OnMessage` callback; wspeer: one `Wait` loop per connection that polls, drains and sends). `fast` is the generator's own client, for reference.\n\n")
		csizes := []int{64, 1024, 16 << 10}
		p("| client |")
		for _, s := range csizes {
			p(" %s |", sizeName(s))
		}
		p("\n|---|---|---|---|\n")
		for _, who := range load.Clients {
			p("| %s |", who)
			for _, s := range csizes {
				c := Cell{Kind: "client", Conns: 64, Size: s, K: inflight(s)}
				st := t.stat(c, who, msgs)
				if st.n == 0 {
					p(" error: %s |", short(t.errs(c, who)))
					continue
				}
				p(" **%s** (%s–%s)%s<br>%s gorilla · client CPU %.2f |", si(st.med), si(st.min), si(st.max), t.warn(c, who, mo), x(t.ratio(c, who, "gorilla", msgs)), t.stat(c, who, ldcpu).med)
			}
			p("\n")
		}
		p("\n")
	}

	writeTargets(&b, t)
	writeDiagnostics(&b, t)
	// Hand-written analysis (profiles of the missed targets) lives in
	// bench/notes.md and is appended as is.
	if notes, err := os.ReadFile("notes.md"); err == nil {
		b.Write(notes)
	}

	// The compression section is written by -only compress runs (or the
	// compression part of a full run, after this); keep the current one.
	out := b.String()
	if sec := currentSection(mdPath); sec != "" {
		out = splice(out, sec)
	}
	if err := os.WriteFile(mdPath, []byte(out), 0o644); err != nil {
		return err
	}
	return os.WriteFile(svgPath, []byte(chart(t)), 0o644)
}

func (t table) has(kind string, conns int) bool {
	for k := range t {
		if strings.HasPrefix(k, fmt.Sprintf("%s/%d/", kind, conns)) {
			return true
		}
	}
	return false
}

func kib(v float64) string {
	if math.IsNaN(v) {
		return "–"
	}
	return fmt.Sprintf("%.1f KiB", v/1024)
}

func short(s string) string {
	s = strings.ReplaceAll(s, "\n", " ")
	s = strings.ReplaceAll(s, "|", "/")
	if len(s) > 80 {
		s = s[:80] + "…"
	}
	return s
}

// writeTargets checks the targets for each wspeer variant.
func writeTargets(b *strings.Builder, t table) {
	p := func(format string, a ...any) { fmt.Fprintf(b, format, a...) }
	p("## Targets (issue 8)\n\n")
	p("| target | wspeer-poll | wspeer-wait | wspeer-http |\n|---|---|---|---|\n")
	ws := []string{"wspeer-poll", "wspeer-wait", "wspeer-http"}
	mark := func(ok bool) string {
		if ok {
			return "✅"
		}
		return "❌"
	}
	want := map[int]float64{64: 0.9, 1024: 0.6, 16 << 10: 0.6, 1 << 20: 0.95}
	for _, s := range sizes {
		c := Cell{Kind: "echo", Conns: 64, Size: s, K: inflight(s)}
		if t[c.key()] == nil {
			continue
		}
		p("| 64 conns × %s ≥ %.2f× raw TCP |", sizeName(s), want[s])
		for _, w := range ws {
			r := t.ratio(c, w, "rawtcp", msgs)
			p(" %s %s |", mark(r >= want[s]), x(r))
		}
		p("\n")
	}
	for _, n := range []int{64, 512} {
		for _, s := range sizes {
			c := Cell{Kind: "echo", Conns: n, Size: s, K: inflight(s)}
			if t[c.key()] == nil {
				continue
			}
			best, bestName := 0.0, ""
			for _, pe := range peers {
				if m := t.stat(c, pe, msgs).med; m > best {
					best, bestName = m, pe
				}
			}
			p("| %d conns × %s ≥ 1.2× best peer (%s) |", n, sizeName(s), bestName)
			for _, w := range ws {
				r := t.stat(c, w, msgs).med / best
				p(" %s %s |", mark(r >= 1.2), x(r))
			}
			p("\n")
			// The hand-tuned gobwas-frame server is about raw TCP by
			// construction; also compare with the best README-style peer.
			best, bestName = 0, ""
			for _, pe := range peers {
				if m := t.stat(c, pe, msgs).med; m > best && pe != "gobwas-frame" {
					best, bestName = m, pe
				}
			}
			p("| %d conns × %s ≥ 1.2× best README-style peer (%s) |", n, sizeName(s), bestName)
			for _, w := range ws {
				r := t.stat(c, w, msgs).med / best
				p(" %s %s |", mark(r >= 1.2), x(r))
			}
			p("\n")
		}
	}
	lat := Cell{Kind: "latency", Conns: 1, Size: 64, K: 1}
	if t[lat.key()] != nil {
		p("| latency p50 1 conn 64 B ≤ 1.05× raw TCP |")
		for _, w := range ws {
			r := t.ratio(lat, w, "rawtcp", p50)
			p(" %s %s |", mark(r <= 1.05), x(r))
		}
		p("\n")
	}
	for k, rs := range t {
		if !strings.HasPrefix(k, "idle/") {
			continue
		}
		p("| idle heap+stacks ≤ 3 KiB/conn (poll), ≤ 8 KiB (Wait) |")
		for _, w := range ws {
			lim := 8.0 * 1024
			if w == "wspeer-poll" {
				lim = 3 * 1024
			}
			v := statOf(values(rs[w], func(r Record) float64 {
				if r.Mem == nil {
					return math.NaN()
				}
				return r.Mem.Heap + r.Mem.Stack
			})).med
			p(" %s %s |", mark(v <= lim), kib(v))
		}
		p("\n")
	}
	hc := Cell{Kind: "handshake"}
	if t[hc.key()] != nil {
		p("| handshakes/s ≥ 1.3× gorilla |")
		for _, w := range ws {
			r := t.ratio(hc, w, "gorilla", hs)
			p(" %s %s |", mark(r >= 1.3), x(r))
		}
		p("\n")
	}
	p("\n")
}

// writeDiagnostics gives, for the 64-connection cells, where each server's
// time goes: its CPU share split user/kernel, and its read and write system
// calls per echoed message (from /proc/PID/stat and /proc/PID/io over the
// measured window), with the load generator's CPU share.
func writeDiagnostics(b *strings.Builder, t table) {
	p := func(format string, a ...any) { fmt.Fprintf(b, format, a...) }
	p("## Diagnostics: where the server's time goes (64 connections, medians)\n\n")
	p("Server CPU share (1.00 = its whole core) split user/kernel, read and write system calls per echoed message (`/proc/PID/stat`, `/proc/PID/io` syscr/syscw over the measured window; epoll_wait and recvfrom are not counted there), and the load generator's CPU share (1.00 would make it the bottleneck).\n\n")
	p("| server | size | msgs/s | server CPU (user+sys) | reads/msg | writes/msg | load gen CPU |\n|---|---|---|---|---|---|---|\n")
	for _, who := range servers {
		for _, s := range sizes {
			c := Cell{Kind: "echo", Conns: 64, Size: s, K: inflight(s)}
			if t[c.key()] == nil || t.stat(c, who, msgs).n == 0 {
				continue
			}
			g := func(f func(Record) float64) float64 { return t.stat(c, who, f).med }
			p("| %s | %s | %s | %.2f (%.2f+%.2f) | %.3f | %.3f | %.2f |\n", who, sizeName(s), si(g(msgs)),
				g(func(r Record) float64 { return r.Result.SrvCPU }), g(func(r Record) float64 { return r.Result.SrvUser }),
				g(func(r Record) float64 { return r.Result.SrvSys }), g(func(r Record) float64 { return r.Result.SrvRdMsg }),
				g(func(r Record) float64 { return r.Result.SrvWrMsg }), g(ldcpu))
		}
	}
	p("\n")
}

// chart draws, for 64 connections, each server's throughput relative to raw
// TCP in the same round, one group of bars per message size.
func chart(t table) string {
	const W, H, left, top, bottom = 900, 420, 60, 40, 90
	colors := map[string]string{"rawtcp": "#888888", "wspeer-poll": "#d62728", "wspeer-wait": "#ff7f0e", "wspeer-http": "#e8a33d",
		"gorilla": "#1f77b4", "coder": "#2ca02c", "gobwas-wsutil": "#9467bd", "gobwas-frame": "#8c564b", "gws": "#17becf"}
	maxV := 1.2
	for _, s := range sizes {
		for _, who := range servers {
			if v := t.ratio(Cell{Kind: "echo", Conns: 64, Size: s, K: inflight(s)}, who, "rawtcp", msgs); v > maxV && !math.IsNaN(v) {
				maxV = v
			}
		}
	}
	maxV = math.Ceil(maxV*5) / 5
	plotW, plotH := float64(W-left-20), float64(H-top-bottom)
	var b strings.Builder
	p := func(format string, a ...any) { fmt.Fprintf(&b, format, a...) }
	p(`<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="12">`+"\n", W, H, W, H)
	p(`<rect width="100%%" height="100%%" fill="white"/>` + "\n")
	p(`<text x="%d" y="22" font-size="15" font-weight="bold">Echo throughput relative to raw TCP (same round), 64 connections — higher is better</text>`+"\n", left)
	for v := 0.0; v <= maxV+1e-9; v += 0.2 {
		y := float64(top) + plotH - v/maxV*plotH
		p(`<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="%s"/>`+"\n", left, y, W-20, y, map[bool]string{true: "#444", false: "#ddd"}[math.Abs(v-1) < 1e-9])
		p(`<text x="%d" y="%.1f" text-anchor="end">%.1f×</text>`+"\n", left-6, y+4, v)
	}
	gw := plotW / float64(len(sizes))
	bw := (gw - 20) / float64(len(servers))
	for i, s := range sizes {
		gx := float64(left) + float64(i)*gw + 10
		for j, who := range servers {
			v := t.ratio(Cell{Kind: "echo", Conns: 64, Size: s, K: inflight(s)}, who, "rawtcp", msgs)
			if math.IsNaN(v) {
				continue
			}
			h := v / maxV * plotH
			p(`<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s"><title>%s %s: %.2f× raw TCP</title></rect>`+"\n",
				gx+float64(j)*bw, float64(top)+plotH-h, bw-1, h, colors[who], who, sizeName(s), v)
		}
		p(`<text x="%.1f" y="%.1f" text-anchor="middle" font-size="13">%s</text>`+"\n", gx+(gw-20)/2, float64(top)+plotH+18, sizeName(s))
	}
	for j, who := range servers {
		lx := float64(left) + float64(j%5)*165
		ly := float64(H-bottom) + 45 + float64(j/5)*20
		p(`<rect x="%.1f" y="%.1f" width="12" height="12" fill="%s"/><text x="%.1f" y="%.1f">%s</text>`+"\n", lx, ly-10, colors[who], lx+16, ly, who)
	}
	p("</svg>\n")
	return b.String()
}
