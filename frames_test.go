//go:build !js

package wspeer

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

// Godot checklist I.5: frames on the wire and protocol errors.

func TestOutgoingFramesServerUnmasked(t *testing.T) {
	p, rc := openServer(t, nil)
	msgs := []struct {
		data []byte
		mode WriteMode
	}{{[]byte("hi"), WriteModeText}, {bytes.Repeat([]byte{9}, 300), WriteModeBinary}, {nil, WriteModeBinary}, {[]byte{}, WriteModeText}}
	for _, m := range msgs {
		if err := p.Send(m.data, m.mode); err != nil {
			t.Fatal(err)
		}
	}
	for _, m := range msgs {
		f := rc.readFrame()
		wantOp := byte(2)
		if m.mode == WriteModeText {
			wantOp = 1
		}
		if !f.fin || f.masked || f.op != wantOp || !bytes.Equal(f.payload, m.data) {
			t.Fatalf("frame %+v for %v", f, m)
		}
	}
}

func TestOutgoingFramesClientMasked(t *testing.T) {
	p, s := openClient(t, nil)
	if err := p.SendText("hello"); err != nil {
		t.Fatal(err)
	}
	if err := p.PutPacket(bytes.Repeat([]byte{1}, 70000)); !errors.Is(err, ErrTooLarge) || errors.Is(err, ErrBufferFull) {
		t.Fatalf("over the outbound budget: %v", err)
	}
	if err := p.PutPacket(bytes.Repeat([]byte{1}, 65535-5)); err != nil {
		t.Fatal(err)
	}
	f := readFrame(t, s.br)
	if !f.masked || !f.fin || f.op != 1 || string(f.payload) != "hello" {
		t.Fatalf("%+v", f)
	}
	pollUntil(t, p, "flushed", func() bool { return p.CurrentOutboundBufferedAmount() == 0 })
	f = readFrame(t, s.br)
	if !f.masked || len(f.payload) != 65530 {
		t.Fatalf("%v %d", f.masked, len(f.payload))
	}
}

func TestProtocolErrorsCloseWithCode(t *testing.T) {
	tests := []struct {
		name string
		in   []byte
		code int
	}{
		{"unmasked from client", frame(1, true, false, []byte("x")), 1002},
		{"reserved opcode", frame(3, true, true, nil), 1002},
		{"rsv1 without extension", func() []byte { b := frame(1, true, true, []byte("x")); b[0] |= 0x40; return b }(), 1002},
		{"continuation without start", frame(0, true, true, []byte("x")), 1002},
		{"nested data frame", append(frame(1, false, true, []byte("a")), frame(1, true, true, []byte("b"))...), 1002},
		{"long ping", frame(9, true, true, make([]byte, 126)), 1002},
		{"fragmented ping", frame(9, false, true, nil), 1002},
		{"non-minimal length", []byte{0x82, 0xFE, 0x00, 0x01, 0, 0, 0, 0, 0}, 1002},
		{"invalid utf8", frame(1, true, true, []byte{0xC0, 0xAF}), 1007},
		{"invalid close code", frame(8, true, true, closePayload(1004, "")), 1002},
		{"1015 close code", frame(8, true, true, closePayload(1015, "")), 1002},
		{"one-byte close", frame(8, true, true, []byte{3}), 1002},
		{"close reason not utf8", frame(8, true, true, closePayload(1000, "\xff")), 1007},
		{"message too big", frame(2, true, true, make([]byte, 65536)), 1009},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, rc := openServer(t, nil)
			rc.write(tt.in)
			pollUntil(t, p, "CLOSED", stateIs(p, StateClosed))
			if code, _ := rc.expectClose(); code != tt.code {
				t.Fatalf("sent close %d, want %d", code, tt.code)
			}
			rc.expectEOF()
			if p.CloseCode() != tt.code || p.CloseReason() == "" || !errors.Is(p.CloseError(), ErrProtocol) {
				t.Fatalf("code %d reason %q err %v", p.CloseCode(), p.CloseReason(), p.CloseError())
			}
		})
	}
}

func TestPingAnsweredAndControlFramesNotSpliced(t *testing.T) {
	p, rc := openServer(t, nil)
	var in []byte
	in = append(in, frame(1, false, true, []byte("frag"))...)
	in = append(in, frame(9, true, true, []byte("ping-data"))...)
	in = append(in, frame(10, true, true, []byte("unsolicited"))...)
	in = append(in, frame(0, true, true, []byte("ment"))...)
	rc.write(in)
	pollUntil(t, p, "packet", func() bool { return p.AvailablePacketCount() == 1 })
	if b, _ := p.GetPacket(); string(b) != "fragment" {
		t.Fatalf("message %q", b)
	}
	if f := rc.readFrame(); f.op != 10 || string(f.payload) != "ping-data" {
		t.Fatalf("pong %+v", f)
	}
}

// Godot checklist I.6: limits.

func TestInboundLimitExactAndOver(t *testing.T) {
	p, rc := openServer(t, func(p *Peer) { p.InboundBufferSize = 1000 })
	rc.write(frame(2, true, true, make([]byte, 1000)))
	pollUntil(t, p, "packet", func() bool { return p.AvailablePacketCount() == 1 })
	b, _ := p.GetPacket()
	if len(b) != 1000 {
		t.Fatal(len(b))
	}
	// A fragmented message over the budget closes with 1009 however it is split.
	for i := 0; i < 10; i++ {
		rc.write(frame(map[bool]byte{true: 2, false: 0}[i == 0], false, true, make([]byte, 100)))
	}
	rc.write(frame(0, true, true, []byte{1}))
	pollUntil(t, p, "CLOSED", stateIs(p, StateClosed))
	if p.CloseCode() != 1009 || !errors.Is(p.CloseError(), ErrMessageTooBig) {
		t.Fatalf("code %d err %v", p.CloseCode(), p.CloseError())
	}
	if code, _ := rc.expectClose(); code != 1009 {
		t.Fatalf("sent %d", code)
	}
}

func TestOutboundLimit(t *testing.T) {
	p, _ := openServer(t, func(p *Peer) { p.OutboundBufferSize = 100; p.MaxQueuedPackets = 3 })
	if err := p.Send(make([]byte, 101), WriteModeBinary); !errors.Is(err, ErrTooLarge) || errors.Is(err, ErrBufferFull) {
		t.Fatalf("101 > 100 can never fit: %v", err)
	}
	if err := p.Send(make([]byte, 100), WriteModeBinary); err != nil {
		t.Fatalf("exactly the budget: %v", err)
	}
	if err := p.Send(make([]byte, 1), WriteModeBinary); err != nil && (!errors.Is(err, ErrBufferFull) || errors.Is(err, ErrTooLarge)) {
		t.Fatalf("1 byte behind a full budget is 'full now': %v", err)
	}
	if err := p.SendText("x\xff"); !errors.Is(err, ErrInvalidUTF8) {
		t.Fatalf("invalid text: %v", err)
	}
	if err := p.Send([]byte("\xff"), WriteModeText); !errors.Is(err, ErrInvalidUTF8) {
		t.Fatalf("invalid text: %v", err)
	}
	if err := p.Send(nil, WriteMode(7)); !errors.Is(err, ErrInvalidParameter) {
		t.Fatalf("bad mode: %v", err)
	}
}

func TestSlowReaderBackpressure(t *testing.T) {
	// The raw client does not read: sends succeed until the outbound budget
	// is full, then fail with ErrBufferFull; once the client reads, the queue
	// drains and every message arrives, whole and in order.
	p, rc := openServer(t, func(p *Peer) { p.OutboundBufferSize = 1 << 20 })
	msg := make([]byte, 16<<10)
	sent := 0
	for i := 0; i < 10000; i++ {
		copy(msg, fmt.Sprintf("%08d", i))
		err := p.PutPacket(msg)
		if errors.Is(err, ErrBufferFull) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		sent++
	}
	if sent == 10000 || p.CurrentOutboundBufferedAmount() == 0 {
		t.Fatalf("budget never reached: %d sent", sent)
	}
	done := make(chan error, 1)
	go func() {
		for i := 0; i < sent; i++ {
			f, err := tryReadFrame(rc.br)
			if err != nil {
				done <- err
				return
			}
			if want := fmt.Sprintf("%08d", i); string(f.payload[:8]) != want || len(f.payload) != len(msg) {
				done <- fmt.Errorf("message %d: got %q", i, f.payload[:8])
				return
			}
		}
		done <- nil
	}()
	pollUntil(t, p, "drained", func() bool { return p.CurrentOutboundBufferedAmount() == 0 })
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func TestInboundQueueBackpressure(t *testing.T) {
	// MaxQueuedPackets unread messages pause reading without dropping;
	// draining resumes it.
	p, rc := openServer(t, func(p *Peer) { p.MaxQueuedPackets = 4 })
	const total = 50
	go func() {
		for i := 0; i < total; i++ {
			rc.conn.Write(frame(1, true, true, []byte(fmt.Sprintf("m%03d", i))))
		}
	}()
	pollUntil(t, p, "queue full", func() bool { return p.AvailablePacketCount() == 4 })
	for i := 0; i < 20; i++ {
		p.Poll()
		time.Sleep(time.Millisecond)
	}
	if n := p.AvailablePacketCount(); n != 4 {
		t.Fatalf("queue holds %d, limit 4", n)
	}
	for i := 0; i < total; i++ {
		pollUntil(t, p, "packet", func() bool { return p.AvailablePacketCount() > 0 })
		b, err := p.GetPacket()
		if err != nil || string(b) != fmt.Sprintf("m%03d", i) {
			t.Fatalf("packet %d: %q %v", i, b, err)
		}
	}
}

// Godot checklist I.9: PacketPeer behaviour.
func TestPacketPeerBehaviour(t *testing.T) {
	p, rc := openServer(t, nil)
	if _, err := p.GetPacket(); !errors.Is(err, ErrNoPacket) {
		t.Fatalf("empty queue: %v", err)
	}
	if err := p.PutPacket(nil); err != nil {
		t.Fatal(err)
	}
	if err := p.Send(nil, WriteModeBinary); err != nil {
		t.Fatal(err)
	}
	// PutPacket([]) sent nothing: the first frame is Send's empty binary frame.
	if f := rc.readFrame(); f.op != 2 || len(f.payload) != 0 {
		t.Fatalf("%+v", f)
	}
	rc.write(append(frame(1, true, true, []byte("t")), frame(2, true, true, []byte("b"))...))
	pollUntil(t, p, "packets", func() bool { return p.AvailablePacketCount() == 2 })
	if p.WasStringPacket() {
		t.Fatal("WasStringPacket before any packet")
	}
	p.GetPacket()
	if !p.WasStringPacket() {
		t.Fatal("text packet")
	}
	p.GetPacket()
	if p.WasStringPacket() {
		t.Fatal("binary packet")
	}
	// Not OPEN: sends fail with ErrNotOpen.
	p.Close(1000, "")
	if err := p.SendText("x"); !errors.Is(err, ErrNotOpen) {
		t.Fatalf("send while CLOSING: %v", err)
	}
	if err := NewPeer().SendText("x"); !errors.Is(err, ErrNotOpen) {
		t.Fatalf("send while CLOSED: %v", err)
	}
}

func TestConcurrentSendersKeepMessagesWhole(t *testing.T) {
	p, rc := openServer(t, func(p *Peer) { p.OutboundBufferSize = 64 << 20; p.MaxQueuedPackets = 1 << 16 })
	const senders, each = 16, 50
	var wg sync.WaitGroup
	for g := 0; g < senders; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < each; i++ {
				msg := strings.Repeat(fmt.Sprintf("%02d", g), 500+i)
				for p.SendText(msg) != nil {
					time.Sleep(time.Millisecond)
				}
				p.Poll()
			}
		}(g)
	}
	got := map[int]int{}
	done := make(chan error, 1)
	go func() {
		for i := 0; i < senders*each; i++ {
			f, err := tryReadFrame(rc.br)
			if err != nil {
				done <- err
				return
			}
			s := string(f.payload)
			g := s[:2]
			if strings.Count(s, g) != len(s)/2 || len(s)%2 != 0 {
				done <- fmt.Errorf("interleaved message %q", s[:20])
				return
			}
			var n int
			fmt.Sscanf(g, "%d", &n)
			if want := 500 + got[n]; len(s)/2 != want {
				done <- fmt.Errorf("sender %d: message of %d, want %d", n, len(s)/2, want)
				return
			}
			got[n]++
		}
		done <- nil
	}()
	wg.Wait()
	pollUntil(t, p, "flushed", func() bool { return p.CurrentOutboundBufferedAmount() == 0 })
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func TestLargeMessagesDirectReadPath(t *testing.T) {
	// Large frames take the path that reads payload straight into the
	// message buffer; fragments, masking and UTF-8 must come out intact.
	p, rc := openServer(t, func(p *Peer) { p.InboundBufferSize = 8 << 20 })
	text := []byte(strings.Repeat("héllo wörld ✓ ", 200000)) // 3.4 MB of multi-byte text
	bin := make([]byte, 3<<20)
	for i := range bin {
		bin[i] = byte(i * 7)
	}
	go func() {
		rc.conn.Write(frame(1, false, true, text[:1<<20+3])) // split inside a character
		rc.conn.Write(frame(0, true, true, text[1<<20+3:]))
		rc.conn.Write(frame(2, true, true, bin))
	}()
	pollUntil(t, p, "two packets", func() bool { return p.AvailablePacketCount() == 2 })
	got, _ := p.GetPacket()
	if !bytes.Equal(got, text) || !p.WasStringPacket() {
		t.Fatalf("text: %d bytes", len(got))
	}
	got, _ = p.GetPacket()
	if !bytes.Equal(got, bin) || p.WasStringPacket() {
		t.Fatalf("binary: %d bytes", len(got))
	}
	// Invalid UTF-8 deep inside a large text frame still fails with 1007.
	bad := append([]byte(strings.Repeat("a", 300000)), 0xff)
	bad = append(bad, strings.Repeat("b", 100000)...)
	rc.write(frame(1, true, true, bad))
	pollUntil(t, p, "CLOSED", stateIs(p, StateClosed))
	if p.CloseCode() != 1007 {
		t.Fatalf("code %d", p.CloseCode())
	}
}

// The server's last messages, its close frame and its TCP close arrive while
// the client's inbound queue is full: once the application drains the queue,
// it gets every message and a clean close, not "connection lost".
func TestEndOfInputBehindAFullQueue(t *testing.T) {
	p, s := openClient(t, func(p *Peer) { p.InboundBufferSize = 10 })
	s.write(frame(1, true, false, []byte("ok")))
	s.write(frame(1, true, false, []byte("0123456789")))
	s.write(frame(1, true, false, []byte("last")))
	s.write(frame(8, true, false, closePayload(1000, "bye")))
	s.conn.Close()
	var got []string
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	for p.Wait(ctx) == nil {
		p.Poll()
		// Poll once more before draining, so that the end of input is read
		// while parsing is paused.
		if p.AvailablePacketCount() > 0 {
			time.Sleep(10 * time.Millisecond) // let the EOF arrive behind the paused frames
			p.Poll()
			for p.AvailablePacketCount() > 0 {
				b, _ := p.GetPacket()
				got = append(got, string(b))
			}
		}
	}
	if strings.Join(got, ",") != "ok,0123456789,last" {
		t.Fatalf("messages %q", got)
	}
	if p.CloseCode() != 1000 || p.CloseReason() != "bye" {
		t.Fatalf("close %d %q err %v", p.CloseCode(), p.CloseReason(), p.CloseError())
	}
}
