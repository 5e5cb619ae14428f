package conformance

import (
	"bytes"
	"fmt"
	"time"
)

// Sections 1 (framing), 2 (pings/pongs), 3 (reserved bits) and 4 (opcodes).

// repeat returns n bytes of pattern repeated (Autobahn's payload_len).
func repeat(pattern string, n int) []byte {
	if n == 0 {
		return []byte{}
	}
	return bytes.Repeat([]byte(pattern), n/len(pattern)+1)[:n]
}

// expectEcho is the usual expectation of a valid exchange: these events, then
// a clean close the suite starts with 1000.
func expectEcho(s *Session, events ...Event) {
	s.Expect(OK, events...)
	s.ExpectClose(true, true, 1000)
}

// expectFailure is the usual expectation of an invalid input: the peer fails
// the connection with code (or drops it). With events (what a strict peer
// sends before failing), failing earlier is NON-STRICT.
func expectFailure(s *Session, code int, events ...Event) {
	s.Expect(OK, events...)
	if len(events) > 0 {
		s.Expect(NonStrict)
	}
	s.ExpectClose(false, false, code)
}

func framingCases() []*Case {
	var cs []*Case
	sizes := []int{0, 125, 126, 127, 128, 65535, 65536}
	for _, binary := range []bool{false, true} {
		sub, op, pat, kind := 1, opText, "*", "text"
		if binary {
			sub, op, pat, kind = 2, opBinary, "\xfe", "binary"
		}
		for i, n := range sizes {
			cs = append(cs, &Case{
				ID:          fmt.Sprintf("1.%d.%d", sub, i+1),
				Description: fmt.Sprintf("Send %s message with payload of length %d.", kind, n),
				Run: func(s *Session) {
					p := repeat(pat, n)
					expectEcho(s, Message(p, binary))
					s.Send(Frame{Opcode: op, Payload: p})
					s.KillAfter(10 * time.Second)
				},
			})
		}
		cs = append(cs, &Case{
			ID:          fmt.Sprintf("1.%d.8", sub),
			Description: fmt.Sprintf("Send %s message with payload of length 65536, written in chops of 997 octets.", kind),
			Run: func(s *Session) {
				p := repeat(pat, 65536)
				expectEcho(s, Message(p, binary))
				s.Send(Frame{Opcode: op, Payload: p, Chop: 997})
				s.KillAfter(10 * time.Second)
			},
		})
	}
	return cs
}

func pingCases() []*Case {
	pingEcho := func(id, desc string, payload []byte, chop int) *Case {
		return &Case{ID: id, Description: desc, Run: func(s *Session) {
			expectEcho(s, Pong(payload))
			s.Send(Frame{Opcode: opPing, Payload: payload, Chop: chop})
			s.CloseAfter(2 * time.Second)
		}}
	}
	tenPings := func(id, desc string, chop int) *Case {
		return &Case{ID: id, Description: desc, Run: func(s *Session) {
			var want []Event
			for i := range 10 {
				want = append(want, Pong(fmt.Appendf(nil, "payload-%d", i)))
			}
			expectEcho(s, want...)
			for _, e := range want {
				s.Send(Frame{Opcode: opPing, Payload: e.Data, Chop: chop})
			}
			s.CloseAfter(3 * time.Second)
		}}
	}
	unsolicited := []byte("unsolicited pong payload")
	return []*Case{
		pingEcho("2.1", "Send ping without payload.", []byte{}, 0),
		pingEcho("2.2", "Send ping with small text payload.", []byte("Hello, world!"), 0),
		pingEcho("2.3", "Send ping with small binary (non UTF-8) payload.", []byte("\x00\xff\xfe\xfd\xfc\xfb\x00\xff"), 0),
		pingEcho("2.4", "Send ping with binary payload of 125 octets.", repeat("\xfe", 125), 0),
		{ID: "2.5", Description: "Send ping with binary payload of 126 octets.", Run: func(s *Session) {
			expectFailure(s, 1002)
			s.Send(Frame{Opcode: opPing, Payload: repeat("\xfe", 126)})
			s.KillAfter(time.Second)
		}},
		pingEcho("2.6", "Send ping with binary payload of 125 octets, in octet-wise chops.", repeat("\xfe", 125), 1),
		{ID: "2.7", Description: "Send unsolicited pong without payload.", Run: func(s *Session) {
			expectEcho(s)
			s.Send(Frame{Opcode: opPong})
			s.CloseAfter(time.Second)
		}},
		{ID: "2.8", Description: "Send unsolicited pong with payload.", Run: func(s *Session) {
			expectEcho(s)
			s.Send(Frame{Opcode: opPong, Payload: unsolicited})
			s.CloseAfter(time.Second)
		}},
		{ID: "2.9", Description: "Send unsolicited pong with payload, then ping with payload.", Run: func(s *Session) {
			expectEcho(s, Pong([]byte("ping payload")))
			s.Send(Frame{Opcode: opPong, Payload: unsolicited})
			s.Send(Frame{Opcode: opPing, Payload: []byte("ping payload")})
			s.CloseAfter(time.Second)
		}},
		tenPings("2.10", "Send 10 pings with payload.", 0),
		tenPings("2.11", "Send 10 pings with payload, in octet-wise chops.", 1),
	}
}

func reservedBitsCases() []*Case {
	hello := []byte("Hello, world!")
	thenPing := func(id string, rsv byte, sync bool, chop int, how string) *Case {
		return &Case{
			ID:          id,
			Description: fmt.Sprintf("Send small text message, then again with RSV = %d, then ping%s.", rsv, how),
			Run: func(s *Session) {
				expectFailure(s, 1002, Message(hello, false))
				s.Send(Frame{Opcode: opText, Payload: hello, Sync: sync, Chop: chop})
				s.Send(Frame{Opcode: opText, Payload: hello, Rsv: rsv, Sync: sync, Chop: chop})
				s.Send(Frame{Opcode: opPing, Sync: sync, Chop: chop})
				s.KillAfter(time.Second)
			},
		}
	}
	single := func(id, desc string, f Frame) *Case {
		return &Case{ID: id, Description: desc, Run: func(s *Session) {
			expectFailure(s, 1002)
			s.Send(f)
			s.KillAfter(time.Second)
		}}
	}
	return []*Case{
		single("3.1", "Send small text message with RSV = 1.", Frame{Opcode: opText, Payload: hello, Rsv: 1}),
		thenPing("3.2", 2, false, 0, ""),
		thenPing("3.3", 3, true, 0, ", frame-wise"),
		thenPing("3.4", 4, false, 1, ", octet-wise"),
		single("3.5", "Send small binary message with RSV = 5.", Frame{Opcode: opBinary, Payload: []byte("\x00\xff\xfe\xfd\xfc\xfb\x00\xff"), Rsv: 5}),
		single("3.6", "Send ping with payload with RSV = 6.", Frame{Opcode: opPing, Payload: []byte("ping payload"), Rsv: 6}),
		single("3.7", "Send close with RSV = 7.", Frame{Opcode: opClose, Rsv: 7}),
	}
}

func opcodeCases() []*Case {
	hello := []byte("Hello, world!")
	var cs []*Case
	for sub, ops := range [][]byte{{3, 4, 5, 6, 7}, {11, 12, 13, 14, 15}} {
		kind := "non-control"
		if sub == 1 {
			kind = "control"
		}
		for i, op := range ops {
			var payload []byte
			if i%2 == 1 || i == 4 {
				payload = []byte("reserved opcode payload")
			}
			afterText := i >= 2
			desc := fmt.Sprintf("Send frame with reserved %s opcode %d.", kind, op)
			if afterText {
				desc = fmt.Sprintf("Send small text message, then frame with reserved %s opcode %d, then ping.", kind, op)
			}
			cs = append(cs, &Case{
				ID:          fmt.Sprintf("4.%d.%d", sub+1, i+1),
				Description: desc,
				Run: func(s *Session) {
					if afterText {
						expectFailure(s, 1002, Message(hello, false))
						s.Send(Frame{Opcode: opText, Payload: hello})
					} else {
						expectFailure(s, 1002)
					}
					s.Send(Frame{Opcode: op, Payload: payload})
					if afterText {
						s.Send(Frame{Opcode: opPing})
					}
					s.KillAfter(time.Second)
				},
			})
		}
	}
	return cs
}
