package main

// Noise (GitHub issue 14, item 10): the machine is shared, so benchrun records
// the load average around every round, waits (bounded) before a round for the
// 1-minute load to drop under a limit, and keeps, per run, the CPU that other
// processes used while it was measured (load.Result.OthersCPU). The report
// says prominently when either was over its limit.

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"runtime"
	"strings"
	"time"

	"github.com/wspeer/wspeer/bench/internal/loadavg"
)

// RoundLoad is the machine's load around one round.
type RoundLoad struct {
	Round  int            `json:"round"`
	Before loadavg.Sample `json:"before"`
	After  loadavg.Sample `json:"after"`
	// Waited is how long benchrun waited, before the round, for the
	// 1-minute load average to drop to Limit.
	Waited float64 `json:"waited_s"`
	Limit  float64 `json:"limit"`
	// Noisy: the load was still above Limit when the round started.
	Noisy bool `json:"noisy"`
}

// Results is the content of results.json (and results-compress.json).
type Results struct {
	// MaxOthers is the limit on OthersCPU above which a run counts as noisy.
	MaxOthers float64     `json:"max_others_cpu"`
	Rounds    []RoundLoad `json:"rounds"`
	Records   []Record    `json:"records"`
}

// noise holds the limits, set from flags.
type noise struct {
	maxLoad   float64       // 1-minute load average limit before a round
	maxWait   time.Duration // longest wait for it
	maxOthers float64       // others' CPU (cores) above which a run is noisy
}

// defaultMaxLoad is half a core per CPU: nothing of benchrun's runs between
// rounds, so the load is other people's work plus the decaying trace of the
// previous round (about a minute to fall from 2 to 1 on an idle machine).
func defaultMaxLoad() float64 { return 0.5 * float64(runtime.NumCPU()) }

// calm waits before a round and starts its record.
func (n noise) calm(round int) RoundLoad {
	s, waited, ok, err := loadavg.Calm(n.maxLoad, n.maxWait, 5*time.Second, nil)
	rl := RoundLoad{Round: round, Before: s, Waited: waited.Seconds(), Limit: n.maxLoad, Noisy: !ok}
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchrun: load average not available:", err)
	}
	if waited > 0 || !ok {
		fmt.Fprintf(os.Stderr, "round %d: waited %v for the 1-minute load average (%s) to reach %.2f; noisy: %v\n",
			round, waited.Round(time.Second), s, n.maxLoad, !ok)
	}
	return rl
}

// done ends a round's record.
func done(rl RoundLoad) RoundLoad {
	rl.After, _ = loadavg.Read()
	return rl
}

// noisyRun reports whether other processes used more than max cores during
// the run.
func noisyRun(r Record, max float64) bool {
	return r.Err == "" && r.Result.OthersCPU != nil && *r.Result.OthersCPU > max
}

func writeResults(path string, res Results) error {
	b, err := json.MarshalIndent(res, "", " ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, b, 0o644)
}

// readResults reads a results file, also in the earlier format (a bare array
// of records, without load information).
func readResults(path string) (Results, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return Results{}, err
	}
	var res Results
	if t := strings.TrimSpace(string(b)); strings.HasPrefix(t, "[") {
		res.MaxOthers = math.Inf(1)
		return res, json.Unmarshal(b, &res.Records)
	}
	return res, json.Unmarshal(b, &res)
}

// noiseSummary is the report's prominent line about the machine's load: a
// warning when a round started busy or runs had competition, else a short
// confirmation. Results saved before benchrun recorded the load get a line
// saying so.
func noiseSummary(res Results) string {
	if len(res.Rounds) == 0 {
		return "> The machine's load was not recorded for these results (they predate benchrun's load checks), so whether other work ran is unknown.\n\n"
	}
	var busy []string
	for _, rl := range res.Rounds {
		if rl.Noisy {
			busy = append(busy, fmt.Sprintf("round %d started at %.2f (limit %.2f, after waiting %.0f s)", rl.Round, rl.Before.One, rl.Limit, rl.Waited))
		}
	}
	runs, noisy := 0, 0
	for _, r := range res.Records {
		if r.Err == "" && r.Result.OthersCPU != nil {
			runs++
			if noisyRun(r, res.MaxOthers) {
				noisy++
			}
		}
	}
	var b strings.Builder
	if len(busy) == 0 && noisy == 0 {
		fmt.Fprintf(&b, "> **Quiet machine:** every round started with the 1-minute load average at or below %.2f, and in none of the %d measured runs did other processes use more than %.2f of a core.\n\n",
			res.Rounds[0].Limit, runs, res.MaxOthers)
		return b.String()
	}
	b.WriteString("> ⚠️ **Noisy run: other work was running on the machine, so these figures are not a clean measurement.**")
	if len(busy) > 0 {
		fmt.Fprintf(&b, " 1-minute load average: %s.", strings.Join(busy, "; "))
	}
	if noisy > 0 {
		fmt.Fprintf(&b, " In %d of %d runs other processes used more than %.2f of a core while the run was measured; their cells are marked ⚠️.", noisy, runs, res.MaxOthers)
	}
	b.WriteString("\n\n")
	return b.String()
}

// loadLine is the run description's part about the load, round by round.
func loadLine(rounds []RoundLoad) string {
	var parts []string
	for _, rl := range rounds {
		s := fmt.Sprintf("round %d %.2f → %.2f", rl.Round, rl.Before.One, rl.After.One)
		if rl.Waited > 0 {
			s += fmt.Sprintf(" (waited %.0f s)", rl.Waited)
		}
		if rl.Noisy {
			s += " **noisy**"
		}
		parts = append(parts, s)
	}
	return "1-minute load average before → after each round: " + strings.Join(parts, ", ")
}

// warn is the mark of a cell with a noisy run.
func (t table) warn(c Cell, who string, max float64) string {
	for _, r := range t[c.key()][who] {
		if noisyRun(r, max) {
			return " ⚠️"
		}
	}
	return ""
}
