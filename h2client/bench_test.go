package h2client_test

import (
	"context"
	"testing"
	"time"

	"github.com/wspeer/wspeer"
	"github.com/wspeer/wspeer/h2client"
)

// BenchmarkOneConnection compares one WebSocket connection over HTTP/2
// (RFC 8441, a stream: h2client and the Upgrader on net/http's HTTP/2) with
// one over HTTP/1.1 (the hijacked connection), both over TLS to the same
// loopback server, in one run: "rtt" is one 64-byte echo round trip per
// iteration (ns/op is the latency), "64KiB" one 64 KiB echo round trip
// (MB/s counts both directions' payload).
//
//	go test -run XXX -bench OneConnection ./h2client
func BenchmarkOneConnection(b *testing.B) {
	up := &wspeer.Upgrader{NewPeer: func() *wspeer.Peer {
		p := wspeer.NewPeer()
		p.InboundBufferSize, p.OutboundBufferSize = 1<<20, 1<<20
		return p
	}}
	s := startServer(b, true, up, echo)
	for _, proto := range []string{"http1.1", "h2"} {
		for _, size := range []int{64, 64 << 10} {
			name := proto + "/rtt"
			if size > 64 {
				name = proto + "/64KiB"
			}
			b.Run(name, func(b *testing.B) {
				p := wspeer.NewPeer()
				p.InboundBufferSize, p.OutboundBufferSize = 1<<20, 1<<20
				if proto == "h2" {
					p.StreamDialer = &h2client.Dialer{}
				}
				if err := p.ConnectToURL(wssURL(s.Server, "/"), clientTLS(s.Server)); err != nil {
					b.Fatal(err)
				}
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
				defer cancel()
				for p.ReadyState() == wspeer.StateConnecting && p.Wait(ctx) == nil {
					p.Poll()
				}
				msg := make([]byte, size)
				b.SetBytes(int64(2 * size))
				b.ResetTimer()
				for range b.N {
					if err := p.PutPacket(msg); err != nil {
						b.Fatal(err)
					}
					for p.AvailablePacketCount() == 0 {
						if err := p.Wait(ctx); err != nil {
							b.Fatalf("%v: %v", err, p.CloseError())
						}
						p.Poll()
					}
					if _, err := p.GetPacket(); err != nil {
						b.Fatal(err)
					}
				}
				b.StopTimer()
				p.Close(1000, "")
				for p.Wait(ctx) == nil {
					p.Poll()
				}
			})
		}
	}
}
