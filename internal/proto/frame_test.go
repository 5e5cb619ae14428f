package proto

import (
	"bytes"
	"errors"
	"testing"
)

func TestHeaderRFCExamples(t *testing.T) {
	// RFC 6455 section 5.7.
	tests := []struct {
		name string
		wire []byte
		want Header
	}{
		{"unmasked text", []byte{0x81, 0x05}, Header{Fin: true, Opcode: OpText, Length: 5}},
		{"masked text", []byte{0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d}, Header{Fin: true, Opcode: OpText, Masked: true, Mask: [4]byte{0x37, 0xfa, 0x21, 0x3d}, Length: 5}},
		{"first fragment", []byte{0x01, 0x03}, Header{Opcode: OpText, Length: 3}},
		{"last fragment", []byte{0x80, 0x02}, Header{Fin: true, Opcode: OpContinuation, Length: 2}},
		{"ping", []byte{0x89, 0x05}, Header{Fin: true, Opcode: OpPing, Length: 5}},
		{"256 bytes", []byte{0x82, 0x7E, 0x01, 0x00}, Header{Fin: true, Opcode: OpBinary, Length: 256}},
		{"64 KiB", []byte{0x82, 0x7F, 0, 0, 0, 0, 0, 1, 0, 0}, Header{Fin: true, Opcode: OpBinary, Length: 65536}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, n, err := ParseHeader(tt.wire)
			if err != nil || n != len(tt.wire) || h != tt.want {
				t.Fatalf("ParseHeader = %+v, %d, %v; want %+v, %d", h, n, err, tt.want, len(tt.wire))
			}
			if got := AppendHeader(nil, tt.want); !bytes.Equal(got, tt.wire) {
				t.Fatalf("AppendHeader = % x, want % x", got, tt.wire)
			}
			if tt.want.Size() != len(tt.wire) {
				t.Fatalf("Size = %d, want %d", tt.want.Size(), len(tt.wire))
			}
			// Every strict prefix is incomplete, never an error.
			for i := 0; i < len(tt.wire); i++ {
				if _, n, err := ParseHeader(tt.wire[:i]); n != 0 || err != nil {
					t.Fatalf("prefix %d: n=%d err=%v", i, n, err)
				}
			}
		})
	}
}

func TestHeaderLengthForms(t *testing.T) {
	for _, l := range []int64{0, 1, 125, 126, 127, 0xFFFF, 0x10000, 1 << 40, 1<<63 - 1} {
		for _, masked := range []bool{false, true} {
			h := Header{Fin: true, Rsv: Rsv1 | Rsv3, Opcode: OpBinary, Masked: masked, Length: l}
			if masked {
				h.Mask = [4]byte{1, 2, 3, 4}
			}
			wire := AppendHeader(nil, h)
			got, n, err := ParseHeader(wire)
			if err != nil || n != len(wire) || got != h {
				t.Fatalf("len %d masked %v: got %+v %d %v", l, masked, got, n, err)
			}
			wantSize := 2
			if l > 0xFFFF {
				wantSize = 10
			} else if l > 125 {
				wantSize = 4
			}
			if masked {
				wantSize += 4
			}
			if len(wire) != wantSize {
				t.Fatalf("len %d: header %d bytes, want %d", l, len(wire), wantSize)
			}
		}
	}
}

func TestHeaderNonMinimalLength(t *testing.T) {
	bad := [][]byte{
		{0x82, 0x7E, 0x00, 0x7D},                   // 125 in the 16-bit form
		{0x82, 0x7E, 0x00, 0x00},                   // 0 in the 16-bit form
		{0x82, 0x7F, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF}, // 65535 in the 64-bit form
		{0x82, 0x7F, 0, 0, 0, 0, 0, 0, 0, 5},
		{0x82, 0x7F, 0x80, 0, 0, 0, 0, 0, 0, 0}, // top bit set
		{0x82, 0x7F, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF},
	}
	for _, b := range bad {
		_, _, err := ParseHeader(b)
		if !errors.Is(err, ErrProtocol) {
			t.Errorf("% x: err = %v, want 1002", b, err)
		}
	}
	// The largest legal length parses.
	h, _, err := ParseHeader([]byte{0x82, 0x7F, 0x7F, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF})
	if err != nil || h.Length != 1<<63-1 {
		t.Fatalf("max length: %v %d", err, h.Length)
	}
}

func TestOpcodes(t *testing.T) {
	for op := Opcode(0); op < 16; op++ {
		reserved := (op >= 3 && op <= 7) || op >= 0xB
		if op.IsReserved() != reserved {
			t.Errorf("%d reserved = %v", op, op.IsReserved())
		}
		if op.IsControl() != (op >= 8) {
			t.Errorf("%d control = %v", op, op.IsControl())
		}
		if op.String() == "" {
			t.Errorf("%d has no name", op)
		}
	}
	if OpPong.String() != "pong" || Opcode(3).String() != "opcode 3" {
		t.Fatal("opcode names")
	}
}

func TestClosePayload(t *testing.T) {
	tests := []struct {
		payload []byte
		code    int
		reason  string
		errCode int
	}{
		{nil, CloseNoStatus, "", 0},
		{[]byte{0x03}, 0, "", 1002},
		{[]byte{0x03, 0xE8}, 1000, "", 0},
		{append([]byte{0x03, 0xE8}, "bye"...), 1000, "bye", 0},
		{append([]byte{0x0F, 0xA0}, "déjà"...), 4000, "déjà", 0},
		{[]byte{0x03, 0xE8, 0xC0, 0x80}, 0, "", 1007},
		{[]byte{0x03, 0xE8, 0xED, 0xA0, 0x80}, 0, "", 1007},
	}
	for _, tt := range tests {
		code, reason, err := ParseClosePayload(tt.payload)
		if tt.errCode != 0 {
			var pe *ProtocolError
			if !errors.As(err, &pe) || pe.Code != tt.errCode {
				t.Errorf("% x: err %v, want code %d", tt.payload, err, tt.errCode)
			}
			continue
		}
		if err != nil || code != tt.code || reason != tt.reason {
			t.Errorf("% x: %d %q %v", tt.payload, code, reason, err)
		}
	}
	// Every code: valid received codes are exactly 1000-1003, 1007-1014, 3000-4999.
	for code := 0; code < 70000; code++ {
		valid := (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) || (code >= 3000 && code <= 4999)
		if ValidCloseCode(code) != valid {
			t.Fatalf("ValidCloseCode(%d) = %v", code, !valid)
		}
		if code > 0xFFFF {
			continue
		}
		_, _, err := ParseClosePayload([]byte{byte(code >> 8), byte(code)})
		if (err == nil) != valid || (err != nil && !errors.Is(err, ErrProtocol)) {
			t.Fatalf("code %d: %v", code, err)
		}
	}
	if _, _, err := ParseClosePayload(make([]byte, 126)); !errors.Is(err, ErrProtocol) {
		t.Fatal("126-byte close payload accepted")
	}
}

func TestCheckCloseAndBuild(t *testing.T) {
	long := string(bytes.Repeat([]byte("a"), 123))
	ok := []struct {
		code   int
		reason string
		wire   []byte
	}{
		{1000, "", []byte{0x03, 0xE8}},
		{4000, "x", []byte{0x0F, 0xA0, 'x'}},
		{CloseNoStatus, "", nil},
		{1014, long, append([]byte{0x03, 0xF6}, long...)},
	}
	for _, tt := range ok {
		if err := CheckClose(tt.code, tt.reason); err != nil {
			t.Errorf("CheckClose(%d): %v", tt.code, err)
		}
		if got := AppendClosePayload(nil, tt.code, tt.reason); !bytes.Equal(got, tt.wire) {
			t.Errorf("AppendClosePayload(%d) = % x", tt.code, got)
		}
	}
	bad := []struct {
		code   int
		reason string
	}{{999, ""}, {1004, ""}, {1006, ""}, {1015, ""}, {2999, ""}, {5000, ""}, {65536 + 1000, ""}, {-1, ""},
		{1000, long + "a"}, {1000, "\xff"}, {CloseNoStatus, "why"}}
	for _, tt := range bad {
		if err := CheckClose(tt.code, tt.reason); !errors.Is(err, ErrInvalidClose) {
			t.Errorf("CheckClose(%d, %q) = %v", tt.code, tt.reason, err)
		}
	}
}

func TestProtocolErrorIs(t *testing.T) {
	err := protocolError(1007, "bad")
	if !errors.Is(err, ErrInvalidPayload) || errors.Is(err, ErrProtocol) {
		t.Fatal("Is by code")
	}
	if err.Error() != "bad (close 1007)" {
		t.Fatal(err.Error())
	}
}
