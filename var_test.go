package wspeer

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"net"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/wspeer/wspeer/godot"
)

// unhex decodes spaced hex, written by hand from Godot's marshalls.cpp.
func unhex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// varPair returns an OPEN server Peer and an OPEN client Peer connected over
// loopback, using only the exported API (so this file builds for js too,
// where the tests skip: the browser build cannot accept connections).
func varPair(t *testing.T, setup func(*Peer)) (server, client *Peer) {
	t.Helper()
	if runtime.GOOS == "js" {
		t.Skip("the browser build cannot accept connections")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	server, client = NewPeer(), NewPeer()
	if setup != nil {
		setup(server)
	}
	if err := client.ConnectToURL("ws://"+ln.Addr().String()+"/", nil); err != nil {
		t.Fatal(err)
	}
	done := make(chan net.Conn, 1)
	go func() {
		c, _ := ln.Accept()
		done <- c
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var conn net.Conn
	for conn == nil {
		client.Poll()
		select {
		case conn = <-done:
		case <-ctx.Done():
			t.Fatal("no connection")
		case <-time.After(time.Millisecond):
		}
	}
	if conn == nil || server.AcceptStream(conn) != nil {
		t.Fatal("accept failed")
	}
	t.Cleanup(func() { server.Close(-1, ""); client.Close(-1, "") })
	for server.ReadyState() != StateOpen || client.ReadyState() != StateOpen {
		if ctx.Err() != nil {
			t.Fatalf("not open: server %v, client %v", server.ReadyState(), client.ReadyState())
		}
		server.Poll()
		client.Poll()
		time.Sleep(time.Millisecond)
	}
	return server, client
}

// pollFor polls both peers until p has n packets queued.
func pollFor(t *testing.T, p, other *Peer, n int) {
	t.Helper()
	end := time.Now().Add(10 * time.Second)
	for p.AvailablePacketCount() < n {
		if time.Now().After(end) {
			t.Fatalf("%d packets, want %d", p.AvailablePacketCount(), n)
		}
		other.Poll()
		p.Poll()
		time.Sleep(time.Millisecond)
	}
}

// TestPutVar checks the bytes PutVar sends in both formats, one binary
// message per value.
func TestPutVar(t *testing.T) {
	p, rc := varPair(t, nil)
	d := godot.NewDictionary()
	d.Set("a", 1)
	for _, c := range []struct {
		ver  godot.Version
		v    any
		want string
	}{
		{0, godot.Vector2{X: 1, Y: 2}, "05000000 0000803f 00000040"},
		{0, d, "1b000000 01000000 04000000 01000000 61000000 02000000 01000000"},
		{godot.Godot3, godot.Color{R: 1, A: 1}, "0e000000 0000803f 00000000 00000000 0000803f"},
		{godot.Godot3, map[string]int{"a": 1}, "12000000 01000000 04000000 01000000 61000000 02000000 01000000"},
		{godot.Godot4, nil, "00000000"},
	} {
		p.Variant.Version = c.ver
		if err := p.PutVar(c.v); err != nil {
			t.Fatalf("PutVar(%#v): %v", c.v, err)
		}
		pollFor(t, rc, p, 1)
		got, err := rc.GetPacket()
		if err != nil || rc.WasStringPacket() || !bytes.Equal(got, unhex(t, c.want)) {
			t.Errorf("PutVar(%#v) sent %x (text %v, %v), want binary %s", c.v, got, rc.WasStringPacket(), err, c.want)
		}
	}
}

// TestPutVarLimits checks EncodeBufferMaxSize as Godot's PacketPeer has it:
// 8 MiB by default, 1 KiB..256 MiB, rounded up to a power of two, and an
// encoding beyond it refused with nothing sent. Bad values send nothing.
func TestPutVarLimits(t *testing.T) {
	p, rc := varPair(t, func(p *Peer) { p.OutboundBufferSize = 16 << 20 })
	if err := p.PutVar(make([]byte, 8<<20)); !errors.Is(err, ErrTooLarge) {
		t.Errorf("8 MiB + 8 bytes with the default limit: %v, want ErrTooLarge", err)
	}
	p.EncodeBufferMaxSize = 1000
	if err := p.PutVar(1); !errors.Is(err, ErrInvalidParameter) {
		t.Errorf("EncodeBufferMaxSize 1000: %v, want ErrInvalidParameter", err)
	}
	p.EncodeBufferMaxSize = 300 << 20
	if err := p.PutVar(1); !errors.Is(err, ErrInvalidParameter) {
		t.Errorf("EncodeBufferMaxSize 300 MiB: %v, want ErrInvalidParameter", err)
	}
	p.EncodeBufferMaxSize = 1500 // rounds up to 2048
	if err := p.PutVar(make([]byte, 2041)); !errors.Is(err, ErrTooLarge) {
		t.Errorf("2052-byte encoding with 2048: %v, want ErrTooLarge", err)
	}
	if err := p.PutVar(make(chan int)); !errors.Is(err, godot.ErrUnsupported) {
		t.Errorf("PutVar(chan): %v, want godot.ErrUnsupported", err)
	}
	if err := p.PutVar(make([]byte, 2040)); err != nil {
		t.Fatalf("2048-byte encoding with 2048: %v", err)
	}
	pollFor(t, rc, p, 1)
	if b, _ := rc.GetPacket(); len(b) != 2048 || rc.AvailablePacketCount() != 0 {
		t.Errorf("first message is %d bytes, want the 2048-byte one alone (the refused ones sent nothing)", len(b))
	}
	p.Close(1000, "")
	p.Poll()
	if err := p.PutVar(1); !errors.Is(err, ErrNotOpen) {
		t.Errorf("PutVar when closing: %v, want ErrNotOpen", err)
	}
}

// TestGetVar checks decoding of received messages: values, a bad message
// consumed with an error naming its offset, whole Objects refused unless
// allowed, and ErrNoPacket when empty.
func TestGetVar(t *testing.T) {
	p, rc := varPair(t, nil)
	msgs := []string{
		"14000000 0000803f 00000000 00000000 0000803f", // Godot 4 Color
		"1c000000 05000000",                            // Array of 5 with nothing after
		"18000000 01000000 41000000 00000000",          // whole Object of class A
		"02000000 07000000",                            // int 7 as a text message
		"18000000 01000000 41000000 00000000",
	}
	for i, m := range msgs {
		mode := WriteModeBinary
		if i == 3 {
			mode = WriteModeText
		}
		if err := rc.Send(unhex(t, m), mode); err != nil {
			t.Fatal(err)
		}
	}
	pollFor(t, p, rc, 5)
	v, err := p.GetVar()
	if err != nil || v != (godot.Color{R: 1, A: 1}) {
		t.Errorf("Color: %#v, %v", v, err)
	}
	_, err = p.GetVar()
	var de *godot.DecodeError
	if !errors.Is(err, godot.ErrTruncated) || !errors.As(err, &de) || de.Offset != 8 || de.Type != "Array" {
		t.Errorf("truncated Array: %v", err)
	}
	if _, err := p.GetVar(); !errors.Is(err, godot.ErrObjectsNotAllowed) {
		t.Errorf("whole Object: %v, want ErrObjectsNotAllowed", err)
	}
	if v, err := p.GetVar(); err != nil || v != int64(7) || !p.WasStringPacket() {
		t.Errorf("text message: %#v, %v, WasStringPacket %v", v, err, p.WasStringPacket())
	}
	p.Variant.AllowObjects = true
	if v, err := p.GetVar(); err != nil || v.(godot.Object).Class != "A" {
		t.Errorf("whole Object allowed: %#v, %v", v, err)
	}
	if _, err := p.GetVar(); !errors.Is(err, ErrNoPacket) {
		t.Errorf("empty queue: %v, want ErrNoPacket", err)
	}
}
