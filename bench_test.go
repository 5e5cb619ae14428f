//go:build !js

package wspeer

import (
	"context"
	"io"
	"net"
	"testing"
)

// BenchmarkPollEcho measures a server Peer echoing a pipelined stream of
// masked client frames over loopback TCP: one Poll reads what the socket
// holds, the packets are drained and sent back, and the next Poll writes
// them. Bytes per op are the payload bytes echoed.
func BenchmarkPollEcho(b *testing.B) {
	for _, size := range []int{64, 1024, 16 << 10, 1 << 20} {
		b.Run(sizeName(size), func(b *testing.B) { benchmarkPollEcho(b, size, echoGet) })
		b.Run(sizeName(size)+"-append", func(b *testing.B) { benchmarkPollEcho(b, size, echoAppend) })
		b.Run(sizeName(size)+"-take", func(b *testing.B) { benchmarkPollEcho(b, size, echoTake) })
	}
}

func sizeName(n int) string {
	if n >= 1<<20 {
		return itoa(n>>20) + "MiB"
	}
	if n >= 1024 {
		return itoa(n/1024) + "KiB"
	}
	return itoa(n) + "B"
}

// The ways an application can drain and echo packets.
const (
	echoGet    = iota // GetPacket (a copy it owns) and PutPacket
	echoAppend        // AppendPacket into a reused buffer and PutPacket
	echoTake          // TakePackets (lent) and SendBatch
)

func benchmarkPollEcho(b *testing.B, size int, mode int) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	sc, _ := ln.Accept()
	p := NewPeer()
	p.InboundBufferSize = 4 << 20
	p.OutboundBufferSize = 4 << 20
	p.AcceptStream(sc)
	defer p.Close(-1, "")
	req := "GET / HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: " + testKey + "\r\nSec-WebSocket-Version: 13\r\n\r\n"
	c.Write([]byte(req))
	for p.ReadyState() != StateOpen {
		p.Poll()
	}
	// Read the 101 response.
	resp := make([]byte, 129)
	io.ReadFull(c, resp)

	batch := max(1, min(64, (1<<20)/size))
	one := frame(2, true, true, make([]byte, size))
	var burst []byte
	for i := 0; i < batch; i++ {
		burst = append(burst, one...)
	}
	echoLen := (len(one) - 4) * batch // server frames are unmasked
	go func() {
		buf := make([]byte, 256<<10)
		for {
			if _, err := c.Write(burst); err != nil {
				return
			}
			for got := 0; got < echoLen; {
				n, err := c.Read(buf[:min(len(buf), echoLen-got)])
				if err != nil {
					return
				}
				got += n
			}
		}
	}()
	var dst []byte
	var pks []Packet
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	b.SetBytes(int64(size))
	b.ReportAllocs()
	b.ResetTimer()
	for done := 0; done < b.N && p.Wait(ctx) == nil; {
		p.Poll()
		if mode == echoTake {
			pks = p.TakePackets(pks[:0])
			for sent := 0; sent < len(pks); {
				n, _ := p.SendBatch(pks[sent:])
				if sent += n; sent < len(pks) {
					// Full: only write what is queued; a Poll would end the
					// loan of the packets not yet sent.
					p.mu.Lock()
					p.flushLocked()
					p.mu.Unlock()
				}
			}
			done += len(pks)
			continue
		}
		for p.AvailablePacketCount() > 0 {
			var msg []byte
			if mode == echoAppend {
				dst, _ = p.AppendPacket(dst[:0])
				msg = dst
			} else {
				msg, _ = p.GetPacket()
			}
			for p.PutPacket(msg) != nil {
				p.Poll()
			}
			done++
		}
	}
}
