package conformance

import (
	"bufio"
	"context"
	"encoding/binary"
	"io"
	"net"
	"testing"
	"time"
)

// lenientServer is a deliberately broken echo server for the suite's self
// test: it echoes every data frame as it came (reserved bits, opcodes and
// invalid UTF-8 included), answers pings, replies 1001 to close codes of 3000
// and above, and leaves TCP open after a 1001 close.
func lenientServer(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			conn, err := l.Accept()
			if err != nil {
				return
			}
			go lenientConn(conn)
		}
	}()
	return "ws://" + l.Addr().String() + "/"
}

func lenientConn(conn net.Conn) {
	defer conn.Close()
	_, br, err := serverHandshake(conn, time.Second, nil)
	if err != nil {
		return
	}
	for {
		h0, payload, err := lenientRead(br)
		if err != nil {
			return
		}
		op := h0 & 0x0F
		out := payload
		if op == opPing {
			op = opPong
		}
		if op == opClose {
			code := 0
			if len(payload) >= 2 {
				code = int(binary.BigEndian.Uint16(payload))
			}
			if code >= 3000 || code == 1001 {
				out = closePayload(1001, nil)
			}
			b, _ := encodeFrame(nil, Frame{Opcode: opClose, Payload: out}, false)
			conn.Write(b)
			if code == 1001 {
				time.Sleep(3 * time.Second) // keeps TCP open
			}
			return
		}
		b, _ := encodeFrame(nil, Frame{Opcode: op, NotFin: h0&0x80 == 0, Rsv: h0 >> 4 & 7, Payload: out}, false)
		conn.Write(b)
	}
}

func lenientRead(r *bufio.Reader) (h0 byte, payload []byte, err error) {
	var h [2]byte
	if _, err = io.ReadFull(r, h[:]); err != nil {
		return
	}
	n := uint64(h[1] & 0x7F)
	switch n {
	case 126:
		var e [2]byte
		_, err = io.ReadFull(r, e[:])
		n = uint64(binary.BigEndian.Uint16(e[:]))
	case 127:
		var e [8]byte
		_, err = io.ReadFull(r, e[:])
		n = binary.BigEndian.Uint64(e[:]) & (1<<30 - 1)
	}
	if err != nil {
		return
	}
	var key [4]byte
	if h[1]&0x80 != 0 {
		if _, err = io.ReadFull(r, key[:]); err != nil {
			return
		}
	}
	payload = make([]byte, n)
	if _, err = io.ReadFull(r, payload); err != nil {
		return
	}
	maskBytes(key, payload)
	return h[0], payload, nil
}

// TestSuiteDetectsFailures runs cases against the lenient server and checks
// the suite's verdicts: each of Autobahn's failure rules must be applied.
func TestSuiteDetectsFailures(t *testing.T) {
	url := lenientServer(t)
	want := map[string]Verdict{
		"1.1.2":  OK,     // plain echo
		"2.5":    Failed, // pong with a 126-byte payload: the peer violates the protocol
		"3.1":    Failed, // RSV frame echoed instead of failing
		"4.1.3":  Failed, // reserved opcode echoed
		"6.3.1":  Failed, // invalid UTF-8 echoed
		"7.7.1":  OK,     // close 1000 answered with 1000
		"7.7.2":  Failed, // close answered, but the server does not close TCP
		"7.7.10": Failed, // close 3000 answered with 1001: wrong code
	}
	var ids []string
	for id := range want {
		ids = append(ids, id)
	}
	rep := RunClient(context.Background(), url, Select(AllCases(), ids...), nil)
	t.Log("\n" + rep.Summary())
	if len(rep.Results) != len(want) {
		t.Fatalf("%d results, want %d", len(rep.Results), len(want))
	}
	for _, r := range rep.Results {
		if r.Verdict != want[r.ID] {
			t.Errorf("case %s: verdict %s (close %s), want %s: %s", r.ID, r.Verdict, r.BehaviorClose, want[r.ID], r.Detail)
		}
	}
	for _, r := range rep.Results {
		switch r.ID {
		case "7.7.2":
			if r.BehaviorClose != FailedByClient {
				t.Errorf("7.7.2: close behaviour %s, want %s", r.BehaviorClose, FailedByClient)
			}
		case "7.7.10":
			if r.BehaviorClose != WrongCode {
				t.Errorf("7.7.10: close behaviour %s, want %s", r.BehaviorClose, WrongCode)
			}
		}
	}
}
