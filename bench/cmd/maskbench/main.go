// Command maskbench measures wspeer's payload masking (internal/proto.Mask)
// beside gobwas/ws's Cipher in one process, on identical buffers, in
// interleaved rounds, and prints a Markdown table of GB/s with the ratio
// (GitHub issue 14, item 6: ≥ 30 GB/s at 1-16 KiB):
//
//	cd bench && go run ./cmd/maskbench                # 5 rounds, 200 ms per measurement
//	cd bench && taskset -c 1 go run ./cmd/maskbench -rounds 9 -d 300ms
//
// Each round measures every case (size and alignment, see
// internal/maskbench) with both contenders, in alternating order; a cell is
// the median over rounds with min–max, the ratio the median of the per-round
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
	rounds := flag.Int("rounds", 5, "interleaved rounds")
	d := flag.Duration("d", 200*time.Millisecond, "measured time per contender, case and round")
	perCore := flag.Float64("max-load", 0.5, "1-minute load average per CPU, beyond this process's own 1, above which the figures are marked noisy")
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
// was busy (1-minute load average above busy before or after).
func report(cases []maskbench.Case, rates [][][]float64, rounds int, d time.Duration, before, after loadavg.Sample, busy float64) string {
	var b strings.Builder
	p := func(format string, a ...any) { fmt.Fprintf(&b, format, a...) }
	p("Masking, GB/s (median of %d interleaved rounds, %v each, min–max); load average before %s, after %s", rounds, d, before, after)
	if before.One > busy || after.One > busy {
		p(" — **machine busy (1-minute load above %.1f): figures are noisy**", busy)
	}
	p("\n\n| size | alignment |")
	for _, c := range maskbench.Contenders {
		p(" %s |", c.Name)
	}
	p(" %s / %s | ≥ 30 GB/s (1-16 KiB) |\n|---|---|", maskbench.Contenders[0].Name, maskbench.Contenders[1].Name)
	for range maskbench.Contenders {
		p("---|")
	}
	p("---|---|\n")
	for i, c := range cases {
		p("| %s | %s |", c.Size, c.Align)
		for _, v := range rates[i] {
			m, lo, hi := medianRange(v)
			p(" **%.1f** (%.1f–%.1f) |", m/1e9, lo/1e9, hi/1e9)
		}
		var ratio []float64
		for r := range rates[i][0] {
			ratio = append(ratio, rates[i][0][r]/rates[i][1][r])
		}
		m, _, _ := medianRange(ratio)
		mark := ""
		if targetSizes[c.Size] {
			mark = "✅"
			if w, _, _ := medianRange(rates[i][0]); w < target {
				mark = "❌"
			}
		}
		p(" %.2f× | %s |\n", m, mark)
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
