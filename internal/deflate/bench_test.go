package deflate

import (
	"strings"
	"testing"

	"github.com/wspeer/wspeer/internal/proto"
)

func benchText(n int) []byte {
	return []byte(strings.Repeat("The quick brown fox jumps over the lazy dog. ", n/45+1)[:n])
}

// BenchmarkDeflate measures compressing a message into a frame and parsing a
// compressed frame back to its inflated payload.
func BenchmarkDeflate(b *testing.B) {
	for _, size := range []int{1024, 64 << 10} {
		msg := benchText(size)
		name := "1K"
		if size > 1024 {
			name = "64K"
		}
		b.Run("compress-"+name, func(b *testing.B) {
			e := engine(proto.RoleServer, 0, Params{OwnWindowBits: 15, Threshold: 128})
			dst := make([]byte, 0, 2*size)
			b.SetBytes(int64(size))
			for b.Loop() {
				dst, _ = e.AppendMessage(dst[:0], proto.OpText, msg)
			}
		})
		b.Run("inflate-"+name, func(b *testing.B) {
			c := engine(proto.RoleClient, 0, Params{OwnWindowBits: 15, Threshold: 128})
			frame, _ := c.AppendMessage(nil, proto.OpText, msg)
			buf := make([]byte, len(frame))
			e := engine(proto.RoleServer, 1<<20, Params{PeerNoContextTakeover: true})
			b.SetBytes(int64(size))
			for b.Loop() {
				copy(buf, frame)
				p, got := buf, 0
				for i := 0; i < 1000; i++ {
					n, ev, err := e.Parse(p, -1)
					if err != nil {
						b.Fatal(err)
					}
					p = p[n:]
					got += len(ev.Data)
					if ev.Fin {
						break
					}
				}
				if got != size {
					b.Fatal(got)
				}
			}
		})
	}
}
