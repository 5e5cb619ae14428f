package natsbackplane

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/wspeer/wspeer"
	"github.com/wspeer/wspeer/hub"
	"github.com/wspeer/wspeer/natsbackplane/natstest"
)

const testTimeout = 10 * time.Second

// node is a Backplane with what its subscriptions delivered.
type node struct {
	*Backplane
	got  chan hub.Message
	link chan bool
}

func connect(t *testing.T, url string, opts Options) *node {
	t.Helper()
	n := &node{got: make(chan hub.Message, 10000), link: make(chan bool, 100)}
	opts.OnLink = func(up bool) { n.link <- up }
	b, err := Connect(url, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	n.Backplane = b
	return n
}

// subscribe subscribes to room and waits until the server has the
// subscription (a NATS flush is a round trip behind it).
func (n *node) subscribe(t *testing.T, room string) {
	t.Helper()
	if err := n.Subscribe(room, func(m hub.Message) {
		m.Data = append([]byte(nil), m.Data...)
		n.got <- m
	}); err != nil {
		t.Fatal(err)
	}
	if err := n.nc.FlushTimeout(testTimeout); err != nil {
		t.Fatal(err)
	}
}

func (n *node) expect(t *testing.T, want string, mode wspeer.WriteMode) {
	t.Helper()
	select {
	case m := <-n.got:
		if string(m.Data) != want || m.Mode != mode {
			t.Fatalf("got %q (mode %d), want %q (mode %d)", m.Data, m.Mode, want, mode)
		}
	case <-time.After(testTimeout):
		t.Fatalf("nothing within %v, want %q", testTimeout, want)
	}
}

func (n *node) waitLink(t *testing.T, up bool) {
	t.Helper()
	end := time.After(testTimeout)
	for {
		select {
		case got := <-n.link:
			if got == up {
				return
			}
		case <-end:
			t.Fatalf("link did not go up=%v within %v", up, testTimeout)
		}
	}
}

func TestDeliversToOtherNodesOnceInOrder(t *testing.T) {
	ns := natstest.Start(t)
	a, b, c := connect(t, ns.URL(), Options{}), connect(t, ns.URL(), Options{}), connect(t, ns.URL(), Options{})
	for _, n := range []*node{a, b, c} {
		n.subscribe(t, "lobby")
	}
	d := connect(t, ns.URL(), Options{})
	d.subscribe(t, "other")
	const count = 300
	for i := range count {
		if err := a.Publish("lobby", hub.Message{Data: fmt.Appendf(nil, "m%d", i)}); err != nil {
			t.Fatal(err)
		}
	}
	a.Publish("lobby", hub.Message{Data: []byte{0, 1, 2}, Mode: wspeer.WriteModeBinary})
	b.Publish("other", hub.Message{Data: []byte("for other")})
	for _, n := range []*node{b, c} {
		for i := range count {
			n.expect(t, fmt.Sprintf("m%d", i), wspeer.WriteModeText)
		}
		n.expect(t, "\x00\x01\x02", wspeer.WriteModeBinary)
	}
	d.expect(t, "for other", wspeer.WriteModeText)
	// b publishes a marker to lobby: a must see it first, having had nothing
	// of its own.
	b.Publish("lobby", hub.Message{Data: []byte("marker")})
	a.expect(t, "marker", wspeer.WriteModeText)
	c.expect(t, "marker", wspeer.WriteModeText)
	if st := a.Stats(); st.Published != count+1 || st.Received != 1 || st.Dropped != 0 {
		t.Fatalf("a stats %+v", st)
	}
	// After Unsubscribe, nothing more for c: once a later message to another
	// room has come and a round trip is done, c has got nothing.
	c.Unsubscribe("lobby")
	c.subscribe(t, "other")
	a.Publish("lobby", hub.Message{Data: []byte("gone")})
	a.Publish("other", hub.Message{Data: []byte("marker2")})
	c.expect(t, "marker2", wspeer.WriteModeText)
	c.nc.FlushTimeout(testTimeout)
	if n := len(c.got); n != 0 {
		t.Fatalf("c got %d messages after Unsubscribe", n)
	}
}

// TestOwnMessagesIgnoredOnSharedConnection puts two nodes on one connection
// that echoes: the node id header alone keeps a node's own messages away.
func TestOwnMessagesIgnoredOnSharedConnection(t *testing.T) {
	ns := natstest.Start(t)
	nc, err := nats.Connect(ns.URL())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	var nodes [2]*node
	for i := range nodes {
		b, err := New(nc, Options{})
		if err != nil {
			t.Fatal(err)
		}
		nodes[i] = &node{Backplane: b, got: make(chan hub.Message, 100)}
		nodes[i].subscribe(t, "r")
	}
	nodes[0].Publish("r", hub.Message{Data: []byte("from 0")})
	nodes[1].Publish("r", hub.Message{Data: []byte("from 1")})
	nodes[1].expect(t, "from 0", wspeer.WriteModeText)
	nodes[0].expect(t, "from 1", wspeer.WriteModeText)
	nc.Flush()
	for i, n := range nodes {
		if st := n.Stats(); st.Own != 1 || st.Received != 1 {
			t.Fatalf("node %d stats %+v: want one own message ignored, one received", i, st)
		}
		n.Close()
	}
	if !nc.IsConnected() {
		t.Fatal("Close of a Backplane from New closed the caller's connection")
	}
}

func TestRoomSubjects(t *testing.T) {
	b := &Backplane{subject: DefaultSubject}
	seen := map[string]string{}
	for room, want := range map[string]string{
		"lobby":  "wspeer.room.lobby",
		"A-b_9":  "wspeer.room.A-b_9",
		"a.b":    "wspeer.room.~YS5i",
		"*":      "wspeer.room.~Kg",
		">":      "wspeer.room.~Pg",
		"~YS5i":  "wspeer.room.~fllTNWk",
		"a b":    "wspeer.room.~YSBi",
		"salle→": "wspeer.room.~c2FsbGXihpI",
	} {
		got := b.Subject(room)
		if got != want {
			t.Errorf("Subject(%q) = %q, want %q", room, got, want)
		}
		if other, dup := seen[got]; dup {
			t.Errorf("rooms %q and %q share subject %q", room, other, got)
		}
		seen[got] = room
	}
	// A room whose name needs encoding works end to end.
	ns := natstest.Start(t)
	x, y := connect(t, ns.URL(), Options{}), connect(t, ns.URL(), Options{})
	y.subscribe(t, "salle 1.*")
	x.Publish("salle 1.*", hub.Message{Data: []byte("ok")})
	y.expect(t, "ok", wspeer.WriteModeText)
}

// TestNATSRestartBoundedBuffer stops the NATS server: publications are kept
// up to ReconnectBuffer bytes, then dropped with ErrDropped; after a restart
// on the same port both nodes reconnect by themselves, and the kept messages
// that arrive come in order, none of the dropped ones.
func TestNATSRestartBoundedBuffer(t *testing.T) {
	ns := natstest.Start(t)
	const bufSize = 4000
	opts := Options{ReconnectBuffer: bufSize, ReconnectWait: 50 * time.Millisecond}
	a, b := connect(t, ns.URL(), opts), connect(t, ns.URL(), opts)
	a.waitLink(t, true)
	b.waitLink(t, true)
	b.subscribe(t, "r")
	ns.Stop()
	a.waitLink(t, false)
	if a.Connected() {
		t.Fatal("Connected() with the server down")
	}
	payload := strings.Repeat("p", 100)
	kept := 0
	var dropErr error
	for i := 0; i < 1000 && dropErr == nil; i++ {
		if err := a.Publish("r", hub.Message{Data: fmt.Appendf(nil, "%04d%s", i, payload)}); err != nil {
			dropErr = err
		} else {
			kept++
		}
	}
	if !errors.Is(dropErr, ErrDropped) || !errors.Is(dropErr, nats.ErrReconnectBufExceeded) {
		t.Fatalf("publishing while down: %v after %d kept", dropErr, kept)
	}
	if kept == 0 || kept*len(payload) > bufSize {
		t.Fatalf("%d messages of %d bytes kept for a %d-byte buffer", kept, len(payload), bufSize)
	}
	if st := a.Stats(); st.Dropped != 1 {
		t.Fatalf("stats %+v", st)
	}
	ns.Restart()
	a.waitLink(t, true)
	b.waitLink(t, true)
	b.nc.FlushTimeout(testTimeout) // b's subscription is back on the server
	if err := a.Publish("r", hub.Message{Data: []byte("after")}); err != nil {
		t.Fatal(err)
	}
	last := -1
	for {
		var m hub.Message
		select {
		case m = <-b.got:
		case <-time.After(testTimeout):
			t.Fatal(`"after" did not arrive`)
		}
		if string(m.Data) == "after" {
			break
		}
		var i int
		fmt.Sscanf(string(m.Data), "%04d", &i)
		if i <= last || i >= kept {
			t.Fatalf("got kept message %d after %d (%d were kept)", i, last, kept)
		}
		last = i
	}
	t.Logf("%d messages kept while down, %d of them reached the other node", kept, last+1)
}

func TestClosed(t *testing.T) {
	ns := natstest.Start(t)
	a := connect(t, ns.URL(), Options{})
	a.Close()
	if err := a.Publish("r", hub.Message{}); !errors.Is(err, ErrClosed) {
		t.Fatalf("Publish after Close: %v", err)
	}
	if err := a.Subscribe("r", func(hub.Message) {}); !errors.Is(err, ErrClosed) {
		t.Fatalf("Subscribe after Close: %v", err)
	}
	if _, err := Connect("nats://[bad", Options{}); err == nil {
		t.Fatal("Connect with a malformed URL: no error")
	}
	if _, err := New(nil, Options{}); err == nil {
		t.Fatal("New(nil): no error")
	}
}
