//go:build !js

package wspeer

import (
	"context"
	"errors"
	"io"
	"net"
	"sync"
	"testing"
	"time"
)

// FuzzPeerServer drives a server Peer with arbitrary bytes (an opening
// handshake, then frames) through net.Pipe, in chunks of a fuzzed size, with
// small budgets and timeouts. The Peer must never panic, never exceed its
// budgets, echo what it can, and end in a consistent state; after Close(-1) it
// is CLOSED. Each input takes at most a few hundred milliseconds.
//
//	go test -run XXX -fuzz FuzzPeerServer -fuzztime 30s .
func FuzzPeerServer(f *testing.F) {
	req := validRequest()
	with := func(parts ...[]byte) []byte {
		b := append([]byte{}, req...)
		for _, p := range parts {
			b = append(b, p...)
		}
		return b
	}
	f.Add(with(frame(1, true, true, []byte("hello")), frame(8, true, true, closePayload(1000, "bye"))), uint8(0), false)
	f.Add(with(frame(1, false, true, []byte("frag")), frame(9, true, true, []byte("ping")), frame(10, true, true, nil),
		frame(0, true, true, []byte("ment")), frame(2, true, true, make([]byte, 300))), uint8(7), true)
	f.Add(with(maskedHeader(2, true, 1<<63-1)), uint8(3), false)
	f.Add(with(frame(2, true, true, make([]byte, 5000))), uint8(0), true)
	f.Add(with(frame(1, false, true, []byte("\xe2\x82")), frame(0, true, true, []byte("\xac\xff"))), uint8(1), false)
	f.Add(with(frame(8, true, true, closePayload(1004, ""))), uint8(0), false)
	f.Add(req, uint8(0), true)
	f.Add(req[:30], uint8(5), true)
	f.Add([]byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n"), uint8(0), false)
	f.Add([]byte("\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03"), uint8(0), false)

	f.Fuzz(func(t *testing.T, data []byte, chunk uint8, keepOpen bool) {
		const (
			inMax      = 4096
			outMax     = 4096
			maxPackets = 16
		)
		cli, srv := net.Pipe()
		p := NewPeer()
		p.HandshakeTimeout = 100 * time.Millisecond
		p.CloseTimeout = 100 * time.Millisecond
		p.InboundBufferSize = inMax
		p.OutboundBufferSize = outMax
		p.MaxQueuedPackets = maxPackets
		if err := p.AcceptStream(srv); err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		wg.Add(2)
		go func() { // the remote: reads and discards everything
			defer wg.Done()
			io.Copy(io.Discard, cli)
		}()
		wrote := make(chan struct{})
		go func() { // the remote: writes data in chunks
			defer wg.Done()
			defer close(wrote)
			cli.SetWriteDeadline(time.Now().Add(300 * time.Millisecond))
			for b := data; len(b) > 0; {
				n := len(b)
				if chunk > 0 && int(chunk) < n {
					n = int(chunk)
				}
				if _, err := cli.Write(b[:n]); err != nil {
					return
				}
				b = b[n:]
			}
			if !keepOpen {
				cli.Close()
			}
		}()
		defer func() {
			cli.Close()
			wg.Wait()
		}()

		// Run until CLOSED, 400 ms at most, and 10 ms after the last byte
		// was written: time enough to process it.
		ctx, cancel := context.WithTimeout(context.Background(), 400*time.Millisecond)
		defer cancel()
		go func() {
			select {
			case <-wrote:
				select {
				case <-time.After(10 * time.Millisecond):
				case <-ctx.Done():
				}
			case <-ctx.Done():
			}
			cancel()
		}()
		check := func() {
			p.mu.Lock()
			defer p.mu.Unlock()
			if n := len(p.packets) - p.phead; n > maxPackets {
				t.Fatalf("%d packets queued, MaxQueuedPackets %d", n, maxPackets)
			}
			if n := p.cfg.inMax - p.inboundRoomLocked(); n > inMax {
				t.Fatalf("%d unread bytes, InboundBufferSize %d", n, inMax)
			}
			if p.outBytes > outMax {
				t.Fatalf("%d bytes queued, OutboundBufferSize %d", p.outBytes, outMax)
			}
			if n := len(p.wbuf) - p.woff; n > maxControlBacklog+outMax+14*maxPackets+2*readBufSize {
				t.Fatalf("write buffer holds %d bytes", n)
			}
		}
		for {
			p.Poll()
			check()
			// Echo what arrived, as far as the outbound budget allows.
			for p.AvailablePacketCount() > 0 {
				b, err := p.GetPacket()
				if err != nil {
					t.Fatalf("GetPacket with packets queued: %v", err)
				}
				if p.ReadyState() == StateOpen {
					mode := WriteModeBinary
					if p.WasStringPacket() {
						mode = WriteModeText
					}
					if err := p.Send(b, mode); err != nil && !errors.Is(err, ErrBufferFull) && !errors.Is(err, ErrTooLarge) && !errors.Is(err, ErrNotOpen) {
						t.Fatalf("echo: %v", err)
					}
				}
			}
			if p.ReadyState() == StateClosed {
				break
			}
			if err := p.Wait(ctx); err != nil && !errors.Is(err, ErrClosed) {
				break
			}
		}
		p.Poll()
		check()

		// The end state is consistent.
		code, cerr := p.CloseCode(), p.CloseError()
		switch st := p.ReadyState(); st {
		case StateClosed:
			switch {
			case code == -1:
				if cerr == nil {
					t.Fatal("CLOSED -1 without a CloseError")
				}
			case code == 1002 || code == 1007 || code == 1009:
				if cerr != nil && !errors.Is(cerr, ErrProtocol) && !errors.Is(cerr, ErrConnectionLost) {
					t.Fatalf("CLOSED %d with %v", code, cerr)
				}
			case code == 1005 || (code >= 1000 && code <= 4999):
			default:
				t.Fatalf("CLOSED with code %d", code)
			}
		case StateOpen, StateClosing:
			if code != -1 && st == StateOpen {
				t.Fatalf("OPEN with close code %d", code)
			}
		case StateConnecting:
			if code != -1 {
				t.Fatalf("CONNECTING with close code %d", code)
			}
		default:
			t.Fatalf("state %v", st)
		}
		if err := p.Close(-1, ""); err != nil {
			t.Fatal(err)
		}
		if p.ReadyState() != StateClosed {
			t.Fatalf("Close(-1) left %v", p.ReadyState())
		}
		if p.CloseError() == nil && p.CloseCode() == -1 {
			t.Fatal("dropped without a CloseError")
		}
		if _, err := p.GetPacket(); !errors.Is(err, ErrNoPacket) {
			t.Fatalf("GetPacket after batching: %v", err)
		}
	})
}
