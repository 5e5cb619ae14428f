package conformance

import (
	"errors"
	"fmt"
)

// checkDistances walks a DEFLATE stream (RFC 1951) without producing output
// and reports a back-reference farther than window bytes, or farther than
// the bytes available (hist bytes of earlier messages plus those decoded so
// far). It is how the suite holds a peer to the max_window_bits it agreed
// to: compress/flate inflates with a 32 KiB window whatever was negotiated.
func checkDistances(in []byte, hist, window int) error {
	w := distWalker{in: in}
	pos := hist
	for {
		final, err := w.bits(1)
		if err != nil {
			return err
		}
		typ, err := w.bits(2)
		if err != nil {
			return err
		}
		switch typ {
		case 0:
			// To the byte boundary, giving back whole bytes read ahead.
			w.i -= int(w.nb / 8)
			w.nb, w.bitbuf = 0, 0
			if w.i+4 > len(w.in) {
				return errDeflateShort
			}
			n := int(w.in[w.i]) | int(w.in[w.i+1])<<8
			if nc := int(w.in[w.i+2]) | int(w.in[w.i+3])<<8; n != ^nc&0xffff {
				return errors.New("deflate: stored block length check fails")
			}
			w.i += 4
			if w.i+n > len(w.in) {
				return errDeflateShort
			}
			w.i += n
			pos += n
		case 1, 2:
			var lit, dist huffman
			if typ == 1 {
				lit, dist = fixedHuffman()
			} else if lit, dist, err = w.dynamic(); err != nil {
				return err
			}
			for {
				sym, err := w.decode(&lit)
				if err != nil {
					return err
				}
				if sym < 256 {
					pos++
					continue
				}
				if sym == 256 {
					break
				}
				sym -= 257
				if sym >= 29 {
					return errors.New("deflate: invalid length symbol")
				}
				extra, err := w.bits(lengthExtra[sym])
				if err != nil {
					return err
				}
				length := lengthBase[sym] + extra
				ds, err := w.decode(&dist)
				if err != nil {
					return err
				}
				if ds >= 30 {
					return errors.New("deflate: invalid distance symbol")
				}
				extra, err = w.bits(distExtra[ds])
				if err != nil {
					return err
				}
				d := distBase[ds] + extra
				if d > window {
					return fmt.Errorf("deflate: back-reference distance %d exceeds the negotiated window of %d bytes", d, window)
				}
				if d > pos {
					return fmt.Errorf("deflate: back-reference distance %d reaches before the first of %d bytes", d, pos)
				}
				pos += length
			}
		default:
			return errors.New("deflate: invalid block type 3")
		}
		if final == 1 {
			return nil
		}
	}
}

var errDeflateShort = errors.New("deflate: stream ends early")

type distWalker struct {
	in     []byte
	i      int
	bitbuf uint32
	nb     uint
}

func (w *distWalker) bits(n uint) (int, error) {
	for w.nb < n {
		if w.i >= len(w.in) {
			return 0, errDeflateShort
		}
		w.bitbuf |= uint32(w.in[w.i]) << w.nb
		w.i++
		w.nb += 8
	}
	v := int(w.bitbuf & (1<<n - 1))
	w.bitbuf >>= n
	w.nb -= n
	return v, nil
}

// huffman is a canonical code: count[l] codes of length l, symbols in code
// order; fast maps the next fastBits input bits (LSB first) to a symbol and
// its code length, for codes up to fastBits long (0: longer, decode slowly).
type huffman struct {
	count  [16]int
	symbol []int
	fast   [1 << fastBits]uint16
}

const fastBits = 9

func newHuffman(lengths []int) (huffman, error) {
	var h huffman
	for _, l := range lengths {
		h.count[l]++
	}
	left := 1
	for l := 1; l < 16; l++ {
		left = left<<1 - h.count[l]
		if left < 0 {
			return h, errors.New("deflate: over-subscribed code")
		}
	}
	var offs [16]int
	for l := 1; l < 15; l++ {
		offs[l+1] = offs[l] + h.count[l]
	}
	h.symbol = make([]int, len(lengths))
	for s, l := range lengths {
		if l != 0 {
			h.symbol[offs[l]] = s
			offs[l]++
		}
	}
	// Canonical codes in order, bit-reversed into the fast table.
	code, index := 0, 0
	for l := 1; l <= fastBits; l++ {
		for k := 0; k < h.count[l]; k++ {
			rev := 0
			for b := 0; b < l; b++ {
				rev |= (code >> b & 1) << (l - 1 - b)
			}
			for f := rev; f < 1<<fastBits; f += 1 << l {
				h.fast[f] = uint16(h.symbol[index])<<4 | uint16(l)
			}
			code++
			index++
		}
		code <<= 1
	}
	return h, nil
}

func (w *distWalker) decode(h *huffman) (int, error) {
	for w.nb < fastBits && w.i < len(w.in) {
		w.bitbuf |= uint32(w.in[w.i]) << w.nb
		w.i++
		w.nb += 8
	}
	if e := h.fast[w.bitbuf&(1<<fastBits-1)]; e != 0 && uint(e&15) <= w.nb {
		n := uint(e & 15)
		w.bitbuf >>= n
		w.nb -= n
		return int(e >> 4), nil
	}
	code, first, index := 0, 0, 0
	for l := 1; l < 16; l++ {
		b, err := w.bits(1)
		if err != nil {
			return 0, err
		}
		code |= b
		n := h.count[l]
		if code-n < first {
			return h.symbol[index+code-first], nil
		}
		index += n
		first = (first + n) << 1
		code <<= 1
	}
	return 0, errors.New("deflate: invalid Huffman code")
}

var (
	lengthBase  = [29]int{3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258}
	lengthExtra = [29]uint{0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0}
	distBase    = [30]int{1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577}
	distExtra   = [30]uint{0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13}
)

func fixedHuffman() (lit, dist huffman) {
	l := make([]int, 288)
	for i := range l {
		switch {
		case i < 144:
			l[i] = 8
		case i < 256:
			l[i] = 9
		case i < 280:
			l[i] = 7
		default:
			l[i] = 8
		}
	}
	lit, _ = newHuffman(l)
	d := make([]int, 30)
	for i := range d {
		d[i] = 5
	}
	dist, _ = newHuffman(d)
	return lit, dist
}

// codeLengthOrder is the order of the code length code lengths.
var codeLengthOrder = [19]int{16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15}

func (w *distWalker) dynamic() (lit, dist huffman, err error) {
	nlen, err := w.bits(5)
	if err != nil {
		return
	}
	ndist, err := w.bits(5)
	if err != nil {
		return
	}
	ncode, err := w.bits(4)
	if err != nil {
		return
	}
	nlen, ndist, ncode = nlen+257, ndist+1, ncode+4
	if nlen > 286 || ndist > 30 {
		return lit, dist, errors.New("deflate: bad dynamic block counts")
	}
	cl := make([]int, 19)
	for i := 0; i < ncode; i++ {
		if cl[codeLengthOrder[i]], err = w.bits(3); err != nil {
			return
		}
	}
	clh, err := newHuffman(cl)
	if err != nil {
		return
	}
	lengths := make([]int, nlen+ndist)
	for i := 0; i < len(lengths); {
		sym, err := w.decode(&clh)
		if err != nil {
			return lit, dist, err
		}
		if sym < 16 {
			lengths[i] = sym
			i++
			continue
		}
		prev, rep := 0, 0
		switch sym {
		case 16:
			if i == 0 {
				return lit, dist, errors.New("deflate: repeat with no previous length")
			}
			prev = lengths[i-1]
			rep, err = w.bits(2)
			rep += 3
		case 17:
			rep, err = w.bits(3)
			rep += 3
		default:
			rep, err = w.bits(7)
			rep += 11
		}
		if err != nil {
			return lit, dist, err
		}
		if i+rep > len(lengths) {
			return lit, dist, errors.New("deflate: code lengths overflow")
		}
		for ; rep > 0; rep-- {
			lengths[i] = prev
			i++
		}
	}
	if lengths[256] == 0 {
		return lit, dist, errors.New("deflate: no end-of-block code")
	}
	if lit, err = newHuffman(lengths[:nlen]); err != nil {
		return
	}
	dist, err = newHuffman(lengths[nlen:])
	return
}
