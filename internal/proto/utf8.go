package proto

import "encoding/binary"

// The validator is a "shift DFA": each DFA state is a 6-bit offset, and the
// row for an input byte packs, for every state s, the next state's offset at
// bit position s. A step is then state = row[b] >> (state & 63). The only
// serial dependency between bytes is that one shift (one cycle), rather than
// the table load a classic state-table DFA puts on the critical path, which
// is what makes multi-byte text fast. Only the low 6 bits of state are
// meaningful; the upper bits are leftovers of the row and are ignored.
const (
	utf8Accept = 0 * 6 // on a character boundary
	utf8Reject = 1 * 6 // absorbing: no continuation can make the input valid
	utf8Need1  = 2 * 6 // one continuation byte 80..BF left
	utf8Need2  = 3 * 6 // two continuation bytes left, any 80..BF
	utf8E0     = 4 * 6 // after E0: A0..BF, else the 3-byte form is overlong
	utf8ED     = 5 * 6 // after ED: 80..9F, else it encodes a surrogate
	utf8Need3  = 6 * 6 // three continuation bytes left, any 80..BF
	utf8F0     = 7 * 6 // after F0: 90..BF, else the 4-byte form is overlong
	utf8F4     = 8 * 6 // after F4: 80..8F, else it exceeds U+10FFFF
	utf8States = 9
)

// utf8Rows is computed once at package init from utf8Step, which keeps the
// UTF-8 rules readable instead of hiding them in a literal table of magic
// 64-bit constants.
var utf8Rows = func() (rows [256]uint64) {
	for b := range rows {
		for s := range utf8States {
			rows[b] |= uint64(utf8Step(uint8(s*6), byte(b))) << (s * 6)
		}
	}
	return rows
}()

// utf8Step is the DFA transition function (RFC 3629 section 4 syntax, which
// is exactly what unicode/utf8.Valid accepts).
func utf8Step(state uint8, b byte) uint8 {
	cont := func(lo, hi byte, next uint8) uint8 {
		if lo <= b && b <= hi {
			return next
		}
		return utf8Reject
	}
	switch state {
	case utf8Accept:
		switch {
		case b < 0x80:
			return utf8Accept
		case b < 0xC2: // continuation byte, or C0/C1 (always overlong)
			return utf8Reject
		case b < 0xE0:
			return utf8Need1
		case b == 0xE0:
			return utf8E0
		case b == 0xED:
			return utf8ED
		case b < 0xF0:
			return utf8Need2
		case b == 0xF0:
			return utf8F0
		case b < 0xF4:
			return utf8Need3
		case b == 0xF4:
			return utf8F4
		default: // F5..FF would start a code point above U+10FFFF
			return utf8Reject
		}
	case utf8Need1:
		return cont(0x80, 0xBF, utf8Accept)
	case utf8Need2:
		return cont(0x80, 0xBF, utf8Need1)
	case utf8E0:
		return cont(0xA0, 0xBF, utf8Need1)
	case utf8ED:
		return cont(0x80, 0x9F, utf8Need1)
	case utf8Need3:
		return cont(0x80, 0xBF, utf8Need2)
	case utf8F0:
		return cont(0x90, 0xBF, utf8Need2)
	case utf8F4:
		return cont(0x80, 0x8F, utf8Need2)
	}
	return utf8Reject
}

// UTF8Validator validates UTF-8 incrementally across chunk boundaries (fragments and
// partial reads of one text message). It fails as early as the bytes allow: Write returns
// false at the first byte after which no continuation could form valid UTF-8
// (e.g. 0xC0, 0xF5, 0xED 0xA0 (surrogate), 0xF4 0x90 (> U+10FFFF), 0xE0 0x80 (overlong)).
//
// The zero value is ready to use. Valid means exactly what unicode/utf8.Valid
// accepts.
type UTF8Validator struct {
	state uint8 // a DFA state offset, one of the utf8* constants
}

const asciiMask = 0x8080808080808080

// Write validates p as the continuation of everything written before. It returns false
// once the input can no longer be valid UTF-8; after that it keeps returning false until Reset.
func (v *UTF8Validator) Write(p []byte) bool {
	s := uint64(v.state)
	// The reject state maps to itself, so it only needs checking once per
	// block: the answer is the same as checking after every byte.
	for len(p) >= 8 && s&63 != utf8Reject {
		if s&63 == utf8Accept {
			// Text is mostly ASCII, which is valid on its own only
			// between characters; skip it a 32-byte block at a time.
			// "> 32" rather than ">= 32" spares the compiler the fixup for
			// a slice pointing one past the end of the array.
			for len(p) > 32 {
				w := p[:32:32]
				x := (binary.LittleEndian.Uint64(w[0:8]) | binary.LittleEndian.Uint64(w[8:16])) |
					(binary.LittleEndian.Uint64(w[16:24]) | binary.LittleEndian.Uint64(w[24:32]))
				if x&asciiMask != 0 {
					break
				}
				p = p[32:]
			}
			if len(p) < 8 {
				break
			}
			if binary.LittleEndian.Uint64(p)&asciiMask == 0 {
				p = p[8:]
				continue
			}
		}
		w := p[:8:8]
		s = utf8Rows[w[0]] >> (s & 63)
		s = utf8Rows[w[1]] >> (s & 63)
		s = utf8Rows[w[2]] >> (s & 63)
		s = utf8Rows[w[3]] >> (s & 63)
		s = utf8Rows[w[4]] >> (s & 63)
		s = utf8Rows[w[5]] >> (s & 63)
		s = utf8Rows[w[6]] >> (s & 63)
		s = utf8Rows[w[7]] >> (s & 63)
		p = p[8:]
	}
	for _, c := range p {
		s = utf8Rows[c] >> (s & 63)
	}
	v.state = uint8(s & 63)
	return v.state != utf8Reject
}

// Complete reports whether everything written so far is valid and ends on a character
// boundary (no sequence cut off) — check it at the end of a message (FIN).
func (v *UTF8Validator) Complete() bool {
	return v.state == utf8Accept
}

// Reset prepares the validator for a new message.
func (v *UTF8Validator) Reset() {
	v.state = utf8Accept
}
