package main

// Compare mode (GitHub issue 14, item 10): -before PATH runs the wspeer-poll
// and wspeer-wait servers of an older benchsrv binary interleaved with the
// current ones (and raw TCP for reference), so that a change's before/after
// ratio comes from one run on one machine state, round by round. Build the
// old binary from any revision, for example:
//
//	git worktree add /tmp/wspeer-old REV
//	(cd /tmp/wspeer-old/bench && go build -o /tmp/benchsrv-old ./cmd/benchsrv)
//	cd bench && go run ./cmd/benchrun -before /tmp/benchsrv-old -rounds 5
//
// It writes compare.md and compare.json (not BENCHMARKS.md).

import (
	"fmt"
	"strings"
)

// beforeSuffix marks a contender served by the -before binary.
const beforeSuffix = "@before"

// compareKinds are the scenarios of a comparison unless -only says otherwise;
// the client and compression scenarios do not run the compared servers.
const compareKinds = "echo,latency,handshake,idle"

// compareContenders lists who runs every cell of a comparison in the given
// round: raw TCP, then each server's old and new binaries next to each other,
// the old one first in odd rounds and second in even ones, so that neither
// always runs right after the other's load.
func compareContenders(round int) []string {
	who := []string{"rawtcp"}
	for _, w := range comparePairs {
		if round%2 == 1 {
			who = append(who, w+beforeSuffix, w)
		} else {
			who = append(who, w, w+beforeSuffix)
		}
	}
	return who
}

// comparePairs are the compared servers.
var comparePairs = []string{"wspeer-poll", "wspeer-wait"}

// compareReport renders the before/after table: for every cell and server
// the median (min–max) before and after, and the median of the per-round
// after/before ratios (higher is better, except for latency and memory,
// where lower is).
func compareReport(res Results, beforeBin, mach, note string) string {
	t := index(res.Records)
	var b strings.Builder
	p := func(format string, a ...any) { fmt.Fprintf(&b, format, a...) }
	p("# Before/after comparison\n\n")
	b.WriteString(noiseSummary(res))
	p("- **Before:** `%s`; **after:** the current tree's benchsrv. Interleaved in every round: rawtcp, then each server's old and new binaries next to each other (old first in odd rounds, new first in even ones).\n", beforeBin)
	p("- **Machine:** %s.\n- **Run:** %s.\n\n", mach, note)
	p("| scenario | rawtcp |")
	for _, w := range comparePairs {
		p(" %s before | %s after | after/before |", w, w)
	}
	p("\n|---|---|")
	for range comparePairs {
		p("---|---|---|")
	}
	p("\n")
	for _, c := range compareCells(res.Records) {
		f, unit := msgs, "msgs/s"
		switch c.Kind {
		case "latency":
			f, unit = p50, "p50 µs"
		case "handshake":
			f, unit = hs, "handshakes/s"
		case "idle":
			f, unit = rssPerConn, "RSS/conn"
		}
		p("| %s (%s) | %s |", cellName(c), unit, t.cmpCell(c, "rawtcp", f, res.MaxOthers))
		for _, w := range comparePairs {
			p(" %s | %s | **%s** |", t.cmpCell(c, w+beforeSuffix, f, res.MaxOthers), t.cmpCell(c, w, f, res.MaxOthers),
				x(t.ratio(c, w, w+beforeSuffix, f)))
		}
		p("\n")
	}
	p("\nRatios are medians of per-round ratios; for latency (p50) and memory (RSS per connection) lower is better.\n")
	return b.String()
}

// cmpCell formats the median (min–max) of f over the rounds, or the error.
func (t table) cmpCell(c Cell, who string, f func(Record) float64, maxOthers float64) string {
	st := t.stat(c, who, f)
	if st.n == 0 {
		if e := t.errs(c, who); e != "" {
			return "error: " + short(e)
		}
		return "–"
	}
	if c.Kind == "idle" {
		return fmt.Sprintf("%s (%s–%s)%s", kib(st.med), kib(st.min), kib(st.max), t.warn(c, who, maxOthers))
	}
	if c.Kind == "latency" {
		return fmt.Sprintf("%.1f (%.1f–%.1f)%s", st.med, st.min, st.max, t.warn(c, who, maxOthers))
	}
	return fmt.Sprintf("%s (%s–%s)%s", si(st.med), si(st.min), si(st.max), t.warn(c, who, maxOthers))
}

// rssPerConn is the idle scenario's figure (0, skipped by ratio, for other records).
func rssPerConn(r Record) float64 {
	if r.Mem == nil {
		return 0
	}
	return r.Mem.RSS
}

// compareCells lists the cells of recs in the order they were run.
func compareCells(recs []Record) []Cell {
	var cells []Cell
	seen := map[string]bool{}
	for _, r := range recs {
		if !seen[r.Cell.key()] {
			seen[r.Cell.key()] = true
			cells = append(cells, r.Cell)
		}
	}
	return cells
}

func cellName(c Cell) string {
	switch c.Kind {
	case "echo":
		return fmt.Sprintf("echo %d conns × %s", c.Conns, sizeName(c.Size))
	case "latency":
		return fmt.Sprintf("latency 1 conn × %s", sizeName(c.Size))
	case "idle":
		return fmt.Sprintf("idle %d conns", c.Conns)
	}
	return c.Kind
}
