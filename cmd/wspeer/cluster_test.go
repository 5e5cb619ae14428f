package main

// Cluster tests: three real `wspeer serve -nats URL` processes linked through
// a NATS server embedded in the test (natstest runs the real nats-server
// code), with library clients on each node.

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/wspeer/wspeer"
	"github.com/wspeer/wspeer/natsbackplane/natstest"
)

// cluster is an embedded NATS server and the serve nodes linked to it.
type cluster struct {
	nats  *natstest.Server
	nodes []*proc
	urls  []string // ws://host:port of each node
}

func startCluster(t *testing.T, n int) *cluster {
	t.Helper()
	c := &cluster{nats: natstest.Start(t)}
	for range n {
		c.addNode(t)
	}
	for i := range c.urls {
		c.waitLink(t, i, "up")
	}
	return c
}

func (c *cluster) addNode(t *testing.T) int {
	t.Helper()
	// The order tests send bursts far above the chat's message rate limit.
	p, url := startServer(t, "serve", "-nats", c.nats.URL(), "-chat-rate", "0")
	c.nodes, c.urls = append(c.nodes, p), append(c.urls, url)
	return len(c.urls) - 1
}

// linkState returns what node i's GET /cluster says about its NATS link.
func (c *cluster) linkState(t *testing.T, i int) string {
	t.Helper()
	resp, err := http.Get("http" + strings.TrimPrefix(c.urls[i], "ws") + "/cluster")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var v struct{ NATS string }
	if err := json.NewDecoder(resp.Body).Decode(&v); err != nil {
		t.Fatalf("GET /cluster: %v", err)
	}
	return v.NATS
}

// waitLink waits until node i reports its NATS link in state (up or down).
func (c *cluster) waitLink(t *testing.T, i int, state string) {
	t.Helper()
	end := time.Now().Add(15 * time.Second)
	for c.linkState(t, i) != state {
		if time.Now().After(end) {
			t.Fatalf("node %d: NATS link not %s within 15 s; stderr:\n%s", i, state, c.nodes[i].stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// tryRecv returns the next text message of p, or false after timeout.
func tryRecv(p *wspeer.Peer, timeout time.Duration) (string, bool) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	for {
		if msg, err := p.GetPacket(); err == nil {
			return string(msg), true
		}
		if p.Wait(ctx) != nil {
			return "", false
		}
		p.Poll()
	}
}

// next returns the next message of p, failing the test after 10 s.
func next(t *testing.T, p *wspeer.Peer) string {
	t.Helper()
	msg, ok := tryRecv(p, 10*time.Second)
	if !ok {
		t.Fatalf("no message within 10 s (peer %v, closed %d %v)", p.ReadyState(), p.CloseCode(), p.CloseError())
	}
	return msg
}

// syncRoom makes sure that a message from sends reaches every peer of to:
// it sends probes until each has one (the nodes' NATS subscriptions are
// asynchronous), then a marker, and reads each peer up to the marker.
func syncRoom(t *testing.T, from *wspeer.Peer, to ...*wspeer.Peer) {
	t.Helper()
	pending := map[*wspeer.Peer]bool{}
	for _, p := range to {
		pending[p] = true
	}
	for try := 0; len(pending) > 0; try++ {
		if try == 100 {
			t.Fatalf("%d peers got no probe in 100 tries", len(pending))
		}
		if err := from.SendText(fmt.Sprint("probe ", try)); err != nil {
			t.Fatal(err)
		}
		for p := range pending {
			if msg, ok := tryRecv(p, 100*time.Millisecond); ok && strings.HasPrefix(msg, "probe ") {
				delete(pending, p)
			}
		}
	}
	marker := fmt.Sprintf("sync %p", from)
	from.SendText(marker)
	for _, p := range to {
		for {
			msg := next(t, p)
			if msg == marker {
				break
			}
			if !strings.HasPrefix(msg, "probe ") {
				t.Fatalf("got %q while syncing", msg)
			}
		}
	}
}

// expectSeq reads n messages of each sender prefix from p, interleaved in
// any way but in order per sender: "a 0", "a 1"... and "c 0", "c 1"...
func expectSeq(t *testing.T, p *wspeer.Peer, n int, senders ...string) {
	t.Helper()
	want := map[string]int{}
	for _, s := range senders {
		want[s] = 0
	}
	for range n * len(senders) {
		msg := next(t, p)
		var who string
		var i int
		if _, err := fmt.Sscanf(msg, "%s %d", &who, &i); err != nil {
			t.Fatalf("unexpected message %q", msg)
		}
		if w, ok := want[who]; !ok || i != w {
			t.Fatalf("got %q, want message %d of %q (senders %v)", msg, w, who, senders)
		}
		want[who]++
	}
}

// TestClusterCrossNodeAndOrder: members of a room on three nodes get every
// other member's messages once, in order per sender; the sender gets none of
// its own; another room gets nothing.
func TestClusterCrossNodeAndOrder(t *testing.T) {
	c := startCluster(t, 3)
	a, d := dial(t, c.urls[0]+"/chat", nil), dial(t, c.urls[0]+"/chat", nil)
	b, cc := dial(t, c.urls[1]+"/chat/lobby", nil), dial(t, c.urls[2]+"/chat", nil)
	blue1, blue2 := dial(t, c.urls[1]+"/chat/blue", nil), dial(t, c.urls[2]+"/chat/blue", nil)
	syncRoom(t, a, b, cc, d)
	syncRoom(t, cc, a, b, d)
	syncRoom(t, blue2, blue1)

	const n = 100
	for i := range n { // two senders on two nodes, interleaved
		if err := a.SendText(fmt.Sprint("a ", i)); err != nil {
			t.Fatal(err)
		}
		if err := cc.SendText(fmt.Sprint("c ", i)); err != nil {
			t.Fatal(err)
		}
	}
	expectSeq(t, b, n, "a", "c")  // other node
	expectSeq(t, d, n, "a", "c")  // a's node
	expectSeq(t, a, n, "c")       // not its own
	expectSeq(t, cc, n, "a")      // not its own
	blue2.SendText("blue marker") // room blue got nothing of lobby's
	if msg := next(t, blue1); msg != "blue marker" {
		t.Fatalf("room blue got %q", msg)
	}
	b.SendText("end") // nothing came twice: the next message is this one
	for _, p := range []*wspeer.Peer{a, cc, d} {
		if msg := next(t, p); msg != "end" {
			t.Fatalf("got %q, want end", msg)
		}
	}
}

// TestClusterNATSRestart stops the NATS server: the nodes report the link
// down, chat within a node goes on; after a restart on the same port the
// links come back by themselves and cross-node chat resumes in order.
func TestClusterNATSRestart(t *testing.T) {
	c := startCluster(t, 3)
	a, b := dial(t, c.urls[0]+"/chat", nil), dial(t, c.urls[0]+"/chat", nil)
	far := dial(t, c.urls[1]+"/chat", nil)
	syncRoom(t, a, b, far)

	c.nats.Stop()
	for i := range c.urls {
		c.waitLink(t, i, "down")
	}
	for i := range 20 {
		if err := a.SendText(fmt.Sprint("a ", i)); err != nil {
			t.Fatal(err)
		}
	}
	expectSeq(t, b, 20, "a") // same node: delivered while NATS is down

	c.nats.Restart()
	for i := range c.urls {
		c.waitLink(t, i, "up")
	}
	// Messages kept while down may or may not reach far (see natsbackplane):
	// syncRoom skips them... only as probes, so drain them here first.
	drainPrefix(t, far, "a ")
	syncRoom(t, a, b, far)
	for i := range 50 {
		a.SendText(fmt.Sprint("a ", i))
	}
	expectSeq(t, far, 50, "a")
	expectSeq(t, b, 50, "a")
	for _, node := range c.nodes { // the logs say so too (written by the NATS client's callbacks)
		node.waitStderr("NATS link down", 10*time.Second)
		end := time.Now().Add(10 * time.Second)
		for strings.Count(node.stderr.String(), "NATS link up") < 2 {
			if time.Now().After(end) {
				t.Fatalf("no second \"NATS link up\" in the log:\n%s", node.stderr.String())
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
}

// drainPrefix reads the messages with prefix that p has or gets within a
// short while (messages whose arrival the test cannot promise).
func drainPrefix(t *testing.T, p *wspeer.Peer, prefix string) {
	t.Helper()
	for range 1000 {
		msg, ok := tryRecv(p, 300*time.Millisecond)
		if !ok {
			return
		}
		if !strings.HasPrefix(msg, prefix) {
			t.Fatalf("got %q", msg)
		}
	}
}

// TestClusterNodeCrash kills one node (SIGKILL): its clients lose their
// connection, the other nodes go on serving each other, and a new node joins.
func TestClusterNodeCrash(t *testing.T) {
	c := startCluster(t, 3)
	a, b := dial(t, c.urls[0]+"/chat", nil), dial(t, c.urls[1]+"/chat", nil)
	victim := dial(t, c.urls[2]+"/chat", nil)
	syncRoom(t, a, b, victim)

	c.nodes[2].cmd.Process.Signal(syscall.SIGKILL)
	c.nodes[2].exit(10 * time.Second)
	if _, ok := tryRecv(victim, 10*time.Second); ok || victim.ReadyState() != wspeer.StateClosed || victim.CloseCode() != -1 {
		t.Fatalf("client of the crashed node: %v, close code %d", victim.ReadyState(), victim.CloseCode())
	}
	end := time.Now().Add(15 * time.Second)
	for c.nats.Clients() != 2 { // NATS noticed the dead connection
		if time.Now().After(end) {
			t.Fatalf("NATS still has %d clients", c.nats.Clients())
		}
		time.Sleep(20 * time.Millisecond)
	}
	for i := range 20 {
		a.SendText(fmt.Sprint("a ", i))
		b.SendText(fmt.Sprint("b ", i))
	}
	expectSeq(t, b, 20, "a")
	expectSeq(t, a, 20, "b")

	i := c.addNode(t)
	c.waitLink(t, i, "up")
	fresh := dial(t, c.urls[i]+"/chat", nil)
	syncRoom(t, a, b, fresh)
	fresh.SendText("fresh 0")
	for _, p := range []*wspeer.Peer{a, b} {
		if msg := next(t, p); msg != "fresh 0" {
			t.Fatalf("got %q from the new node", msg)
		}
	}
}
