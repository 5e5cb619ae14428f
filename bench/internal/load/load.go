package load

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// Config describes one load run.
type Config struct {
	Addr     string        // server host:port
	Path     string        // request target for WebSocket (default "/")
	Raw      bool          // speak the raw length-prefixed protocol
	Client   string        // "fast" (default) or a library client (see Clients)
	Conns    int           // connections
	InFlight int           // messages in flight per connection
	Size     int           // message size in bytes (>= MinSize)
	Duration time.Duration // measured time
	Warmup   time.Duration // unmeasured time before it
	Verify   bool          // compare every echoed byte
	// Compress offers permessage-deflate (required) and sends compressed
	// JSON-like messages (see deflate.go); every echo is inflated and
	// checked byte for byte. Fast client only.
	Compress bool
	// ServerPID, when set, is sampled (/proc/PID/stat and io) over the
	// measured window.
	ServerPID int
}

func (c *Config) path() string {
	if c.Path == "" {
		return "/"
	}
	return c.Path
}

// Result is what a run measured. Rates are over the measured window.
type Result struct {
	Msgs      float64 `json:"msgs_per_s"`
	MBps      float64 `json:"mb_per_s"` // payload bytes echoed, 1e6 per MB
	P50us     float64 `json:"p50_us"`
	P99us     float64 `json:"p99_us"`
	Count     uint64  `json:"count"`
	Seconds   float64 `json:"seconds"`
	LoadCPU   float64 `json:"load_cpu"`   // load generator CPU share (1 = one core)
	LoadUser  float64 `json:"load_user"`  // its user share
	SrvCPU    float64 `json:"srv_cpu"`    // server CPU share, when ServerPID was given
	SrvUser   float64 `json:"srv_user"`   // server user share
	SrvSys    float64 `json:"srv_sys"`    // server kernel share
	SrvRdMsg  float64 `json:"srv_rd_msg"` // server read syscalls per message
	SrvWrMsg  float64 `json:"srv_wr_msg"` // server write syscalls per message
	Handshake float64 `json:"handshakes_per_s,omitempty"`
	// EchoRatio (compressed scenario): inflated bytes / wire payload bytes
	// of the server's echoes, i.e. how well the server compressed them.
	EchoRatio float64 `json:"echo_ratio,omitempty"`
	// OthersCPU is the CPU, in cores, that processes other than the server
	// and the load generator used during the measured window (nil when it
	// could not be measured): work that competed with the measurement.
	OthersCPU *float64 `json:"others_cpu,omitempty"`
}

// conn is one load connection of any client kind.
type conn interface {
	start(measuring *atomic.Bool)
	stop()
	result() (h *hist, msgs, bytes uint64, err error)
}

// Run performs a throughput (or, with 1 connection and 1 in flight,
// latency) run.
func Run(cfg Config) (Result, error) {
	if cfg.Size < MinSize {
		return Result{}, fmt.Errorf("size %d below the minimum %d", cfg.Size, MinSize)
	}
	if cfg.Conns < 1 || cfg.InFlight < 1 {
		return Result{}, errors.New("conns and inflight must be positive")
	}
	conns := make([]conn, cfg.Conns)
	var mu sync.Mutex
	var firstErr error
	var wg sync.WaitGroup
	sem := make(chan struct{}, 32)
	for i := range conns {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			c, err := newConn(&cfg)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				if firstErr == nil {
					firstErr = err
				}
				return
			}
			conns[i] = c
		}()
	}
	wg.Wait()
	stopAll := func() {
		for _, c := range conns {
			if c != nil {
				c.stop()
			}
		}
	}
	if firstErr != nil {
		stopAll()
		return Result{}, fmt.Errorf("connect: %w", firstErr)
	}
	var measuring atomic.Bool
	for _, c := range conns {
		c.start(&measuring)
	}
	time.Sleep(cfg.Warmup)
	ru0 := rusage()
	srv0 := readProc(cfg.ServerPID)
	busy0 := sampleBusy()
	t0 := time.Now()
	measuring.Store(true)
	time.Sleep(cfg.Duration)
	measuring.Store(false)
	el := time.Since(t0).Seconds()
	ru1 := rusage()
	srv1 := readProc(cfg.ServerPID)
	busy1 := sampleBusy()
	stopAll()

	var h hist
	var msgs, bytes, wire uint64
	var err error
	for _, c := range conns {
		if w, ok := c.(interface{ wireBytes() uint64 }); ok {
			wire += w.wireBytes()
		}
		ch, m, b, e := c.result()
		h.merge(ch)
		msgs += m
		bytes += b
		if e != nil && err == nil {
			err = e
		}
	}
	r := Result{
		Msgs:     float64(msgs) / el,
		MBps:     float64(bytes) / el / 1e6,
		P50us:    float64(h.quantile(0.50)) / 1e3,
		P99us:    float64(h.quantile(0.99)) / 1e3,
		Count:    msgs,
		Seconds:  el,
		LoadCPU:  (ru1.user + ru1.sys - ru0.user - ru0.sys) / el,
		LoadUser: (ru1.user - ru0.user) / el,
	}
	if wire > 0 {
		r.EchoRatio = float64(bytes) / float64(wire)
	}
	if cfg.ServerPID > 0 && srv0.ok && srv1.ok {
		r.SrvUser = (srv1.user - srv0.user) / el
		r.SrvSys = (srv1.sys - srv0.sys) / el
		r.SrvCPU = r.SrvUser + r.SrvSys
		if msgs > 0 {
			r.SrvRdMsg = float64(srv1.syscr-srv0.syscr) / float64(msgs)
			r.SrvWrMsg = float64(srv1.syscw-srv0.syscw) / float64(msgs)
		}
	}
	setOthers(&r, busy0, busy1, cfg.ServerPID > 0 && srv0.ok && srv1.ok, el)
	if msgs == 0 && err == nil {
		err = errors.New("no message echoed")
	}
	return r, err
}

func newConn(cfg *Config) (conn, error) {
	if cfg.Compress {
		z, err := newZConn(cfg)
		if err != nil {
			return nil, err
		}
		return z, nil
	}
	if cfg.Client == "" || cfg.Client == "fast" {
		f, err := newFastConn(cfg)
		if err != nil {
			return nil, err
		}
		return f, nil
	}
	if cfg.Raw {
		return nil, errors.New("library clients speak WebSocket only")
	}
	return newLibConn(cfg)
}

func (f *fastConn) start(m *atomic.Bool) {
	go f.reader(m)
	go f.writer()
}

func (f *fastConn) stop() { f.close() }

func (f *fastConn) result() (*hist, uint64, uint64, error) {
	err := f.err
	select {
	case <-f.done:
		// Errors after stop come from closing the connection.
		if err != nil && !errors.Is(err, errMismatch) {
			err = nil
		}
	default:
	}
	return &f.hist, f.msgs, f.bytes, err
}

type cpuTimes struct{ user, sys float64 }

func rusage() cpuTimes {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return cpuTimes{
		user: float64(ru.Utime.Sec) + float64(ru.Utime.Usec)/1e6,
		sys:  float64(ru.Stime.Sec) + float64(ru.Stime.Usec)/1e6,
	}
}

type procSample struct {
	ok           bool
	user, sys    float64
	syscr, syscw uint64
}

// clkTck is USER_HZ, 100 on every Linux configuration in practice.
const clkTck = 100

// readProc samples a process's CPU times and syscall counters from /proc.
func readProc(pid int) procSample {
	if pid <= 0 {
		return procSample{}
	}
	var s procSample
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return s
	}
	// Fields after the command name, which is in parentheses.
	i := strings.LastIndexByte(string(b), ')')
	f := strings.Fields(string(b[i+2:]))
	if len(f) < 13 {
		return s
	}
	ut, _ := strconv.ParseFloat(f[11], 64)
	st, _ := strconv.ParseFloat(f[12], 64)
	s.user, s.sys = ut/clkTck, st/clkTck
	if io, err := os.ReadFile(fmt.Sprintf("/proc/%d/io", pid)); err == nil {
		for _, line := range strings.Split(string(io), "\n") {
			k, v, _ := strings.Cut(line, ": ")
			n, _ := strconv.ParseUint(strings.TrimSpace(v), 10, 64)
			switch k {
			case "syscr":
				s.syscr = n
			case "syscw":
				s.syscw = n
			}
		}
	}
	s.ok = true
	return s
}
