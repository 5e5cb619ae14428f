// Package stats is the side channel through which the benchmark reads a
// server's memory: an HTTP endpoint answering JSON after two GCs.
package stats

import (
	"encoding/json"
	"net"
	"net/http"
	"os"
	"runtime"
	"strconv"
	"strings"
)

// Mem is a server's memory as the idle scenario reports it.
type Mem struct {
	RSS        uint64 `json:"rss"`         // VmRSS, bytes
	HeapInuse  uint64 `json:"heap_inuse"`  // runtime.MemStats.HeapInuse
	HeapAlloc  uint64 `json:"heap_alloc"`  // live heap objects
	StackInuse uint64 `json:"stack_inuse"` // goroutine stacks
	Sys        uint64 `json:"sys"`         // memory obtained from the OS
	Goroutines int    `json:"goroutines"`
}

// Read collects Mem after two garbage collections.
func Read() Mem {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return Mem{RSS: VmRSS(os.Getpid()), HeapInuse: ms.HeapInuse, HeapAlloc: ms.HeapAlloc,
		StackInuse: ms.StackInuse, Sys: ms.Sys, Goroutines: runtime.NumGoroutine()}
}

// VmRSS returns a process's resident set size in bytes (0 if unknown).
func VmRSS(pid int) uint64 {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.ParseUint(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb << 10
		}
	}
	return 0
}

// Serve answers GET /stats on ln with Read's JSON.
func Serve(ln net.Listener) error {
	mux := http.NewServeMux()
	mux.HandleFunc("/stats", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(Read())
	})
	return http.Serve(ln, mux)
}

// Fetch asks a server's stats endpoint.
func Fetch(addr string) (Mem, error) {
	var m Mem
	resp, err := http.Get("http://" + addr + "/stats")
	if err != nil {
		return m, err
	}
	defer resp.Body.Close()
	err = json.NewDecoder(resp.Body).Decode(&m)
	return m, err
}
