package interop

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"
)

// side is one foreign implementation in one direction.
type side struct {
	// connect makes one connection between a new wspeer peer, configured
	// by o, and the foreign side. theirClose returns what the foreign side
	// saw when that connection ended.
	connect func(ctx context.Context, t *testing.T, o opts) (c *ourConn, theirClose func(context.Context) (closeEvent, error), err error)
	// noPing: the foreign API cannot send pings (browsers).
	noPing bool
	// offersDeflate: their client offers permessage-deflate (which our
	// server declines unless compress is set).
	offersDeflate bool
	// compress enables wspeer's permessage-deflate; wantDeflate says whether
	// it must then be negotiated (both sides willing) or not.
	compress, wantDeflate bool
	// setup, if set, starts what lives as long as the side (a server).
	setup func(ctx context.Context, t *testing.T) error
}

const (
	msgTimeout   = 60 * time.Second // one echo, up to 16 MiB each way
	closeTimeout = 15 * time.Second
	heartbeat    = 250 * time.Millisecond
)

// runSide runs every scenario against s, on two connections: the first
// echoes the messages and bursts and is closed by wspeer, the second checks
// pings both ways and is closed by the foreign side.
func runSide(t *testing.T, s side) {
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	if s.setup != nil {
		if err := s.setup(ctx, t); err != nil {
			t.Fatal(err)
		}
	}
	t.Run("messages", func(t *testing.T) { runMessages(ctx, t, s) })
	t.Run("ping-and-their-close", func(t *testing.T) { runPingAndTheirClose(ctx, t, s) })
}

type hello struct {
	Protocol   string `json:"protocol"`
	Extensions string `json:"extensions"` // "?" when their API cannot tell
	Pings      int    `json:"pings"`
}

// checkHello checks the subprotocol and extensions as both sides see them and
// returns the foreign side's report.
func checkHello(ctx context.Context, t *testing.T, c *ourConn, s side) hello {
	t.Helper()
	if got := c.p.SelectedProtocol(); got != WantProtocol {
		t.Errorf("wspeer selected protocol %q, want %q", got, WantProtocol)
	}
	if h := c.p.RequestHeader(); h != nil { // we are the server
		offer := h.Get("Sec-WebSocket-Extensions")
		if s.offersDeflate != strings.Contains(offer, "permessage-deflate") {
			t.Errorf("their client offered extensions %q, want a permessage-deflate offer: %v", offer, s.offersDeflate)
		}
	}
	if h := c.p.ResponseHeader(); h != nil { // we are the client
		e := h.Values("Sec-WebSocket-Extensions")
		if got := strings.Contains(strings.Join(e, ","), "permessage-deflate"); got != s.wantDeflate {
			t.Errorf("their server accepted extensions %q; want permessage-deflate: %v", e, s.wantDeflate)
		}
	}
	if err := c.send(true, []byte(CmdHello)); err != nil {
		t.Fatal(err)
	}
	reply, err := c.recvText(ctx, msgTimeout)
	if err != nil {
		t.Fatalf("hello: %v", err)
	}
	var h hello
	if err := json.Unmarshal([]byte(reply), &h); err != nil {
		t.Fatalf("hello reply %q: %v", reply, err)
	}
	t.Logf("their side: protocol %q, extensions %q", h.Protocol, h.Extensions)
	if h.Protocol != WantProtocol {
		t.Errorf("their side negotiated protocol %q, want %q", h.Protocol, WantProtocol)
	}
	if h.Extensions != "?" && strings.Contains(h.Extensions, "permessage-deflate") != s.wantDeflate {
		t.Errorf("their side negotiated extensions %q; want permessage-deflate: %v", h.Extensions, s.wantDeflate)
	}
	return h
}

// echo sends one message and expects it back unchanged.
func echo(ctx context.Context, c *ourConn, text bool, data []byte) error {
	if err := c.send(text, data); err != nil {
		return fmt.Errorf("send: %w", err)
	}
	m, err := c.recv(ctx, msgTimeout)
	if err != nil {
		return err
	}
	return same(m, message{text, data})
}

// same compares a received message with the expected one.
func same(got, want message) error {
	if got.text != want.text {
		return fmt.Errorf("got %v, want %v", got, want)
	}
	if !bytes.Equal(got.data, want.data) {
		i := 0
		for i < len(got.data) && i < len(want.data) && got.data[i] == want.data[i] {
			i++
		}
		return fmt.Errorf("got %d bytes, want %d; first difference at byte %d (got %v, want %v)",
			len(got.data), len(want.data), i, got, want)
	}
	return nil
}

func runMessages(ctx context.Context, t *testing.T, s side) {
	c, theirClose, err := s.connect(ctx, t, opts{compress: s.compress})
	if err != nil {
		t.Fatal(err)
	}
	defer c.abort()
	checkHello(ctx, t, c, s)
	for _, sc := range Scenarios() {
		ok := t.Run(sc.Name, func(t *testing.T) {
			if err := echo(ctx, c, sc.Text, sc.Data); err != nil {
				t.Fatal(err)
			}
		})
		if !ok {
			t.FailNow()
		}
	}
	ok := t.Run("burst/ours", func(t *testing.T) {
		for i := range BurstCount {
			if err := c.send(true, []byte(BurstMessage(i))); err != nil {
				t.Fatalf("send %d: %v", i, err)
			}
		}
		expectBurst(ctx, t, c)
	})
	ok = ok && t.Run("burst/theirs", func(t *testing.T) {
		if err := c.send(true, []byte(CmdBurst+strconv.Itoa(BurstCount))); err != nil {
			t.Fatal(err)
		}
		expectBurst(ctx, t, c)
	})
	if !ok {
		t.FailNow()
	}
	t.Run("close/ours", func(t *testing.T) {
		if err := c.p.Close(CloseCode, CloseReason); err != nil {
			t.Fatal(err)
		}
		if err := c.waitClosed(ctx, closeTimeout); err != nil {
			t.Fatal(err)
		}
		if err := c.p.CloseError(); err != nil {
			t.Errorf("closing handshake not clean: %v", err)
		}
		t.Logf("wspeer: their close frame had code %d reason %q", c.p.CloseCode(), c.p.CloseReason())
		ev, err := theirClose(ctx)
		if err != nil {
			t.Fatalf("their side: %v", err)
		}
		if ev.Code != CloseCode || ev.Reason != CloseReason {
			t.Errorf("their side saw close %d %q, want %d %q", ev.Code, ev.Reason, CloseCode, CloseReason)
		}
	})
}

// expectBurst expects BurstCount burst messages in order.
func expectBurst(ctx context.Context, t *testing.T, c *ourConn) {
	t.Helper()
	for i := range BurstCount {
		m, err := c.recv(ctx, msgTimeout)
		if err != nil {
			t.Fatalf("message %d: %v", i, err)
		}
		if err := same(m, message{true, []byte(BurstMessage(i))}); err != nil {
			t.Fatalf("message %d: %v", i, err)
		}
	}
}

func runPingAndTheirClose(ctx context.Context, t *testing.T, s side) {
	c, theirClose, err := s.connect(ctx, t, opts{heartbeat: heartbeat, compress: s.compress})
	if err != nil {
		t.Fatal(err)
	}
	defer c.abort()
	checkHello(ctx, t, c, s)
	t.Run("ping/ours", func(t *testing.T) {
		// Our heartbeat pings every interval and fails the connection when a
		// pong is missing for another interval: still OPEN after several
		// intervals means their pongs arrived.
		select {
		case <-time.After(5*heartbeat + 100*time.Millisecond):
		case <-c.done:
		}
		if st := c.p.ReadyState(); st.String() != "OPEN" {
			t.Fatalf("state %v after %v of heartbeats: code %d, error %v", st, 5*heartbeat, c.p.CloseCode(), c.p.CloseError())
		}
		h := checkHello(ctx, t, c, s)
		if h.Pings >= 0 && h.Pings < 3 {
			t.Errorf("their side received %d pings in %v, want at least 3", h.Pings, 5*heartbeat)
		}
		t.Logf("their side counted %d pings (-1: cannot count)", h.Pings)
	})
	t.Run("ping/theirs", func(t *testing.T) {
		if err := c.send(true, []byte(CmdPing)); err != nil {
			t.Fatal(err)
		}
		want := PongOK
		if s.noPing {
			want = PongUnsupported
		}
		got, err := c.recvText(ctx, msgTimeout)
		if err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Fatalf("got %q, want %q", got, want)
		}
		if s.noPing {
			t.Log("their API cannot send a ping: only the reply to the command is checked")
		}
	})
	t.Run("close/theirs", func(t *testing.T) {
		if err := c.send(true, []byte(CmdClose)); err != nil {
			t.Fatal(err)
		}
		if err := c.waitClosed(ctx, closeTimeout); err != nil {
			t.Fatal(err)
		}
		if err := c.p.CloseError(); err != nil {
			t.Errorf("closing handshake not clean: %v", err)
		}
		if c.p.CloseCode() != CloseCode || c.p.CloseReason() != CloseReason {
			t.Errorf("wspeer saw close %d %q, want %d %q", c.p.CloseCode(), c.p.CloseReason(), CloseCode, CloseReason)
		}
		ev, err := theirClose(ctx)
		if err != nil {
			t.Fatalf("their side: %v", err)
		}
		t.Logf("their side: our close frame had code %d reason %q", ev.Code, ev.Reason)
	})
}
