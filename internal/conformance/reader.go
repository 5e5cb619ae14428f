package conformance

import (
	"errors"
	"fmt"
	"unicode/utf8"
)

// The reader side of a Session: what the peer sends, and how the suite answers.

// readLoop records the peer's frames until the connection ends.
func (s *Session) readLoop() {
	defer func() {
		s.mu.Lock()
		s.state = stClosed
		s.mu.Unlock()
		close(s.done)
	}()
	var msg []byte
	var msgOp byte
	inMsg, compressed := false, false
	var allowedRsv byte
	if s.deflate != nil {
		allowedRsv = rsv1
	}
	for {
		f, err := readFrame(s.br, s.server, maxPeerMessage, allowedRsv)
		if err != nil {
			if errors.Is(err, errPeer) {
				s.fail(err)
			}
			return
		}
		s.mu.Lock()
		closing := s.state != stOpen
		recvClose := s.closeRecv
		s.mu.Unlock()
		if recvClose {
			continue // after the closing handshake, only EOF matters
		}
		switch f.opcode {
		case opPing:
			s.event(Event{Kind: EventPing, Data: f.payload})
			if !closing {
				s.write(Frame{Opcode: opPong, Payload: f.payload})
			}
		case opPong:
			s.event(Event{Kind: EventPong, Data: f.payload})
		case opClose:
			if !s.onClose(f.payload) {
				return
			}
		case opText, opBinary, opCont:
			switch {
			case f.opcode == opCont && !inMsg:
				s.fail(fmt.Errorf("%w: continuation frame without a message", errPeer))
				return
			case f.opcode != opCont && inMsg:
				s.fail(fmt.Errorf("%w: new message inside a fragmented one", errPeer))
				return
			case len(msg)+len(f.payload) > maxPeerMessage:
				s.fail(fmt.Errorf("%w: message exceeds the suite's limit", errPeer))
				return
			}
			if f.opcode == opCont && f.rsv != 0 {
				s.fail(fmt.Errorf("%w: RSV1 set on a continuation frame", errPeer))
				return
			}
			if f.opcode != opCont {
				msgOp, msg, inMsg, compressed = f.opcode, nil, true, f.rsv&rsv1 != 0
			}
			if msg == nil && f.fin {
				msg = f.payload // unfragmented: no copy
			} else {
				msg = append(msg, f.payload...)
			}
			if f.fin {
				inMsg = false
				if compressed {
					if msg, err = s.deflate.inflate(msg, maxPeerMessage); err != nil {
						s.fail(fmt.Errorf("%w: compressed message: %v", errPeer, err))
						return
					}
				}
				if msgOp == opText && !utf8.Valid(msg) {
					s.fail(fmt.Errorf("%w: text message is not UTF-8", errPeer))
					return
				}
				if msg == nil {
					msg = []byte{}
				}
				s.message(msg, msgOp == opBinary)
				msg = nil
			}
		}
	}
}

func (s *Session) message(data []byte, binary bool) {
	if s.c.OnMessage != nil {
		s.c.OnMessage(s, data, binary)
		return
	}
	s.event(Message(data, binary))
}

// event records e and, once the events match every expectation, starts the
// closing handshake when the suite is to close (Autobahn's finishWhenDone).
func (s *Session) event(e Event) {
	s.mu.Lock()
	s.received = append(s.received, e)
	closeNow := s.expClose.closedByMe && !s.suppressClose && s.state == stOpen && len(s.expected) > 0
	for _, x := range s.expected {
		if !eventsEqual(s.received, x.events) {
			closeNow = false
			break
		}
	}
	code := 1000
	if len(s.expClose.codes) > 0 {
		code = s.expClose.codes[0]
	}
	s.mu.Unlock()
	if closeNow {
		s.Close(code, nil)
	}
}

// onClose handles the peer's close frame; false ends the connection.
func (s *Session) onClose(payload []byte) bool {
	code, reason, err := parseClose(payload)
	if err != nil {
		s.fail(err)
		return false
	}
	s.mu.Lock()
	s.remoteCode, s.remoteReason = code, reason
	s.closeRecv = true
	byMe := s.state == stClosing && s.closedByMe
	s.wasClean = true
	if !byMe {
		s.state = stClosing
	}
	s.mu.Unlock()
	if !byMe {
		s.write(Frame{Opcode: opClose, Payload: closePayload(1000, nil)})
	}
	if s.server {
		s.drop(true)
		return false
	}
	// Client: the server is to close TCP now.
	s.after(serverDropTimeout, func() { s.drop(true) })
	return true
}

// fail records a protocol violation by the peer and drops the connection.
func (s *Session) fail(err error) {
	s.mu.Lock()
	if s.peerErr == nil {
		s.peerErr = err
	}
	s.mu.Unlock()
	s.drop(true)
}

// write sends a frame of the suite's own protocol handling (pong, close
// reply) after whatever the script has pending.
func (s *Session) write(f Frame) {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	s.pending, _ = encodeFrame(s.pending, f, !s.server)
	s.flushLocked()
}
