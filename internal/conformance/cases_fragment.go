package conformance

import (
	"fmt"
	"time"
)

// Section 5: fragmentation.

// writeModes are Autobahn's three ways of writing the same frames: all in one
// TCP write, one write per frame, one write per octet.
var writeModes = []struct {
	sync bool
	chop int
	desc string
}{
	{false, 0, "sent in one chop"},
	{true, 0, "sent frame-wise"},
	{false, 1, "sent octet-wise"},
}

func fragmentationCases() []*Case {
	f1, f2 := []byte("fragment1"), []byte("fragment2")
	var cs []*Case
	for i, op := range []byte{opPing, opPong} {
		name := map[byte]string{opPing: "ping", opPong: "pong"}[op]
		cs = append(cs, &Case{
			ID:          fmt.Sprintf("5.%d", i+1),
			Description: fmt.Sprintf("Send %s fragmented into 2 fragments.", name),
			Run: func(s *Session) {
				expectFailure(s, 1002)
				s.Send(Frame{Opcode: op, NotFin: true, Payload: f1})
				s.Send(Frame{Opcode: opCont, Payload: f2})
				s.KillAfter(time.Second)
			},
		})
	}
	for i, m := range writeModes {
		cs = append(cs, &Case{
			ID:          fmt.Sprintf("5.%d", 3+i),
			Description: "Send text message fragmented into 2 fragments, " + m.desc + ".",
			Run: func(s *Session) {
				expectEcho(s, Message([]byte("fragment1fragment2"), false))
				s.Send(Frame{Opcode: opText, NotFin: true, Payload: f1, Sync: m.sync, Chop: m.chop})
				s.Send(Frame{Opcode: opCont, Payload: f2, Sync: m.sync, Chop: m.chop})
				s.CloseAfter(time.Second)
			},
		})
	}
	for i, m := range writeModes {
		cs = append(cs, &Case{
			ID:          fmt.Sprintf("5.%d", 6+i),
			Description: "Send text message fragmented into 2 fragments with a ping in between, " + m.desc + ".",
			Run: func(s *Session) {
				ping := []byte("ping payload")
				expectEcho(s, Pong(ping), Message([]byte("fragment1fragment2"), false))
				s.Send(Frame{Opcode: opText, NotFin: true, Payload: f1, Sync: m.sync, Chop: m.chop})
				s.Send(Frame{Opcode: opPing, Payload: ping, Sync: m.sync, Chop: m.chop})
				s.Send(Frame{Opcode: opCont, Payload: f2, Sync: m.sync, Chop: m.chop})
				s.CloseAfter(time.Second)
			},
		})
	}
	for j, fin := range []bool{true, false} {
		for i, m := range writeModes {
			cs = append(cs, &Case{
				ID: fmt.Sprintf("5.%d", 9+3*j+i),
				Description: fmt.Sprintf("Send unfragmented text message after a continuation frame with FIN = %v where there is nothing to continue, %s.",
					fin, m.desc),
				Run: func(s *Session) {
					expectFailure(s, 1002)
					s.Send(Frame{Opcode: opCont, NotFin: !fin, Payload: []byte("non-continuation payload"), Sync: m.sync, Chop: m.chop})
					s.Send(Frame{Opcode: opText, Payload: []byte("Hello, world!"), Sync: m.sync, Chop: m.chop})
					s.KillAfter(time.Second)
				},
			})
		}
	}
	cs = append(cs, &Case{
		ID:          "5.15",
		Description: "Send text message in 2 fragments, then a continuation frame with FIN = false where there is nothing to continue, then an unfragmented text message, in one chop.",
		Run: func(s *Session) {
			expectFailure(s, 1002, Message([]byte("fragment1fragment2"), false))
			s.Send(Frame{Opcode: opText, NotFin: true, Payload: f1})
			s.Send(Frame{Opcode: opCont, Payload: f2})
			s.Send(Frame{Opcode: opCont, NotFin: true, Payload: []byte("fragment3")})
			s.Send(Frame{Opcode: opText, Payload: []byte("fragment4")})
			s.KillAfter(time.Second)
		},
	})
	for i, fin := range []bool{false, true} {
		cs = append(cs, &Case{
			ID:          fmt.Sprintf("5.%d", 16+i),
			Description: fmt.Sprintf("Repeated 2x: continuation frame with FIN = %v (nothing to continue), then text message fragmented into 2 fragments.", fin),
			Run: func(s *Session) {
				expectFailure(s, 1002)
				for range 2 {
					s.Send(Frame{Opcode: opCont, NotFin: !fin, Payload: f1})
					s.Send(Frame{Opcode: opText, NotFin: true, Payload: f2})
					s.Send(Frame{Opcode: opCont, Payload: []byte("fragment3")})
				}
				s.KillAfter(time.Second)
			},
		})
	}
	cs = append(cs, &Case{
		ID:          "5.18",
		Description: "Send text message fragmented into 2 fragments, both frames with opcode text, in one chop.",
		Run: func(s *Session) {
			expectFailure(s, 1002)
			s.Send(Frame{Opcode: opText, NotFin: true, Payload: f1})
			s.Send(Frame{Opcode: opText, Payload: f2})
			s.KillAfter(time.Second)
		},
	})
	for i, sync := range []bool{false, true} {
		how := ""
		if sync {
			how = " Frames are sent frame-wise."
		}
		cs = append(cs, &Case{
			ID: fmt.Sprintf("5.%d", 19+i),
			Description: "A text message in 5 fragments: 2 fragments, a ping, a 1 s wait, 2 more fragments, another ping, the last fragment." +
				how,
			Run: func(s *Session) {
				frags := [][]byte{f1, f2, []byte("fragment3"), []byte("fragment4"), []byte("fragment5")}
				p1, p2 := []byte("pongme 1!"), []byte("pongme 2!")
				expectEcho(s, Pong(p1), Pong(p2), Message([]byte("fragment1fragment2fragment3fragment4fragment5"), false))
				s.Send(Frame{Opcode: opText, NotFin: true, Payload: frags[0], Sync: sync})
				s.Send(Frame{Opcode: opCont, NotFin: true, Payload: frags[1], Sync: sync})
				s.Send(Frame{Opcode: opPing, Payload: p1, Sync: sync})
				s.Wait(time.Second)
				s.Send(Frame{Opcode: opCont, NotFin: true, Payload: frags[2], Sync: sync})
				s.Send(Frame{Opcode: opCont, NotFin: true, Payload: frags[3], Sync: sync})
				s.Send(Frame{Opcode: opPing, Payload: p2, Sync: sync})
				s.Send(Frame{Opcode: opCont, Payload: frags[4], Sync: sync})
				s.CloseAfter(time.Second)
			},
		})
	}
	return cs
}
