package bench

import (
	"testing"
	"time"

	"github.com/wspeer/wspeer/bench/internal/fanout"
)

// TestFanoutSmoke runs the cluster fan-out measurement small: a real
// nats-server, three `wspeer serve -nats` nodes and 30 clients; every
// broadcast must reach all 29 other clients.
func TestFanoutSmoke(t *testing.T) {
	if testing.Short() {
		t.Skip("builds nats-server and wspeer")
	}
	res, err := fanout.Run(t.Context(), fanout.Config{Root: "..", Nodes: 3, Clients: 30, Messages: 20, Size: 64, Gap: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if res.Receivers != 29 || len(res.Latencies) != 20 || res.Percentile(50) <= 0 || res.Percentile(100) < res.Percentile(50) {
		t.Fatalf("result %+v", res)
	}
	t.Logf("30 clients on 3 nodes: p50 %v, p99 %v", res.Percentile(50), res.Percentile(99))
}
