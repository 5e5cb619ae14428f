// Command maskbench measures wspeer's payload masking (internal/proto.Mask)
// beside gobwas/ws's Cipher in one process, on identical buffers, in
// interleaved rounds, and prints a Markdown table of GB/s with the ratio
// (GitHub issue 14, item 6: ≥ 30 GB/s at 1-16 KiB):
//
//	cd bench && go run ./cmd/maskbench                # 15 rounds, 50 ms per measurement
//	cd bench && go run ./cmd/maskbench -rounds 30 -d 100ms
//
// Each round measures every case (size and alignment, see
// internal/maskbench) with both contenders, in alternating order. A cell is
// the best round (other work only slows a CPU-bound loop down) with the
// median; the ratios are of the bests and the median of the per-round
// ratios. The load average before and after is printed with the table.
package main

import (
	"flag"
	"fmt"
	"os"
	"runtime"
	"sort"
	"strings"
	"time"

	"github.com/wspeer/wspeer/bench/internal/loadavg"
	"github.com/wspeer/wspeer/bench/internal/maskbench"
)

// targetSizes are the sizes the ≥ 30 GB/s target applies to.
var targetSizes = map[string]bool{"1KiB": true, "4KiB": true, "16KiB": true}

const target = 30e9 // bytes per second

func main() {
	rounds := flag.Int("rounds", 15, "interleaved rounds")
	d := flag.Duration("d", 50*time.Millisecond, "measured time per contender, case and round")
	perCore := flag.Float64("max-load", 0.5, "1-minute load average per CPU, beyond this process's own 1, above which the medians are marked noisy")
	flag.Parse()
	if *rounds < 1 || *d <= 0 {
		fmt.Fprintln(os.Stderr, "maskbench: -rounds and -d must be positive")
		os.Exit(2)
	}
	before, _ := loadavg.Read()
	cases := maskbench.Cases()
	// rates[case][contender] over rounds
	rates := make([][][]float64, len(cases))
	for i := range rates {
		rates[i] = make([][]float64, len(maskbench.Contenders))
	}
	for r := range *rounds {
		for i, c := range cases {
			buf := c.Buffer()
			for j := range maskbench.Contenders {
				// Alternate who goes first, so neither always gets the
				// warmer cache or the quieter moment.
				k := (j + r) % len(maskbench.Contenders)
				rates[i][k] = append(rates[i][k], maskbench.Measure(maskbench.Contenders[k].Fn, c, buf, *d))
			}
		}
		fmt.Fprintf(os.Stderr, "round %d/%d done\n", r+1, *rounds)
	}
	after, _ := loadavg.Read()
	busy := 1 + *perCore*float64(runtime.NumCPU())
	fmt.Print(report(cases, rates, *rounds, *d, before, after, busy))
}

// report renders the table; a failed target is marked, as is a machine that
// was busy (1-minute load average above busy before or after). On a shared
// machine other work only ever slows a CPU-bound loop down, so the best
// round is the closest to the code's own speed; the median shows how much
// the neighbours took, and the per-round ratio compares the two contenders
// under the same conditions.
func report(cases []maskbench.Case, rates [][][]float64, rounds int, d time.Duration, before, after loadavg.Sample, busy float64) string {
	var b strings.Builder
	p := func(format string, a ...any) { fmt.Fprintf(&b, format, a...) }
	p("Masking, GB/s: best and median of %d interleaved rounds of %v; load average before %s, after %s", rounds, d, before, after)
	if before.One > busy || after.One > busy {
		p(" — **machine busy (1-minute load above %.1f): medians are noisy**", busy)
	}
	w, g := maskbench.Contenders[0].Name, maskbench.Contenders[1].Name
	p("\n\n| size | alignment | %s best (median) | %s best (median) | %s / %s, best | %s / %s, median per round | %s ≥ 30 GB/s (best) |\n|---|---|---|---|---|---|---|\n",
		w, g, w, g, w, g, w)
	for i, c := range cases {
		p("| %s | %s |", c.Size, c.Align)
		var best [2]float64
		for k, v := range rates[i][:2] {
			m, _, hi := medianRange(v)
			best[k] = hi
			p(" **%.1f** (%.1f) |", hi/1e9, m/1e9)
		}
		var ratio []float64
		for r := range rates[i][0] {
			ratio = append(ratio, rates[i][0][r]/rates[i][1][r])
		}
		m, _, _ := medianRange(ratio)
		mark := ""
		if targetSizes[c.Size] {
			mark = "✅"
			if best[0] < target {
				mark = "❌"
			}
		}
		p(" %.2f× | %.2f× | %s |\n", best[0]/best[1], m, mark)
	}
	return b.String()
}

func medianRange(v []float64) (med, lo, hi float64) {
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	if len(s) == 0 {
		return 0, 0, 0
	}
	med = s[len(s)/2]
	if len(s)%2 == 0 {
		med = (s[len(s)/2-1] + s[len(s)/2]) / 2
	}
	return med, s[0], s[len(s)-1]
}
