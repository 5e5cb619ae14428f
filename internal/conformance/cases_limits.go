package conformance

import (
	"bytes"
	"fmt"
	"time"
)

// Section 9 (limits and performance, messages up to 16 MiB) and section 10
// (auto-fragmentation).

// bigEcho builds a case that sends one big message (by send) and expects it
// back whole within wait: Autobahn's 9.1-9.6 cases, which judge by length;
// ours also compare the content.
func bigEcho(id, desc string, binary bool, payload func() []byte, wait time.Duration, send func(s *Session, op byte, p []byte)) *Case {
	op := opText
	if binary {
		op = opBinary
	}
	return &Case{
		ID: id, Description: desc, Timeout: wait + 10*time.Second,
		Run: func(s *Session) {
			p := payload()
			s.setData(p)
			s.SetBehavior(Failed, fmt.Sprintf("Did not receive the message within %s.", wait))
			s.ExpectClose(true, true, 1000)
			send(s, op, p)
			s.CloseAfter(wait)
		},
		OnMessage: func(s *Session, data []byte, gotBinary bool) {
			want := s.data()
			switch {
			case gotBinary != binary:
				s.SetBehavior(Failed, fmt.Sprintf("Expected binary=%v, got binary=%v.", binary, gotBinary))
			case len(data) != len(want):
				s.SetBehavior(Failed, fmt.Sprintf("Expected a message of length %d, got %d.", len(want), len(data)))
			case !bytes.Equal(data, want):
				s.SetBehavior(Failed, "The echoed message differs from the one sent.")
			default:
				s.SetBehavior(OK, fmt.Sprintf("Received the message of length %d.", len(data)))
			}
			s.Close(1000, nil)
		},
	}
}

var limitSizes = []int{64 << 10, 256 << 10, 1 << 20, 4 << 20, 8 << 20, 16 << 20}

func sizeName(n int) string {
	if n >= 1<<20 {
		return fmt.Sprintf("%d MiB", n>>20)
	}
	return fmt.Sprintf("%d KiB", n>>10)
}

func limitCases() []*Case {
	var cs []*Case
	type kind struct {
		binary   bool
		name     string
		pattern  string // 9.1/9.2 and 9.5/9.6 payloads
		fragPat  string // 9.3/9.4 payloads
		sub      int
		fragSub  int
		chopSub  int
		roundSub int
	}
	kinds := []kind{
		{false, "text", "BAsd7&jh23", "*", 1, 3, 5, 7},
		{true, "binary", "\x00\xfe\x23\xfa\xf0", "\xfe", 2, 4, 6, 8},
	}
	whole := func(s *Session, op byte, p []byte) { s.SendMessage(op, p, 0, 0) }
	for _, k := range kinds {
		for i, n := range limitSizes {
			cs = append(cs, bigEcho(fmt.Sprintf("9.%d.%d", k.sub, i+1),
				fmt.Sprintf("Send %s message with payload of length %s.", k.name, sizeName(n)),
				k.binary, func() []byte { return repeat(k.pattern, n) }, 100*time.Second, whole))
		}
	}
	for _, k := range kinds {
		for i, frag := range []int{64, 256, 1 << 10, 4 << 10, 16 << 10, 64 << 10, 256 << 10, 1 << 20, 4 << 20} {
			cs = append(cs, bigEcho(fmt.Sprintf("9.%d.%d", k.fragSub, i+1),
				fmt.Sprintf("Send fragmented %s message of 4 MiB in fragments of %d octets.", k.name, frag),
				k.binary, func() []byte { return repeat(k.fragPat, 4<<20) }, 100*time.Second,
				func(s *Session, op byte, p []byte) { s.SendMessage(op, p, frag, 0) }))
		}
	}
	for _, k := range kinds {
		for i, chop := range []int{64, 128, 256, 512, 1024, 2048} {
			cs = append(cs, bigEcho(fmt.Sprintf("9.%d.%d", k.chopSub, i+1),
				fmt.Sprintf("Send %s message of 1 MiB, written in chops of %d octets.", k.name, chop),
				k.binary, func() []byte { return repeat(k.pattern, 1<<20) }, 100*time.Second,
				func(s *Session, op byte, p []byte) { s.SendMessage(op, p, 0, chop) }))
		}
	}
	for _, k := range kinds {
		for i, t := range []struct {
			size int
			wait time.Duration
		}{{0, 60}, {16, 60}, {64, 60}, {256, 120}, {1024, 240}, {4096, 480}} {
			cs = append(cs, roundTrips(fmt.Sprintf("9.%d.%d", k.roundSub, i+1), k.binary, k.name, t.size, 1000, t.wait*time.Second))
		}
	}
	cs = append(cs, &Case{
		ID:          "10.1.1",
		Description: "Send text message with payload of length 65536 auto-fragmented into frames of 1300 octets.",
		Run: func(s *Session) {
			p := repeat("*", 65536)
			expectEcho(s, Message(p, false))
			s.SendMessage(opText, p, 1300, 0)
			s.KillAfter(10 * time.Second)
		},
	})
	return cs
}

// roundTrips sends count messages of size bytes one at a time, each after
// the echo of the previous one (9.7 and 9.8).
func roundTrips(id string, binary bool, kind string, size, count int, wait time.Duration) *Case {
	op, pattern := opText, "*"
	if binary {
		op, pattern = opBinary, "\xfe"
	}
	payload := repeat(pattern, size)
	return &Case{
		ID:          id,
		Description: fmt.Sprintf("Send %d %s messages of payload size %d, each after the echo of the previous one.", count, kind, size),
		Timeout:     wait + 10*time.Second,
		Run: func(s *Session) {
			s.SetBehavior(Failed, fmt.Sprintf("Case did not finish within %s.", wait))
			s.ExpectClose(true, true, 1000)
			s.bump()
			s.Send(Frame{Opcode: op, Payload: payload})
			s.CloseAfter(wait)
		},
		OnMessage: func(s *Session, data []byte, gotBinary bool) {
			switch {
			case gotBinary != binary || !bytes.Equal(data, payload):
				s.SetBehavior(Failed, fmt.Sprintf("Echoed message differs (binary=%v, length %d).", gotBinary, len(data)))
				s.Close(1000, nil)
			case s.bump() <= count:
				s.Send(Frame{Opcode: op, Payload: payload})
				s.flush()
			default:
				s.SetBehavior(OK, fmt.Sprintf("Received all %d echoed messages in time.", count))
				s.Close(1000, nil)
			}
		},
	}
}
