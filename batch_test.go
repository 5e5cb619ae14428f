//go:build !js

package wspeer

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"testing"
	"time"
)

// TestTakePacketsAndSendBatch echoes a burst with the batch calls: every
// message comes back in order, with its type and bytes, including an empty
// one and one large enough for the vectored write.
func TestTakePacketsAndSendBatch(t *testing.T) {
	p, rc := openServer(t, nil)
	var want []Packet
	var burst []byte
	for i := range 50 {
		data := []byte(fmt.Sprintf("message %d", i))
		switch i {
		case 7:
			data = nil
		case 49:
			data = bytes.Repeat([]byte{byte(i)}, 5000) // the last: written with writev
		}
		text := i%3 == 0
		op := byte(2)
		if text {
			op = 1
		}
		want = append(want, Packet{Data: data, Text: text})
		burst = append(burst, frame(op, true, true, data)...)
	}
	rc.write(burst)
	pollUntil(t, p, "50 packets", func() bool { return p.AvailablePacketCount() == 50 })
	got := p.TakePackets(nil)
	if len(got) != 50 || p.AvailablePacketCount() != 0 {
		t.Fatalf("took %d, %d left", len(got), p.AvailablePacketCount())
	}
	for i := range want {
		if got[i].Text != want[i].Text || !bytes.Equal(got[i].Data, want[i].Data) {
			t.Fatalf("packet %d: %v %q, want %v %q", i, got[i].Text, got[i].Data, want[i].Text, want[i].Data)
		}
	}
	if !p.WasStringPacket() != !want[49].Text {
		t.Fatal("WasStringPacket is not the last packet's type")
	}
	if n, err := p.SendBatch(got); n != 50 || err != nil {
		t.Fatalf("SendBatch: %d, %v", n, err)
	}
	for i := range want {
		f := rc.readFrame()
		wantOp := byte(2)
		if want[i].Text {
			wantOp = 1
		}
		if f.op != wantOp || !bytes.Equal(f.payload, want[i].Data) {
			t.Fatalf("echo %d: op %d %q", i, f.op, f.payload)
		}
	}
}

func TestSendBatchStops(t *testing.T) {
	p, rc := openServer(t, func(p *Peer) { p.OutboundBufferSize = 100 })
	msgs := []Packet{{Data: []byte("ok"), Text: true}, {Data: []byte("\xff"), Text: true}, {Data: []byte("never")}}
	if n, err := p.SendBatch(msgs); n != 1 || !errors.Is(err, ErrInvalidUTF8) {
		t.Fatalf("invalid text: %d, %v", n, err)
	}
	if f := rc.readFrame(); string(f.payload) != "ok" {
		t.Fatalf("sent %q", f.payload)
	}
	// Past the budget the batch stops with ErrBufferFull or ErrTooLarge and
	// says how many went.
	big := []Packet{{Data: make([]byte, 60)}, {Data: make([]byte, 60)}, {Data: make([]byte, 60)}}
	n, err := p.SendBatch(big)
	if n < 1 || n > 2 || err == nil {
		t.Fatalf("over budget: %d, %v", n, err)
	}
	if n, err := p.SendBatch([]Packet{{Data: make([]byte, 101)}}); n != 0 || !errors.Is(err, ErrTooLarge) {
		t.Fatalf("too large: %d, %v", n, err)
	}
}

// A large message sent straight from the caller's buffer: what the socket
// does not take at once is copied before Send returns, so the caller may
// reuse its buffer at once.
func TestDirectSendCopiesTheRest(t *testing.T) {
	p, rc := openServer(t, func(p *Peer) { p.OutboundBufferSize = 16 << 20 })
	_ = rc.conn.(*net.TCPConn).SetReadBuffer(64 << 10)
	msg := make([]byte, 8<<20)
	for i := range msg {
		msg[i] = byte(i * 7)
	}
	orig := append([]byte(nil), msg...)
	if err := p.PutPacket(msg); err != nil {
		t.Fatal(err)
	}
	if p.CurrentOutboundBufferedAmount() == 0 {
		t.Fatal("8 MiB written at once to a client with a 64 KiB receive buffer: the test proves nothing")
	}
	clear(msg) // the caller reuses its buffer
	type result struct {
		f   rawFrame
		err error
	}
	done := make(chan result, 1)
	go func() {
		f, err := tryReadFrame(rc.br)
		done <- result{f, err}
	}()
	for deadline := time.Now().Add(testTimeout); time.Now().Before(deadline); {
		select {
		case r := <-done:
			if r.err != nil {
				t.Fatal(r.err)
			}
			if !bytes.Equal(r.f.payload, orig) {
				t.Fatal("the message changed with the caller's buffer")
			}
			return
		default:
			p.Poll()
			time.Sleep(100 * time.Microsecond)
		}
	}
	t.Fatal("message not received in time")
}
