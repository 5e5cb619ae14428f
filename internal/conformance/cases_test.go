package conformance

import (
	"os"
	"strings"
	"testing"
)

// TestCaseList checks the case list against Autobahn's numbering: 517 cases
// in sections 1-7, 9, 10, 12 and 13, no duplicates, in order.
func TestCaseList(t *testing.T) {
	cs := AllCases()
	want := map[string]int{"1": 16, "2": 11, "3": 7, "4": 10, "5": 20, "6": 145, "7": 37, "9": 54, "10": 1, "12": 90, "13": 126}
	got := map[string]int{}
	seen := map[string]bool{}
	for i, c := range cs {
		if seen[c.ID] {
			t.Errorf("duplicate case %s", c.ID)
		}
		seen[c.ID] = true
		got[c.Section()]++
		if i > 0 && compareIDs(cs[i-1].ID, c.ID) >= 0 {
			t.Errorf("case %s after %s", c.ID, cs[i-1].ID)
		}
		if c.Description == "" || c.Run == nil {
			t.Errorf("case %s incomplete", c.ID)
		}
	}
	for sec, n := range want {
		if got[sec] != n {
			t.Errorf("section %s: %d cases, want %d", sec, got[sec], n)
		}
	}
	if len(cs) != 517 {
		t.Errorf("%d cases, want 517", len(cs))
	}
	if full := AllCasesFull(); len(full) != len(cs) {
		t.Errorf("AllCasesFull: %d cases, want %d", len(full), len(cs))
	}
	for _, id := range []string{"6.6.11", "6.12.8", "6.13.5", "6.14.10", "6.22.34", "6.23.7", "7.7.13", "7.9.9", "7.13.2", "9.8.6", "12.1.1", "12.5.18", "13.1.18", "13.7.18"} {
		if !seen[id] {
			t.Errorf("case %s missing", id)
		}
	}
	if n := len(Select(cs, "9.", "10.1.1")); n != 55 {
		t.Errorf("Select(9., 10.1.1) = %d cases, want 55", n)
	}
	if n := len(Select(cs, "6.4*")); n != 4 {
		t.Errorf("Select(6.4*) = %d cases, want 4", n)
	}
}

// testCases are the cases the tests run: all, unless CONFORMANCE_CASES
// selects some (comma-separated patterns, see Select).
func testCases() []*Case {
	cs := AllCases()
	if p := os.Getenv("CONFORMANCE_CASES"); p != "" {
		cs = Select(cs, strings.Split(p, ",")...)
	}
	return cs
}
