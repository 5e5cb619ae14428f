package conformance

import (
	"fmt"
	"time"
)

// Section 7: close handling, every close started by the suite.

// closeCase builds a 7.x case: run sends, the peer must end as expected
// (closedByMe: the suite's close frame opened the handshake), and a wrong
// close code fails the case.
func closeCase(id, desc string, run func(s *Session)) *Case {
	return &Case{ID: id, Description: desc, Finish: closeFinish, Run: func(s *Session) {
		s.SuppressClose()
		run(s)
		s.KillAfter(time.Second)
	}}
}

func closeCases() []*Case {
	hello := []byte("Hello World!")
	cs := []*Case{
		{ID: "7.1.1", Description: "Send a message followed by a close frame.", Run: func(s *Session) {
			expectEcho(s, Message(hello, false))
			s.Send(Frame{Opcode: opText, Payload: hello})
			s.Close(1000, nil)
			s.KillAfter(time.Second)
		}},
		closeCase("7.1.2", "Send two close frames.", func(s *Session) {
			expectEcho(s)
			s.Close(1000, nil)
			s.Send(Frame{Opcode: opClose})
		}),
		closeCase("7.1.3", "Send a ping after the close frame.", func(s *Session) {
			expectEcho(s)
			s.Close(1000, nil)
			s.Send(Frame{Opcode: opPing})
		}),
		closeCase("7.1.4", "Send a text message after the close frame.", func(s *Session) {
			expectEcho(s)
			s.Close(1000, nil)
			s.Send(Frame{Opcode: opText, Payload: hello})
		}),
		closeCase("7.1.5", "Send message fragment 1, then a close frame, then fragment 2.", func(s *Session) {
			expectEcho(s)
			s.Send(Frame{Opcode: opText, NotFin: true, Payload: []byte("fragment1")})
			s.Close(1000, nil)
			s.Send(Frame{Opcode: opCont, Payload: []byte("fragment2")})
		}),
		{
			ID:          "7.1.6",
			Description: "Send a 256 KiB message, a small message, a close frame and a ping, back to back.",
			Finish:      informationalFinish,
			Run: func(s *Session) {
				s.SuppressClose()
				s.Expect(OK, Message(hello, false))
				s.Expect(NonStrict)
				s.ExpectClose(true, true, 1000)
				s.Send(Frame{Opcode: opText, Payload: repeat("BAsd7&jh23", 256<<10)})
				s.Send(Frame{Opcode: opText, Payload: hello})
				s.Close(1000, nil)
				s.Send(Frame{Opcode: opPing})
				s.KillAfter(time.Second)
			},
		},
		closeCase("7.3.1", "Send a close frame with payload length 0 (no code, no reason).", func(s *Session) {
			expectEcho(s)
			s.Close(-1, nil)
		}),
		closeCase("7.3.2", "Send a close frame with payload length 1.", func(s *Session) {
			s.Expect(OK)
			s.ExpectClose(true, false, 1002)
			s.CloseFrame([]byte("a"))
		}),
		closeCase("7.3.3", "Send a close frame with close code and no reason.", func(s *Session) {
			expectEcho(s)
			s.Close(1000, nil)
		}),
		closeCase("7.3.4", "Send a close frame with close code and reason.", func(s *Session) {
			expectEcho(s)
			s.Close(1000, hello)
		}),
		closeCase("7.3.5", "Send a close frame with close code and a reason of maximum length (123).", func(s *Session) {
			expectEcho(s)
			s.Close(1000, repeat("*", 123))
		}),
		closeCase("7.3.6", "Send a close frame with close code and a reason which is too long (124): payload of 126 octets.", func(s *Session) {
			s.Expect(OK)
			s.ExpectClose(true, false, 1002)
			s.Close(1000, repeat("*", 124))
		}),
		closeCase("7.5.1", "Send a close frame whose reason is invalid UTF-8.", func(s *Session) {
			s.Expect(OK)
			s.ExpectClose(true, false, 1002, 1007)
			s.Close(1000, []byte(kosme+"\xed\xa0\x80edited"))
		}),
	}
	for i, code := range []int{1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 3000, 3999, 4000, 4999} {
		cs = append(cs, closeCase(fmt.Sprintf("7.7.%d", i+1), fmt.Sprintf("Send close with valid close code %d.", code), func(s *Session) {
			s.Expect(OK)
			s.ExpectClose(true, true, 1000, code)
			s.Close(code, nil)
		}))
	}
	for i, code := range []int{0, 999, 1004, 1005, 1006, 1016, 1100, 2000, 2999} {
		cs = append(cs, closeCase(fmt.Sprintf("7.9.%d", i+1), fmt.Sprintf("Send close with invalid close code %d.", code), func(s *Session) {
			s.Expect(OK)
			s.ExpectClose(true, false, 1002)
			s.Close(code, nil)
		}))
	}
	for i, code := range []int{5000, 65535} {
		c := closeCase(fmt.Sprintf("7.13.%d", i+1), fmt.Sprintf("Send close with close code %d (outside the registry).", code), func(s *Session) {
			s.Expect(OK)
			s.ExpectClose(true, false, 1000, code, 1002)
			s.Close(code, nil)
		})
		c.Finish = informationalFinish
		cs = append(cs, c)
	}
	return cs
}
