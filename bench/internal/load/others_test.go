package load

import "testing"

// TestSystemBusy checks that the machine's busy time since boot reads, never
// goes back, and covers at least this process's own CPU time (which it
// includes), give or take a tick of /proc's accounting.
func TestSystemBusy(t *testing.T) {
	b0, ok := systemBusy()
	if !ok {
		t.Skip("/proc/stat not available")
	}
	x := 0
	for i := range 1_000_000 {
		x ^= i * i
	}
	own := rusage()
	b1, ok := systemBusy()
	if !ok || b1 < b0 {
		t.Fatalf("busy went from %v to %v (ok %v)", b0, b1, ok)
	}
	if b1+2.0/clkTck < own.user+own.sys {
		t.Errorf("machine busy %.2f s since boot < this process's %.2f s (x=%d)", b1, own.user+own.sys, x)
	}
}

func TestSetOthers(t *testing.T) {
	r := Result{SrvCPU: 0.5, LoadCPU: 0.25}
	setOthers(&r, busySample{10, true}, busySample{13, true}, true, 2)
	if r.OthersCPU == nil || *r.OthersCPU != 0.75 {
		t.Fatalf("OthersCPU = %v, want 0.75 (1.5 cores busy - 0.5 server - 0.25 load)", r.OthersCPU)
	}
	for _, c := range []struct {
		b0, b1 busySample
		srvOK  bool
		el     float64
	}{{busySample{10, false}, busySample{13, true}, true, 2}, {busySample{10, true}, busySample{13, true}, false, 2},
		{busySample{10, true}, busySample{13, true}, true, 0}} {
		r := Result{}
		setOthers(&r, c.b0, c.b1, c.srvOK, c.el)
		if r.OthersCPU != nil {
			t.Errorf("%+v: OthersCPU set to %v, want unknown", c, *r.OthersCPU)
		}
	}
}
