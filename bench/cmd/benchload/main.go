// Command benchload is the benchmark's load generator.
//
//	benchload -addr HOST:PORT [-raw] [-mode echo|handshake|idle] ...
//
// echo: -conns N connections each keep -inflight K messages of -size S bytes
// in flight for -warmup plus -d; prints the Result as one JSON line
// (msgs/s, MB/s, p50/p99 round trip, its own CPU share and, with
// -server-pid, the server's CPU split and syscalls per message). With
// -conns 1 -inflight 1 it is the latency test. -client picks the client
// implementation (fast, gorilla, coder, gobwas, gws, wspeer).
// handshake: -workers goroutines connect, upgrade and reset for -d; prints
// handshakes/s.
// With -compress the client offers permessage-deflate, sends precompressed
// JSON-like messages and inflates and checks every echo (idle: each
// connection first echoes 3 compressed messages of -size bytes).
// idle: opens -conns connections, prints "ready N", holds them until stdin
// closes or a signal, then resets them.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/wspeer/wspeer/bench/internal/load"
)

func main() {
	var cfg load.Config
	flag.StringVar(&cfg.Addr, "addr", "127.0.0.1:9001", "server address")
	flag.StringVar(&cfg.Path, "path", "/", "request target")
	flag.BoolVar(&cfg.Raw, "raw", false, "speak the raw length-prefixed protocol instead of WebSocket")
	flag.StringVar(&cfg.Client, "client", "fast", fmt.Sprintf("client implementation: %v", load.Clients))
	flag.IntVar(&cfg.Conns, "conns", 64, "connections")
	flag.IntVar(&cfg.InFlight, "inflight", 16, "messages in flight per connection")
	flag.IntVar(&cfg.Size, "size", 64, "message size in bytes")
	flag.DurationVar(&cfg.Duration, "d", 2*time.Second, "measured duration")
	flag.DurationVar(&cfg.Warmup, "warmup", 300*time.Millisecond, "warm-up before measuring")
	flag.BoolVar(&cfg.Verify, "verify", false, "compare every echoed byte (order and size are always checked)")
	flag.BoolVar(&cfg.Compress, "compress", false, "offer permessage-deflate (required) and send compressed JSON-like messages (echo and idle modes)")
	flag.IntVar(&cfg.ServerPID, "server-pid", 0, "server process to sample over the measured window")
	mode := flag.String("mode", "echo", "echo, handshake or idle")
	workers := flag.Int("workers", 32, "concurrent handshakes (handshake mode)")
	flag.Parse()

	switch *mode {
	case "echo":
		r, err := load.Run(cfg)
		emit(r, err)
	case "handshake":
		r, err := load.Handshakes(cfg, *workers, cfg.Duration)
		emit(r, err)
	case "idle":
		conns, err := load.Idle(cfg, cfg.Conns)
		if err != nil {
			fail(err)
		}
		fmt.Printf("ready %d\n", len(conns))
		sig := make(chan os.Signal, 1)
		signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
		eof := make(chan struct{})
		go func() { io.Copy(io.Discard, os.Stdin); close(eof) }()
		select {
		case <-sig:
		case <-eof:
		}
		load.CloseAll(conns)
	default:
		fail(fmt.Errorf("unknown mode %q", *mode))
	}
}

func emit(r load.Result, err error) {
	json.NewEncoder(os.Stdout).Encode(r)
	if err != nil {
		fail(err)
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "benchload:", err)
	os.Exit(1)
}
