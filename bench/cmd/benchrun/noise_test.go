package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wspeer/wspeer/bench/internal/load"
	"github.com/wspeer/wspeer/bench/internal/loadavg"
)

func others(v float64) *float64 { return &v }

func echoRec(who string, round int, msgsPerS float64, oth *float64) Record {
	return Record{Cell: Cell{Kind: "echo", Conns: 64, Size: 64, K: 16}, Contender: who, Round: round,
		Result: load.Result{Msgs: msgsPerS, OthersCPU: oth}}
}

func TestNoiseSummary(t *testing.T) {
	quiet := Results{MaxOthers: 0.2,
		Rounds:  []RoundLoad{{Round: 1, Before: loadavg.Sample{One: 0.3}, Limit: 1}},
		Records: []Record{echoRec("rawtcp", 1, 1e6, others(0.05)), echoRec("gorilla", 1, 5e5, others(0.1))}}
	if s := noiseSummary(quiet); !strings.Contains(s, "Quiet machine") || strings.Contains(s, "⚠️") {
		t.Errorf("quiet run: %q", s)
	}
	busyRound := quiet
	busyRound.Rounds = []RoundLoad{{Round: 1, Before: loadavg.Sample{One: 2.5}, Limit: 1, Waited: 120, Noisy: true}}
	if s := noiseSummary(busyRound); !strings.Contains(s, "Noisy run") || !strings.Contains(s, "round 1 started at 2.50") {
		t.Errorf("busy round: %q", s)
	}
	busyRun := quiet
	busyRun.Records = append([]Record{echoRec("wspeer-poll", 1, 7e5, others(0.6))}, quiet.Records...)
	s := noiseSummary(busyRun)
	if !strings.Contains(s, "In 1 of 3 runs") {
		t.Errorf("busy run: %q", s)
	}
	tb := index(busyRun.Records)
	c := busyRun.Records[0].Cell
	if tb.warn(c, "wspeer-poll", 0.2) == "" || tb.warn(c, "gorilla", 0.2) != "" {
		t.Error("warn marks the wrong cells")
	}
	if s := noiseSummary(Results{}); !strings.Contains(s, "not recorded") {
		t.Errorf("no load information: %q", s)
	}
}

// TestReadResultsFormats reads the current format and the earlier bare
// array of records.
func TestReadResultsFormats(t *testing.T) {
	dir := t.TempDir()
	old := filepath.Join(dir, "old.json")
	if err := os.WriteFile(old, []byte(`[{"cell":{"kind":"echo","conns":64,"size":64},"contender":"gorilla","round":1,"result":{"msgs_per_s":5}}]`), 0o644); err != nil {
		t.Fatal(err)
	}
	res, err := readResults(old)
	if err != nil || len(res.Records) != 1 || res.Records[0].Result.Msgs != 5 || len(res.Rounds) != 0 {
		t.Fatalf("old format: %+v, %v", res, err)
	}
	cur := filepath.Join(dir, "cur.json")
	want := Results{MaxOthers: 0.2, Rounds: []RoundLoad{{Round: 1, Limit: 1, Noisy: true}},
		Records: []Record{echoRec("rawtcp", 1, 9, others(0.3))}}
	if err := writeResults(cur, want); err != nil {
		t.Fatal(err)
	}
	res, err = readResults(cur)
	if err != nil || len(res.Rounds) != 1 || !res.Rounds[0].Noisy || *res.Records[0].Result.OthersCPU != 0.3 {
		t.Fatalf("current format: %+v, %v", res, err)
	}
}

func TestCompare(t *testing.T) {
	if got := strings.Join(compareContenders(1), " "); got != "rawtcp wspeer-poll@before wspeer-poll wspeer-wait@before wspeer-wait" {
		t.Errorf("round 1 order: %s", got)
	}
	if got := strings.Join(compareContenders(2), " "); got != "rawtcp wspeer-poll wspeer-poll@before wspeer-wait wspeer-wait@before" {
		t.Errorf("round 2 order: %s", got)
	}
	// Two rounds: after/before = 2 and 1.5 for poll; median 1.75.
	res := Results{MaxOthers: 0.2}
	for r, v := range []struct{ before, after float64 }{{100, 200}, {200, 300}} {
		res.Records = append(res.Records,
			echoRec("rawtcp", r+1, 1000, nil),
			echoRec("wspeer-poll@before", r+1, v.before, nil), echoRec("wspeer-poll", r+1, v.after, nil),
			echoRec("wspeer-wait@before", r+1, 100, nil), echoRec("wspeer-wait", r+1, 100, others(0.9)))
	}
	out := compareReport(res, "/tmp/old", "m", "n")
	row := ""
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, "| echo 64 conns × 64 B") {
			row = l
		}
	}
	cols := strings.Split(row, "|")
	if len(cols) < 10 || strings.TrimSpace(cols[5]) != "**1.75×**" || strings.TrimSpace(cols[8]) != "**1.00×**" || !strings.Contains(cols[7], "⚠️") {
		t.Errorf("comparison row: %q\n%s", row, out)
	}
}
