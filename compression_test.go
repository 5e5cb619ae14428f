//go:build !js

package wspeer

import (
	"bytes"
	"compress/flate"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"
	"time"
)

// inflateRFC7692 decompresses a message payload as RFC 7692 describes, with
// the standard library directly.
func inflateRFC7692(t *testing.T, payload []byte) []byte {
	t.Helper()
	r := flate.NewReader(io.MultiReader(bytes.NewReader(payload), bytes.NewReader([]byte{0, 0, 0xff, 0xff, 1, 0, 0, 0xff, 0xff})))
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatalf("inflate: %v", err)
	}
	return b
}

func TestCompressionServerWithRawClient(t *testing.T) {
	p, rc := serverPeer(t, func(p *Peer) { p.Compression = true })
	rc.handshake("Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n")
	pollUntil(t, p, "OPEN", stateIs(p, StateOpen))
	resp := rc.readResponse(101)
	if ext := resp.Header.Get("Sec-WebSocket-Extensions"); ext != "permessage-deflate; server_no_context_takeover" {
		t.Fatalf("extensions %q", ext)
	}
	// RFC 7692 7.2.3.1 "Hello", masked by the client.
	f := frame(1, true, true, []byte{0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00})
	f[0] |= 0x40
	rc.write(f)
	pollUntil(t, p, "packet", func() bool { return p.AvailablePacketCount() == 1 })
	if b, _ := p.GetPacket(); string(b) != "Hello" || !p.WasStringPacket() {
		t.Fatalf("%q", b)
	}
	// Large messages go out compressed, small ones as they are.
	big := strings.Repeat("compress me please ", 1000)
	p.SendText(big)
	p.SendText("tiny")
	var raw [2]byte
	io.ReadFull(rc.br, raw[:])
	if raw[0] != 0xC1 {
		t.Fatalf("first byte %#x, want FIN|RSV1|text", raw[0])
	}
	n := int(raw[1] & 0x7F)
	if n == 126 {
		var l [2]byte
		io.ReadFull(rc.br, l[:])
		n = int(l[0])<<8 | int(l[1])
	}
	payload := make([]byte, n)
	io.ReadFull(rc.br, payload)
	if got := inflateRFC7692(t, payload); string(got) != big || n > len(big)/10 {
		t.Fatalf("inflated %d bytes from %d", len(got), n)
	}
	if f := rc.readFrame(); string(f.payload) != "tiny" || f.op != 1 {
		t.Fatalf("%+v", f)
	}
}

func TestCompressionOffNoExtension(t *testing.T) {
	// Off by default: a client's offer is declined.
	p, rc := serverPeer(t, nil)
	rc.handshake("Sec-WebSocket-Extensions: permessage-deflate\r\n")
	pollUntil(t, p, "OPEN", stateIs(p, StateOpen))
	if ext := rc.readResponse(101).Header.Get("Sec-WebSocket-Extensions"); ext != "" {
		t.Fatalf("extensions %q", ext)
	}
	f := frame(1, true, true, []byte("x"))
	f[0] |= 0x40
	rc.write(f)
	pollUntil(t, p, "CLOSED", stateIs(p, StateClosed))
	if p.CloseCode() != 1002 {
		t.Fatalf("RSV1 without the extension: %d", p.CloseCode())
	}
}

func TestCompressionClientOfferAndResponses(t *testing.T) {
	tests := []struct {
		response string
		ok       bool
	}{
		{"", true},
		{"permessage-deflate", true},
		{"permessage-deflate; server_no_context_takeover; client_max_window_bits=10", true},
		{"permessage-deflate; server_max_window_bits=10", true}, // RFC 7692 7.1.2.1: a server may state its window
		{"permessage-deflate; bogus", false},
	}
	for _, tt := range tests {
		s := newRawServer(t)
		p := NewPeer()
		p.Compression = true
		if err := p.ConnectToURL(s.url("/"), nil); err != nil {
			t.Fatal(err)
		}
		done := make(chan string, 1)
		go func() {
			req := s.accept()
			extra := ""
			if tt.response != "" {
				extra = "Sec-WebSocket-Extensions: " + tt.response + "\r\n"
			}
			s.respond(extra)
			done <- req.Header.Get("Sec-WebSocket-Extensions")
		}()
		pollUntil(t, p, "handshake", func() bool { return p.ReadyState() != StateConnecting })
		if offer := <-done; offer != "permessage-deflate; client_no_context_takeover; client_max_window_bits" {
			t.Fatalf("offer %q", offer)
		}
		if (p.ReadyState() == StateOpen) != tt.ok {
			t.Fatalf("%q: state %v err %v", tt.response, p.ReadyState(), p.CloseError())
		}
		p.Close(-1, "")
	}
}

func TestCompressionPeerToPeer(t *testing.T) {
	ln := listen(t)
	server := NewPeer()
	server.Compression = true
	server.InboundBufferSize = 1 << 20
	server.OutboundBufferSize = 1 << 20
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		server.AcceptStream(c)
		ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
		defer cancel()
		for server.Wait(ctx) == nil {
			server.Poll()
			for server.AvailablePacketCount() > 0 {
				b, _ := server.GetPacket()
				if server.WasStringPacket() {
					server.SendText(string(b))
				} else {
					server.PutPacket(b)
				}
			}
		}
	}()
	client := NewPeer()
	client.Compression = true
	client.InboundBufferSize = 1 << 20
	client.OutboundBufferSize = 1 << 20
	if err := client.ConnectToURL("ws://"+ln.Addr().(*net.TCPAddr).String()+"/", nil); err != nil {
		t.Fatal(err)
	}
	defer client.Close(-1, "")
	pollUntil(t, client, "OPEN", stateIs(client, StateOpen))
	msgs := []string{"a", strings.Repeat("x", 100000), strings.Repeat("déjà vu ", 5000), ""}
	for _, m := range msgs {
		client.SendText(m)
	}
	for i := 0; i < len(msgs); i++ {
		pollUntil(t, client, "echo", func() bool { return client.AvailablePacketCount() > 0 })
		b, _ := client.GetPacket()
		if string(b) != msgs[i] {
			t.Fatalf("echo %d: %d bytes, want %d", i, len(b), len(msgs[i]))
		}
	}
	client.Close(1000, "")
	pollUntil(t, client, "CLOSED", stateIs(client, StateClosed))
	if client.CloseCode() != 1000 {
		t.Fatal(client.CloseCode())
	}
}

func TestCompressionBombClosed1009(t *testing.T) {
	// 16 MiB of zeros in a ~16 KiB frame against a 1 MiB budget.
	var z bytes.Buffer
	fw, _ := flate.NewWriter(&z, flate.BestSpeed)
	zeros := make([]byte, 1<<20)
	for i := 0; i < 16; i++ {
		fw.Write(zeros)
	}
	fw.Flush()
	payload := bytes.TrimSuffix(z.Bytes(), []byte{0, 0, 0xff, 0xff})
	p, rc := serverPeer(t, func(p *Peer) { p.Compression = true; p.InboundBufferSize = 1 << 20 })
	rc.handshake("Sec-WebSocket-Extensions: permessage-deflate\r\n")
	pollUntil(t, p, "OPEN", stateIs(p, StateOpen))
	rc.readResponse(101)
	f := frame(2, true, true, payload)
	f[0] |= 0x40
	go rc.conn.Write(f)
	start := time.Now()
	pollUntil(t, p, "CLOSED", stateIs(p, StateClosed))
	if p.CloseCode() != 1009 || !errors.Is(p.CloseError(), ErrMessageTooBig) || p.AvailablePacketCount() != 0 {
		t.Fatalf("code %d err %v after %v", p.CloseCode(), p.CloseError(), time.Since(start))
	}
}

// TestCompressionMemoryPerConnection measures the server's heap per
// connection with permessage-deflate and the client's context takeover: 1,000
// connections each receive three 1.1 KB JSON-like messages, then sit idle.
// The bound is the target, 100 KB; gorilla's takeover-less mode costs
// 20 KB and coder's takeover 1.27 MB (shared/peers.md).
func TestCompressionMemoryPerConnection(t *testing.T) {
	const conns = 1000
	// One compressed stream with takeover, sent by every client: each server
	// inflater starts from an empty window, so the same bytes are valid for all.
	var z bytes.Buffer
	fw, _ := flate.NewWriter(&z, flate.BestSpeed)
	var frames []byte
	for i := 0; i < 3; i++ {
		msg := []byte(`{"id":` + strings.Repeat("1", i+1) + `,"user":"player-one","pos":[12.5,7.25,3.0],"inventory":["sword","shield","potion"],"text":"` + strings.Repeat("lorem ipsum dolor sit amet ", 36) + `"}`)
		start := z.Len()
		fw.Write(msg)
		fw.Flush()
		f := frame(1, true, true, bytes.TrimSuffix(z.Bytes()[start:], []byte{0, 0, 0xff, 0xff}))
		f[0] |= 0x40
		frames = append(frames, f...)
	}
	ln := listen(t)
	var ms runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms)
	before := ms.HeapInuse
	peers := make([]*Peer, 0, conns)
	clients := make([]net.Conn, 0, conns)
	defer func() {
		for i := range peers {
			peers[i].Close(-1, "")
			clients[i].Close()
		}
	}()
	req := "GET / HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: " + testKey +
		"\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Extensions: permessage-deflate\r\n\r\n"
	for i := 0; i < conns; i++ {
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		sc, err := ln.Accept()
		if err != nil {
			t.Fatal(err)
		}
		p := NewPeer()
		p.Compression = true
		if err := p.AcceptStream(sc); err != nil {
			t.Fatal(err)
		}
		peers, clients = append(peers, p), append(clients, c)
		if _, err := c.Write(append([]byte(req), frames...)); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(30 * time.Second)
	for i, p := range peers {
		got := 0
		for got < 3 {
			p.Poll()
			for p.AvailablePacketCount() > 0 {
				b, _ := p.GetPacket()
				if !bytes.HasPrefix(b, []byte(`{"id":`)) {
					t.Fatalf("peer %d: %q", i, b[:10])
				}
				got++
			}
			if p.ReadyState() != StateOpen || time.Now().After(deadline) {
				t.Fatalf("peer %d: state %v err %v", i, p.ReadyState(), p.CloseError())
			}
			if got < 3 {
				time.Sleep(time.Millisecond)
			}
		}
	}
	runtime.GC()
	runtime.ReadMemStats(&ms)
	perConn := float64(int64(ms.HeapInuse)-int64(before)) / conns
	t.Logf("heap in use per connection (server peer + client socket), compression with takeover: %.1f KB", perConn/1000)
	if perConn > 100_000 {
		t.Fatalf("%.0f bytes per connection, target 100 KB", perConn)
	}
}

func TestCompressionThroughUpgrader(t *testing.T) {
	u := &Upgrader{NewPeer: func() *Peer { p := NewPeer(); p.Compression = true; return p }}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, err := u.Upgrade(w, r)
		if err != nil {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
		defer cancel()
		for p.Wait(ctx) == nil {
			p.Poll()
			for p.AvailablePacketCount() > 0 {
				b, _ := p.GetPacket()
				p.SendText(string(b))
			}
		}
	}))
	defer srv.Close()
	c := NewPeer()
	c.Compression = true
	if err := c.ConnectToURL("ws"+strings.TrimPrefix(srv.URL, "http")+"/", nil); err != nil {
		t.Fatal(err)
	}
	defer c.Close(-1, "")
	pollUntil(t, c, "OPEN", stateIs(c, StateOpen))
	if ext := c.ResponseHeader().Get("Sec-WebSocket-Extensions"); !strings.HasPrefix(ext, "permessage-deflate") {
		t.Fatalf("extensions %q", ext)
	}
	msg := strings.Repeat("squeeze ", 5000)
	c.SendText(msg)
	pollUntil(t, c, "echo", func() bool { return c.AvailablePacketCount() == 1 })
	if b, _ := c.GetPacket(); string(b) != msg {
		t.Fatalf("echo of %d bytes", len(b))
	}
}

// A message that inflates to 4 MiB is delivered over at least 16 Polls (256
// KiB each at most), so that one loop serving many peers stays fair; Wait
// returns at once between the slices.
func TestHugeMessageDeliveredInSlices(t *testing.T) {
	var z bytes.Buffer
	fw, _ := flate.NewWriter(&z, flate.BestSpeed)
	fw.Write(make([]byte, 4<<20))
	fw.Flush()
	payload := bytes.TrimSuffix(z.Bytes(), []byte{0, 0, 0xff, 0xff})
	p, rc := serverPeer(t, func(p *Peer) { p.Compression = true; p.InboundBufferSize = 8 << 20 })
	rc.handshake("Sec-WebSocket-Extensions: permessage-deflate\r\n")
	pollUntil(t, p, "OPEN", stateIs(p, StateOpen))
	rc.readResponse(101)
	f := frame(2, true, true, payload)
	f[0] |= 0x40
	rc.write(f)
	polls := 0
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	for p.AvailablePacketCount() == 0 && p.Wait(ctx) == nil {
		p.Poll()
		polls++
	}
	b, err := p.GetPacket()
	if err != nil || len(b) != 4<<20 {
		t.Fatalf("%d bytes, %v", len(b), err)
	}
	if polls < 16 {
		t.Fatalf("4 MiB delivered in %d Polls: more than 256 KiB in one", polls)
	}
}
