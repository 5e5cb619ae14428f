package loadavg

import (
	"errors"
	"testing"
	"time"
)

func TestParse(t *testing.T) {
	s, err := Parse("1.48 3.72 6.75 1/117 27026\n", time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if s.One != 1.48 || s.Five != 3.72 || s.Fifteen != 6.75 {
		t.Errorf("got %+v", s)
	}
	if s.String() != "1.48 3.72 6.75" {
		t.Errorf("String = %q", s.String())
	}
	for _, bad := range []string{"", "1.0 2.0", "x 1 2", "1 -2 3"} {
		if _, err := Parse(bad, time.Time{}); !errors.Is(err, ErrUnavailable) {
			t.Errorf("Parse(%q) err = %v, want ErrUnavailable", bad, err)
		}
	}
}

// TestCalmBounded checks that Calm gives up after maxWait with a limit no
// machine meets, sleeping in poll-sized steps (a fake sleep, so no time
// passes), and returns at once with a limit every machine meets.
func TestCalmBounded(t *testing.T) {
	if _, err := Read(); err != nil {
		t.Skip(err)
	}
	var slept []time.Duration
	fake := func(d time.Duration) { slept = append(slept, d) }
	_, waited, calm, err := Calm(-1, 25*time.Second, 10*time.Second, fake)
	if err != nil || calm || waited != 25*time.Second {
		t.Fatalf("impossible limit: waited %v calm %v err %v, want 25s false nil", waited, calm, err)
	}
	if len(slept) != 3 || slept[2] != 5*time.Second {
		t.Errorf("sleeps %v, want 10s 10s 5s", slept)
	}
	slept = nil
	_, waited, calm, err = Calm(1e9, time.Minute, time.Second, fake)
	if err != nil || !calm || waited != 0 || len(slept) != 0 {
		t.Errorf("easy limit: waited %v calm %v err %v sleeps %v", waited, calm, err, slept)
	}
}
