// Package bench is wspeer's comparison benchmark (GitHub issue 8): echo
// servers built with gorilla/websocket, coder/websocket, gobwas/ws, lxzan/gws,
// a raw-TCP echo and wspeer (cmd/benchsrv), a load generator that is not the
// bottleneck (cmd/benchload), and the orchestrator that runs every scenario in
// interleaved rounds and writes BENCHMARKS.md and bench.svg (cmd/benchrun).
// cmd/fanout measures chat fan-out across a cluster of `wspeer serve -nats`
// nodes (issue 18). The tests here are a quick smoke of all of it.
//
// The machine is shared, so benchrun waits before each round (at most
// -calm-wait) for the 1-minute load average to drop to -max-load, records it
// around every round in results.json, and has the load generator measure the
// CPU other processes took during every run (internal/loadavg,
// load.Result.OthersCPU); BENCHMARKS.md opens with a line saying whether the
// run was quiet and marks the cells of noisy runs with ⚠️.
//
// Before/after figures for a change come from one run: build benchsrv from the
// old revision and pass it with -before; its wspeer-poll and wspeer-wait run
// interleaved with the current ones and compare.md gets the ratios:
//
//	git worktree add /tmp/wspeer-old REV
//	(cd /tmp/wspeer-old/bench && go build -o /tmp/benchsrv-old ./cmd/benchsrv)
//	go run ./cmd/benchrun -before /tmp/benchsrv-old -rounds 5   # or -quick
//
// Masking (issue 14): cmd/maskbench measures wspeer's internal proto.Mask
// beside gobwas/ws's Cipher on identical buffers (64 B to 1 MiB, aligned and
// unaligned) in one process, in interleaved rounds, and prints GB/s and the
// ratio; `go test -bench 'BenchmarkMask(Wspeer|Gobwas)'` is the same in
// benchmark form (mask_test.go). The bench module may import wspeer's
// internal packages because its import path lies under wspeer's.
//
//	go run ./cmd/maskbench -rounds 15 -d 50ms
package bench
