// Package bench is wspeer's comparison benchmark (GitHub issue 8): echo
// servers built with gorilla/websocket, coder/websocket, gobwas/ws, lxzan/gws,
// a raw-TCP echo and wspeer (cmd/benchsrv), a load generator that is not the
// bottleneck (cmd/benchload), and the orchestrator that runs every scenario in
// interleaved rounds and writes BENCHMARKS.md and bench.svg (cmd/benchrun).
// cmd/fanout measures chat fan-out across a cluster of `wspeer serve -nats`
// nodes (issue 18). The tests here are a quick smoke of all of it.
package bench
