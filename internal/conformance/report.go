package conformance

import (
	"fmt"
	"strings"
	"time"
)

// sectionNames are Autobahn's case categories.
var sectionNames = map[string]string{
	"1":  "Framing",
	"2":  "Pings/Pongs",
	"3":  "Reserved Bits",
	"4":  "Opcodes",
	"5":  "Fragmentation",
	"6":  "UTF-8 Handling",
	"7":  "Close Handling",
	"9":  "Limits/Performance",
	"10": "Auto-Fragmentation",
	"12": "Compression payloads",
	"13": "Compression params",
}

// Report collects the results of a run against one agent (the implementation
// under test).
type Report struct {
	Agent   string
	Results []Result
}

// NonOK returns the results whose verdict is neither OK nor INFORMATIONAL.
func (r *Report) NonOK() []Result {
	var out []Result
	for _, res := range r.Results {
		if res.Verdict != OK && res.Verdict != Informational {
			out = append(out, res)
		}
	}
	return out
}

// Counts returns how many results have each verdict.
func (r *Report) Counts() map[Verdict]int {
	m := map[Verdict]int{}
	for _, res := range r.Results {
		m[res.Verdict]++
	}
	return m
}

// Summary renders the per-section counts of OK, NON-STRICT, FAILED,
// INFORMATIONAL and UNIMPLEMENTED verdicts, the total time, and every case
// that is not OK (INFORMATIONAL cases are listed with what happened).
func (r *Report) Summary() string {
	var b strings.Builder
	fmt.Fprintf(&b, "conformance report for agent %q: %d cases\n", r.Agent, len(r.Results))
	fmt.Fprintf(&b, "%-4s %-20s %5s %10s %6s %13s %13s %9s\n", "sec", "name", "OK", "NON-STRICT", "FAILED", "INFORMATIONAL", "UNIMPLEMENTED", "time")
	var total time.Duration
	tot := map[Verdict]int{}
	for _, sec := range sortedSections(r.Results) {
		m := map[Verdict]int{}
		var d time.Duration
		for _, res := range r.Results {
			if s, _, _ := strings.Cut(res.ID, "."); s == sec {
				m[res.Verdict]++
				tot[res.Verdict]++
				d += res.Duration
			}
		}
		total += d
		fmt.Fprintf(&b, "%-4s %-20s %5d %10d %6d %13d %13d %9s\n", sec, sectionNames[sec], m[OK], m[NonStrict], m[Failed], m[Informational], m[Unimplemented], d.Round(time.Millisecond))
	}
	fmt.Fprintf(&b, "%-4s %-20s %5d %10d %6d %13d %13d %9s\n", "all", "", tot[OK], tot[NonStrict], tot[Failed], tot[Informational], tot[Unimplemented], total.Round(time.Millisecond))
	for _, res := range r.Results {
		if res.Verdict != OK {
			fmt.Fprintf(&b, "  %-8s %-13s %s (%s)\n", res.ID, res.Verdict, res.Detail, res.Duration.Round(time.Millisecond))
		}
	}
	return b.String()
}
