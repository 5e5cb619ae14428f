package bench

import (
	"bytes"
	"testing"

	"github.com/wspeer/wspeer/bench/internal/maskbench"
)

// BenchmarkMaskWspeer and BenchmarkMaskGobwas measure wspeer's internal
// proto.Mask and gobwas/ws's Cipher on identical buffers (sizes, alignment,
// key offset) in one process; `go run ./cmd/maskbench` interleaves them in
// rounds and prints the ratio.
func BenchmarkMaskWspeer(b *testing.B) { benchmarkMask(b, maskbench.Contenders[0]) }
func BenchmarkMaskGobwas(b *testing.B) { benchmarkMask(b, maskbench.Contenders[1]) }

func benchmarkMask(b *testing.B, who maskbench.Contender) {
	for _, c := range maskbench.Cases() {
		b.Run(c.Name, func(b *testing.B) {
			buf := c.Buffer()
			b.SetBytes(int64(c.N))
			for b.Loop() {
				who.Fn(maskbench.Key, c.Pos, buf)
			}
		})
	}
}

// TestMaskContendersAgree checks that both contenders compute the same
// masking (and so are measured doing the same work) on every case's buffer
// and on a few odd lengths, against a byte-at-a-time XOR.
func TestMaskContendersAgree(t *testing.T) {
	cases := maskbench.Cases()
	for _, n := range []int{0, 1, 7, 63, 65, 1000, 4099} {
		cases = append(cases, maskbench.Case{Name: "odd", N: n, Off: n % 5, Pos: n % 4})
	}
	for _, c := range cases {
		want := c.Buffer()
		for i := range want {
			want[i] ^= maskbench.Key[(c.Pos+i)%4]
		}
		for _, who := range maskbench.Contenders {
			got := c.Buffer()
			who.Fn(maskbench.Key, c.Pos, got)
			if !bytes.Equal(got, want) {
				t.Errorf("%s %s (n=%d off=%d pos=%d): wrong masking", who.Name, c.Name, c.N, c.Off, c.Pos)
			}
		}
	}
}
