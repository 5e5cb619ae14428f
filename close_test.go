//go:build !js

package wspeer

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

// Godot checklist I.7: closing.

func TestRemoteCloseReachesClosedInOnePoll(t *testing.T) {
	p, rc := openServer(t, nil)
	// A message right before the close stays readable after CLOSED (Godot #107442).
	rc.write(append(frame(1, true, true, []byte("last words")), frame(8, true, true, closePayload(4000, "bye ✓"))...))
	pollUntil(t, p, "CLOSED", stateIs(p, StateClosed))
	if p.CloseCode() != 4000 || p.CloseReason() != "bye ✓" || p.CloseError() != nil {
		t.Fatalf("code %d reason %q err %v", p.CloseCode(), p.CloseReason(), p.CloseError())
	}
	if code, reason := rc.expectClose(); code != 4000 || reason != "bye ✓" {
		t.Fatalf("echo %d %q", code, reason)
	}
	rc.expectEOF()
	if p.AvailablePacketCount() != 1 {
		t.Fatal("packet lost at close")
	}
	if b, _ := p.GetPacket(); string(b) != "last words" {
		t.Fatalf("%q", b)
	}
}

func TestRemoteEmptyCloseIs1005(t *testing.T) {
	p, rc := openServer(t, nil)
	rc.write(frame(8, true, true, nil))
	pollUntil(t, p, "CLOSED", stateIs(p, StateClosed))
	if p.CloseCode() != 1005 || p.CloseReason() != "" {
		t.Fatalf("code %d", p.CloseCode())
	}
	if code, _ := rc.expectClose(); code != 1005 {
		t.Fatalf("echo %d", code)
	}
}

func TestLocalCloseReportsPeerEcho(t *testing.T) {
	p, rc := openServer(t, nil)
	if err := p.SendText("queued before close"); err != nil {
		t.Fatal(err)
	}
	if err := p.Close(4001, "going"); err != nil {
		t.Fatal(err)
	}
	if p.ReadyState() != StateClosing || p.CloseCode() != -1 {
		t.Fatalf("state %v code %d", p.ReadyState(), p.CloseCode())
	}
	// Messages queued before Close go out before the close frame.
	if f := rc.readFrame(); string(f.payload) != "queued before close" {
		t.Fatalf("%+v", f)
	}
	if code, reason := rc.expectClose(); code != 4001 || reason != "going" {
		t.Fatalf("close %d %q", code, reason)
	}
	// The peer answers with a different code: that is what CloseCode reports.
	rc.write(frame(8, true, true, closePayload(4002, "ok")))
	pollUntil(t, p, "CLOSED", stateIs(p, StateClosed))
	if p.CloseCode() != 4002 || p.CloseReason() != "ok" || p.CloseError() != nil {
		t.Fatalf("code %d reason %q err %v", p.CloseCode(), p.CloseReason(), p.CloseError())
	}
	rc.expectEOF()
}

func TestCloseValidation(t *testing.T) {
	p, rc := openServer(t, nil)
	for _, c := range []struct {
		code   int
		reason string
	}{{0, ""}, {999, ""}, {1004, ""}, {1005, ""}, {1006, ""}, {1015, ""}, {2000, ""}, {5000, ""}, {65536 + 1000, ""},
		{1000, strings.Repeat("a", 124)}, {1000, "\xff"}} {
		if err := p.Close(c.code, c.reason); !errors.Is(err, ErrInvalidParameter) {
			t.Errorf("Close(%d, %d bytes): %v", c.code, len(c.reason), err)
		}
	}
	if p.ReadyState() != StateOpen {
		t.Fatal("an invalid Close changed the state")
	}
	// 123 bytes is the longest reason, and 1012-1014 are valid codes.
	if err := p.Close(1012, strings.Repeat("é", 61)+"a"); err != nil {
		t.Fatal(err)
	}
	if code, reason := rc.expectClose(); code != 1012 || len(reason) != 123 {
		t.Fatalf("%d %d", code, len(reason))
	}
	// Close on a CLOSING peer does nothing.
	if err := p.Close(1000, ""); err != nil || p.ReadyState() != StateClosing {
		t.Fatal("second close")
	}
}

func TestCloseNegativeDropsAtOnce(t *testing.T) {
	p, rc := openServer(t, nil)
	if err := p.Close(-1, ""); err != nil {
		t.Fatal(err)
	}
	if p.ReadyState() != StateClosed || p.CloseCode() != -1 || !errors.Is(p.CloseError(), ErrDropped) {
		t.Fatalf("state %v code %d err %v", p.ReadyState(), p.CloseCode(), p.CloseError())
	}
	rc.expectEOF() // no close frame, just the TCP close
	if err := p.Wait(context.Background()); !errors.Is(err, ErrClosed) {
		t.Fatalf("Wait after CLOSED: %v", err)
	}
}

func TestCloseWhileConnecting(t *testing.T) {
	s := newRawServer(t)
	p := NewPeer()
	if err := p.ConnectToURL(s.url("/"), nil); err != nil {
		t.Fatal(err)
	}
	if err := p.Close(1000, ""); err != nil {
		t.Fatal(err)
	}
	if p.ReadyState() != StateClosed || p.CloseCode() != -1 || !errors.Is(p.CloseError(), ErrDropped) {
		t.Fatalf("state %v code %d", p.ReadyState(), p.CloseCode())
	}
	// The server side: Close before the request arrived.
	sp, _ := serverPeer(t, nil)
	sp.Close(1000, "")
	if sp.ReadyState() != StateClosed || sp.CloseCode() != -1 {
		t.Fatal("server close while connecting")
	}
}

func TestUnansweredCloseTimesOut(t *testing.T) {
	p, rc := openServer(t, func(p *Peer) { p.CloseTimeout = 200 * time.Millisecond })
	p.Close(1000, "")
	rc.expectClose() // and never answer
	pollUntil(t, p, "CLOSED", stateIs(p, StateClosed))
	if p.CloseCode() != -1 || !errors.Is(p.CloseError(), ErrCloseTimeout) {
		t.Fatalf("code %d err %v", p.CloseCode(), p.CloseError())
	}
}

func TestConnectionDroppedIsMinusOne(t *testing.T) {
	p, rc := openServer(t, nil)
	rc.write(frame(2, true, true, make([]byte, 100))[:50]) // mid-frame
	rc.conn.Close()
	pollUntil(t, p, "CLOSED", stateIs(p, StateClosed))
	if p.CloseCode() != -1 || !errors.Is(p.CloseError(), ErrConnectionLost) {
		t.Fatalf("code %d err %v", p.CloseCode(), p.CloseError())
	}
}

func TestClientWaitsForServerToCloseTCP(t *testing.T) {
	p, s := openClient(t, nil)
	s.write(frame(8, true, false, closePayload(1001, "restart")))
	// The client echoes and stays CLOSING until the server closes TCP.
	pollUntil(t, p, "CLOSING", stateIs(p, StateClosing))
	f := readFrame(t, s.br)
	if f.op != 8 || !f.masked {
		t.Fatalf("%+v", f)
	}
	p.Poll()
	if p.ReadyState() == StateClosed {
		// Possible only if the TCP close was seen, which has not happened.
		t.Fatal("client closed TCP first")
	}
	s.conn.Close()
	pollUntil(t, p, "CLOSED", stateIs(p, StateClosed))
	if p.CloseCode() != 1001 || p.CloseReason() != "restart" || p.CloseError() != nil {
		t.Fatalf("code %d reason %q err %v", p.CloseCode(), p.CloseReason(), p.CloseError())
	}
}

// Godot checklist I.8: heartbeat.

func TestHeartbeat(t *testing.T) {
	const interval = 150 * time.Millisecond
	p, rc := openServer(t, func(p *Peer) { p.HeartbeatInterval = interval })
	start := time.Now()
	// The first ping comes after one interval (not at once, as in Godot).
	pingSeen := make(chan time.Duration, 4)
	go func() {
		for i := 0; i < 3; i++ {
			f, err := tryReadFrame(rc.br)
			if err != nil || f.op != 9 {
				close(pingSeen)
				return
			}
			pingSeen <- time.Since(start)
			if i < 2 {
				rc.conn.Write(frame(10, true, true, f.payload)) // answer the first two
			}
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	for p.Wait(ctx) == nil {
		p.Poll()
	}
	for i := 0; i < 3; i++ {
		d, ok := <-pingSeen
		if !ok {
			t.Fatal("ping missing")
		}
		if d < interval*time.Duration(i+1) {
			t.Fatalf("ping %d after %v, interval %v", i, d, interval)
		}
	}
	if p.CloseCode() != -1 || !errors.Is(p.CloseError(), ErrHeartbeatTimeout) {
		t.Fatalf("code %d err %v", p.CloseCode(), p.CloseError())
	}
	if code, _ := rc.expectClose(); code != 1011 {
		t.Fatalf("sent %d", code)
	}
}

func TestMessageBeforeCloseInOneReadCanBeAnswered(t *testing.T) {
	// A message and a close frame (or a frame that is a protocol error)
	// arriving in the same read: the application still gets to answer the
	// message before the peer's close ends the connection (Autobahn 7.1.1, 3.2).
	for _, tail := range []struct {
		name string
		b    []byte
		code int
	}{
		{"close", frame(8, true, true, closePayload(1000, "")), 1000},
		{"bad frame", func() []byte { b := frame(1, true, true, []byte("x")); b[0] |= 0x20; return b }(), 1002},
	} {
		t.Run(tail.name, func(t *testing.T) {
			p, rc := openServer(t, nil)
			rc.write(append(frame(1, true, true, []byte("Hello World!")), tail.b...))
			ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
			defer cancel()
			for p.Wait(ctx) == nil {
				p.Poll()
				for p.AvailablePacketCount() > 0 {
					b, _ := p.GetPacket()
					if err := p.SendText(string(b)); err != nil {
						t.Fatalf("answer refused: %v", err)
					}
				}
			}
			if f := rc.readFrame(); f.op != 1 || string(f.payload) != "Hello World!" {
				t.Fatalf("first frame %+v, want the echo", f)
			}
			if code, _ := rc.expectClose(); code != tail.code || p.CloseCode() != tail.code {
				t.Fatalf("close %d, peer code %d, want %d", code, p.CloseCode(), tail.code)
			}
		})
	}
}
