package main

import (
	"bytes"
	"encoding/hex"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/wspeer/wspeer"
)

// hexBytes decodes spaced hex written by hand from Godot's marshalls.cpp.
func hexBytes(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestEchoGodotVar4 runs echo -godot-var 4: Variants come back re-encoded
// (Godot's own encoding of them), text messages unchanged, and a binary
// message that is no Variant closes the connection with 1007.
func TestEchoGodotVar4(t *testing.T) {
	t.Parallel()
	_, url := startServer(t, "echo", "-godot-var", "4")
	p := dial(t, url, nil)
	for _, c := range []struct{ send, want string }{
		{"1b000000 01000000 04000000 01000000 61000000 14000000 0000803f 00000000 00000000 0000803f",
			"1b000000 01000000 04000000 01000000 61000000 14000000 0000803f 00000000 00000000 0000803f"}, // {"a": Color(1, 0, 0, 1)}
		{"02000100 0500000000000000", "02000000 05000000"},                                           // int 5 sent as 64-bit: Godot writes 32 bits
		{"05000100 000000000000f03f 0000000000000040", "05000100 000000000000f03f 0000000000000040"}, // double-precision Vector2 kept
		{"22000000 01000000 03000000 61620000", "22000000 01000000 03000000 61620000"},               // PackedStringArray("ab")
	} {
		if err := p.PutPacket(hexBytes(t, c.send)); err != nil {
			t.Fatal(err)
		}
		got, text := recv(t, p, 10*time.Second)
		if text || !bytes.Equal(got, hexBytes(t, c.want)) {
			t.Errorf("sent %s, got %x (text %v), want %s", c.send, got, text, c.want)
		}
	}
	if err := p.SendText("not a variant"); err != nil {
		t.Fatal(err)
	}
	if got, text := recv(t, p, 10*time.Second); !text || string(got) != "not a variant" {
		t.Errorf("text message came back as %q (text %v)", got, text)
	}
	if err := p.PutPacket(hexBytes(t, "1c000000 05000000")); err != nil { // an Array of 5 with nothing in it
		t.Fatal(err)
	}
	waitClosed(t, p)
	if p.CloseCode() != 1007 || !strings.Contains(p.CloseReason(), "Array at offset 8") {
		t.Errorf("closed %d %q, want 1007 naming the offset", p.CloseCode(), p.CloseReason())
	}
}

// TestEchoGodotVar3 runs echo -godot-var 3: Godot 3's ids, and Godot 4's
// Color (id 20, Godot 3's PoolByteArray) is refused.
func TestEchoGodotVar3(t *testing.T) {
	t.Parallel()
	_, url := startServer(t, "echo", "-godot-var", "3")
	p := dial(t, url, nil)
	color3 := hexBytes(t, "0e000000 0000803f 00000000 00000000 0000803f")
	if err := p.PutPacket(color3); err != nil {
		t.Fatal(err)
	}
	if got, _ := recv(t, p, 10*time.Second); !bytes.Equal(got, color3) {
		t.Errorf("Godot 3 Color came back as %x", got)
	}
	if err := p.PutPacket(hexBytes(t, "14000000 0000803f 00000000 00000000 0000803f")); err != nil {
		t.Fatal(err)
	}
	waitClosed(t, p)
	if p.CloseCode() != 1007 || !strings.Contains(p.CloseReason(), "PoolByteArray") {
		t.Errorf("closed %d %q, want 1007 about a PoolByteArray", p.CloseCode(), p.CloseReason())
	}
	bad := start(t, "echo", "-godot-var", "5", "-listen", "127.0.0.1:0")
	if code := bad.exit(10 * time.Second); code != exitUsage {
		t.Errorf("-godot-var 5: exit %d, want %d", code, exitUsage)
	}
}

// TestConnectGodotVar runs connect -godot-var 4 against a library server:
// stdin lines in var_to_str form arrive as put_var bytes, binary messages
// print in that form, and a line that does not parse is reported and skipped.
func TestConnectGodotVar(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	c := start(t, "connect", "-godot-var", "4", "ws://"+ln.Addr().String()+"/")
	conn, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	srv := wspeer.NewPeer()
	if err := srv.AcceptStream(conn); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close(-1, "") })
	for end := time.Now().Add(10 * time.Second); !strings.Contains(c.stderr.String(), "connected to"); {
		if time.Now().After(end) {
			t.Fatal("connect did not connect")
		}
		srv.Poll() // the server's handshake runs in Poll
		time.Sleep(5 * time.Millisecond)
	}
	c.stdin.Write([]byte("{\"a\": Vector2(1, 2)}\nVector2(1\n[1, &\"n\"]\n"))
	for _, want := range []string{
		"1b000000 01000000 04000000 01000000 61000000 05000000 0000803f 00000040",
		"1c000000 02000000 02000000 01000000 15000000 01000000 6e000000",
	} {
		got, _ := recv(t, srv, 10*time.Second)
		if !bytes.Equal(got, hexBytes(t, want)) {
			t.Errorf("connect sent %x, want %s", got, want)
		}
	}
	c.waitStderr("line 2 not sent", 10*time.Second)
	for _, m := range []struct{ send, want string }{
		{"14000000 0000803f 00000000 00000000 0000803f", "Color(1, 0, 0, 1)"},
		{"1b000000 01000000 04000000 01000000 61000000 02000000 01000000", `{"a": 1}`},
		{"01000000", "[binary 4 bytes] 01000000"}, // truncated bool: shown as hex
	} {
		if err := srv.PutPacket(hexBytes(t, m.send)); err != nil {
			t.Fatal(err)
		}
		srv.Poll() // writes it
		if got := c.line(10 * time.Second); got != m.want {
			t.Errorf("connect printed %q, want %q", got, m.want)
		}
	}
	c.stdin.Close()
	waitClosed(t, srv)
	if code := c.exit(10 * time.Second); code != 0 {
		t.Errorf("connect exit %d", code)
	}
}
