package load

import (
	"os"
	"strconv"
	"strings"
)

// systemBusy returns the CPU time, in seconds, that every task of the machine
// has spent running (user, nice, system and steal in the first line of
// /proc/stat) since boot. Interrupt and softirq time is left out: loopback
// traffic of the measured pair is partly charged there rather than to either
// process. ok is false when /proc/stat cannot be read.
func systemBusy() (secs float64, ok bool) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, false
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)
	// cpu user nice system idle iowait irq softirq steal ...
	if len(f) < 9 || f[0] != "cpu" {
		return 0, false
	}
	var sum float64
	for _, i := range []int{1, 2, 3, 8} {
		v, err := strconv.ParseFloat(f[i], 64)
		if err != nil {
			return 0, false
		}
		sum += v
	}
	return sum / clkTck, true
}

// busySample is systemBusy's result kept for the end of a window.
type busySample struct {
	secs float64
	ok   bool
}

func sampleBusy() busySample {
	s, ok := systemBusy()
	return busySample{s, ok}
}

// setOthers fills r.OthersCPU: the machine's busy time over the el seconds
// from b0 to b1, less what the server and this load generator used (r.SrvCPU,
// r.LoadCPU), in cores. Other engineers' builds and tests on a shared machine
// show up here; the measured pair alone gives about 0 (to within a tick or
// two of /proc's 10 ms accounting).
func setOthers(r *Result, b0, b1 busySample, srvOK bool, el float64) {
	if !b0.ok || !b1.ok || !srvOK || el <= 0 {
		return
	}
	v := (b1.secs-b0.secs)/el - r.SrvCPU - r.LoadCPU
	r.OthersCPU = &v
}
