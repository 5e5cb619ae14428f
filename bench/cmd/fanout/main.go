// Command fanout measures the chat fan-out latency of a `wspeer serve -nats`
// cluster (see package internal/fanout): run it from the bench directory,
//
//	go run ./cmd/fanout                       # 1,000 clients on 3 nodes
//	go run ./cmd/fanout -clients 300 -nodes 2
//
// It prints p50, p99 and the maximum from a send to the last receiver.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"time"

	"github.com/wspeer/wspeer/bench/internal/fanout"
)

func main() {
	cfg := fanout.Config{Log: os.Stderr}
	flag.StringVar(&cfg.Root, "root", "..", "repository root (holding cmd/wspeer and natsbackplane)")
	flag.IntVar(&cfg.Nodes, "nodes", 3, "wspeer serve nodes")
	flag.IntVar(&cfg.Clients, "clients", 1000, "clients, spread over the nodes; one of them sends")
	flag.IntVar(&cfg.Messages, "messages", 500, "measured broadcasts, sent one at a time")
	flag.IntVar(&cfg.Size, "size", 64, "message size in bytes (>= 32)")
	flag.DurationVar(&cfg.Gap, "gap", 10*time.Millisecond, "pause between broadcasts")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	res, err := fanout.Run(ctx, cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Printf("fan-out, %d nodes, %d receivers, %d messages of %d B: p50 %v, p99 %v, max %v\n",
		cfg.Nodes, res.Receivers, len(res.Latencies), cfg.Size,
		res.Percentile(50).Round(time.Microsecond), res.Percentile(99).Round(time.Microsecond),
		res.Latencies[len(res.Latencies)-1].Round(time.Microsecond))
}
