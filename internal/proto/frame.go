package proto

import (
	"encoding/binary"
	"strconv"
)

// Opcode is the 4-bit frame type of RFC 6455 section 5.2.
type Opcode byte

// The opcodes defined by RFC 6455. The others (3-7, 0xB-0xF) are reserved.
const (
	OpContinuation Opcode = 0x0
	OpText         Opcode = 0x1
	OpBinary       Opcode = 0x2
	OpClose        Opcode = 0x8
	OpPing         Opcode = 0x9
	OpPong         Opcode = 0xA
)

// IsControl reports whether o is a control opcode (close, ping, pong or a reserved
// control opcode): the high bit of the opcode marks control frames.
func (o Opcode) IsControl() bool { return o&0x8 != 0 }

// IsReserved reports whether o is one of the opcodes RFC 6455 leaves undefined.
func (o Opcode) IsReserved() bool {
	switch o {
	case OpContinuation, OpText, OpBinary, OpClose, OpPing, OpPong:
		return false
	}
	return true
}

// String returns the opcode's name, or its number for a reserved one.
func (o Opcode) String() string {
	switch o {
	case OpContinuation:
		return "continuation"
	case OpText:
		return "text"
	case OpBinary:
		return "binary"
	case OpClose:
		return "close"
	case OpPing:
		return "ping"
	case OpPong:
		return "pong"
	}
	return "opcode " + strconv.Itoa(int(o))
}

// The reserved bits of the first header byte, as they appear in it. RSV1 is the
// "compressed" bit of permessage-deflate (RFC 7692).
const (
	Rsv1 byte = 0x40
	Rsv2 byte = 0x20
	Rsv3 byte = 0x10
)

const (
	// MaxHeaderSize is the longest possible frame header: 2 bytes, an 8-byte
	// extended length and a 4-byte masking key.
	MaxHeaderSize = 14
	// MaxControlPayload is the largest payload a control frame may carry.
	MaxControlPayload = 125
)

// Header is a decoded frame header.
type Header struct {
	Fin    bool
	Rsv    byte // Rsv1|Rsv2|Rsv3 bits as they appear in the first byte
	Opcode Opcode
	Masked bool
	Mask   [4]byte
	Length int64 // payload length
}

// Size returns the number of bytes h occupies on the wire.
func (h Header) Size() int {
	n := 2
	switch {
	case h.Length > 0xFFFF:
		n += 8
	case h.Length > 125:
		n += 2
	}
	if h.Masked {
		n += 4
	}
	return n
}

// AppendHeader appends the wire form of h to dst, always with the shortest length
// form, as RFC 6455 section 5.2 requires. A negative Length is encoded as 0.
func AppendHeader(dst []byte, h Header) []byte {
	b0 := byte(h.Opcode&0xF) | h.Rsv&(Rsv1|Rsv2|Rsv3)
	if h.Fin {
		b0 |= 0x80
	}
	var b1 byte
	if h.Masked {
		b1 = 0x80
	}
	n := h.Length
	if n < 0 {
		n = 0
	}
	switch {
	case n <= 125:
		dst = append(dst, b0, b1|byte(n))
	case n <= 0xFFFF:
		dst = append(dst, b0, b1|126, byte(n>>8), byte(n))
	default:
		dst = append(dst, b0, b1|127)
		dst = binary.BigEndian.AppendUint64(dst, uint64(n))
	}
	if h.Masked {
		dst = append(dst, h.Mask[:]...)
	}
	return dst
}

// ParseHeader decodes the frame header at the start of b and returns it with its
// size. n == 0 with a nil error means b holds only part of a header: call again
// with more bytes. It enforces the encoding rules only (minimal length forms, the
// top bit of a 64-bit length clear), failing with a 1002 *ProtocolError; what a
// header means in context (opcodes, masking direction, reserved bits) is the
// Engine's to judge.
func ParseHeader(b []byte) (h Header, n int, err error) {
	if len(b) < 2 {
		return h, 0, nil
	}
	h.Fin = b[0]&0x80 != 0
	h.Rsv = b[0] & (Rsv1 | Rsv2 | Rsv3)
	h.Opcode = Opcode(b[0] & 0xF)
	h.Masked = b[1]&0x80 != 0
	n = 2
	switch l := b[1] & 0x7F; l {
	case 126:
		if len(b) < 4 {
			return h, 0, nil
		}
		h.Length = int64(binary.BigEndian.Uint16(b[2:4]))
		if h.Length < 126 {
			return h, 0, protocolError(CloseProtocolError, "non-minimal 16-bit payload length")
		}
		n = 4
	case 127:
		if len(b) < 10 {
			return h, 0, nil
		}
		u := binary.BigEndian.Uint64(b[2:10])
		if u>>63 != 0 {
			return h, 0, protocolError(CloseProtocolError, "64-bit payload length with the most significant bit set")
		}
		if u <= 0xFFFF {
			return h, 0, protocolError(CloseProtocolError, "non-minimal 64-bit payload length")
		}
		h.Length = int64(u)
		n = 10
	default:
		h.Length = int64(l)
	}
	if h.Masked {
		if len(b) < n+4 {
			return h, 0, nil
		}
		copy(h.Mask[:], b[n:n+4])
		n += 4
	}
	return h, n, nil
}
