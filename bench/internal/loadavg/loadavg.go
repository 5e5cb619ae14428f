// Package loadavg reads the system load average (/proc/loadavg) so that the
// benchmarks can record how busy the machine was around each measurement and
// wait, or flag the figures, when other work was running (GitHub issue 14,
// item 10).
package loadavg

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// ErrUnavailable is returned when the load average cannot be read (not
// Linux, or /proc not mounted).
var ErrUnavailable = errors.New("loadavg: /proc/loadavg not available")

// Sample is one reading of /proc/loadavg: the number of runnable (and
// uninterruptible) tasks averaged over 1, 5 and 15 minutes.
type Sample struct {
	One     float64   `json:"1m"`
	Five    float64   `json:"5m"`
	Fifteen float64   `json:"15m"`
	At      time.Time `json:"at"`
}

// String formats the sample the way /proc/loadavg does: "0.52 0.61 0.70".
func (s Sample) String() string {
	return fmt.Sprintf("%.2f %.2f %.2f", s.One, s.Five, s.Fifteen)
}

// Read reads /proc/loadavg.
func Read() (Sample, error) {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return Sample{}, fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	return Parse(string(b), time.Now())
}

// Parse reads the first three fields of a /proc/loadavg line.
func Parse(line string, at time.Time) (Sample, error) {
	f := strings.Fields(line)
	if len(f) < 3 {
		return Sample{}, fmt.Errorf("%w: malformed line %q", ErrUnavailable, line)
	}
	var v [3]float64
	for i := range v {
		x, err := strconv.ParseFloat(f[i], 64)
		if err != nil || x < 0 {
			return Sample{}, fmt.Errorf("%w: malformed field %q", ErrUnavailable, f[i])
		}
		v[i] = x
	}
	return Sample{One: v[0], Five: v[1], Fifteen: v[2], At: at}, nil
}

// Calm waits until the 1-minute load average is at most limit, reading it
// every poll, for at most maxWait. It returns the last sample, how long it
// waited, and whether the machine was calm at the end. With maxWait 0 it
// reads once. A read error counts as calm (nothing to go by), with the
// error returned.
func Calm(limit float64, maxWait, poll time.Duration, sleep func(time.Duration)) (Sample, time.Duration, bool, error) {
	if sleep == nil {
		sleep = time.Sleep
	}
	var waited time.Duration
	for {
		s, err := Read()
		if err != nil {
			return s, waited, true, err
		}
		if s.One <= limit || waited >= maxWait {
			return s, waited, s.One <= limit, nil
		}
		d := min(poll, maxWait-waited)
		sleep(d)
		waited += d
	}
}
