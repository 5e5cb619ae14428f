package conformance

import (
	"bufio"
	"net"
	"sync"
	"time"
)

// Timing of the suite's side of a connection, as in Autobahn's fuzzer.
const (
	closeHandshakeTimeout = time.Second // our close sent, theirs awaited
	serverDropTimeout     = time.Second // client role: wait for the server to close TCP
	syncPause             = 2 * time.Millisecond
	chopPause             = time.Millisecond
	maxPausedChops        = 256 // more chops than this are written back to back
	defaultCaseTimeout    = 30 * time.Second
)

type connState int

const (
	stOpen connState = iota
	stClosing
	stClosed
)

type expectation struct {
	verdict Verdict
	events  []Event
}

type closeExpectation struct {
	closedByMe   bool
	codes        []int
	requireClean bool
}

// Session is one case's connection, seen from the suite: the case script
// drives it with the methods below, while a reader goroutine records what the
// peer sends, answers its close frame and ends the connection the way
// Autobahn's fuzzer does.
type Session struct {
	c      *Case
	conn   net.Conn
	br     *bufio.Reader
	server bool // the suite is the server: frames unmasked, it closes TCP first
	start  time.Time

	wmu     sync.Mutex // serializes writes; guards pending
	pending []byte     // frames sent back to back, written as one chop

	mu            sync.Mutex
	state         connState
	expected      []expectation
	expClose      closeExpectation
	custom        bool // the case sets its behaviour itself
	received      []Event
	behavior      Verdict
	detail        string
	suppressClose bool
	closedByMe    bool
	wasClean      bool
	closeRecv     bool
	droppedByMe   bool
	killed        bool
	remoteCode    int
	remoteReason  string
	peerErr       error
	timers        []*time.Timer
	done          chan struct{}
	counter       int    // a case's own counter (bump)
	payload       []byte // a case's own data (setData)

	// deflate is the negotiated permessage-deflate (nil: none); its
	// compressor is used under wmu, its inflater by the reader only.
	deflate *deflateConn
	// deflateErr is why the peer's offer could not be answered (server role).
	deflateErr error
}

func newSession(c *Case, conn net.Conn, br *bufio.Reader, server bool) *Session {
	if tc, ok := conn.(*net.TCPConn); ok {
		tc.SetNoDelay(true)
	}
	return &Session{
		c: c, conn: conn, br: br, server: server, start: time.Now(),
		behavior:   Failed,
		detail:     "Actual events differ from any expected.",
		remoteCode: -1,
		done:       make(chan struct{}),
	}
}

// run executes the case to its end and judges it.
func (s *Session) run() Result {
	timeout := s.c.Timeout
	if timeout <= 0 {
		timeout = defaultCaseTimeout
	}
	s.after(timeout, func() { s.drop(true) })
	go s.readLoop()
	scriptDone := make(chan struct{})
	go func() {
		defer close(scriptDone)
		s.c.Run(s)
		s.flush()
	}()
	<-s.done
	s.conn.Close()
	<-scriptDone
	s.mu.Lock()
	for _, t := range s.timers {
		t.Stop()
	}
	s.mu.Unlock()
	return s.judge()
}

// after runs f after d unless the connection is closed by then.
func (s *Session) after(d time.Duration, f func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.state == stClosed {
		return
	}
	s.timers = append(s.timers, time.AfterFunc(d, f))
}

// Expect states an acceptable sequence of events and the verdict it earns.
// Sequences are tried in the order given.
func (s *Session) Expect(v Verdict, events ...Event) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if events == nil {
		events = []Event{}
	}
	s.expected = append(s.expected, expectation{v, events})
}

// ExpectClose states how the connection must end: who starts the closing
// handshake (the suite when byMe), whether it must complete, and the close
// codes accepted from the peer (a close frame without code is always
// accepted, as in Autobahn). When byMe, the suite closes with codes[0] as
// soon as the events match every expectation.
func (s *Session) ExpectClose(byMe, requireClean bool, codes ...int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.expClose = closeExpectation{closedByMe: byMe, codes: codes, requireClean: requireClean}
}

// SuppressClose stops the suite from closing when the expectations are met
// (cases that send their own close frames).
func (s *Session) SuppressClose() {
	s.mu.Lock()
	s.suppressClose = true
	s.mu.Unlock()
}

// SetBehavior sets the case's behaviour verdict and its explanation (cases
// with their own OnMessage).
func (s *Session) SetBehavior(v Verdict, detail string) {
	s.mu.Lock()
	s.custom = true
	s.behavior, s.detail = v, detail
	s.mu.Unlock()
}

// Send sends one frame: coalesced with the frames around it, or on its own
// (Sync), or in chops (Chop).
func (s *Session) Send(f Frame) {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	switch {
	case f.Chop > 0:
		s.flushLocked()
		b, _ := encodeFrame(nil, f, !s.server)
		n := (len(b) + f.Chop - 1) / f.Chop
		for i := 0; i < len(b); i += f.Chop {
			if s.closed() {
				return
			}
			if _, err := s.conn.Write(b[i:min(i+f.Chop, len(b))]); err != nil {
				return
			}
			if n <= maxPausedChops {
				time.Sleep(chopPause)
			}
		}
	case f.Sync:
		s.flushLocked()
		b, _ := encodeFrame(nil, f, !s.server)
		s.conn.Write(b)
		time.Sleep(syncPause)
	default:
		s.pending, _ = encodeFrame(s.pending, f, !s.server)
		if len(s.pending) >= 256<<10 {
			s.flushLocked()
		}
	}
}

// SendMessage sends a whole message of type op, in frames of at most
// fragSize payload bytes (0: one frame), each written as Send would with the
// given chop size.
func (s *Session) SendMessage(op byte, payload []byte, fragSize, chop int) {
	if fragSize <= 0 || len(payload) <= fragSize {
		s.Send(Frame{Opcode: op, Payload: payload, Chop: chop})
		return
	}
	for i := 0; i < len(payload); i += fragSize {
		end := min(i+fragSize, len(payload))
		o := opCont
		if i == 0 {
			o = op
		}
		s.Send(Frame{Opcode: o, NotFin: end < len(payload), Payload: payload[i:end], Chop: chop})
	}
}

// Deflate returns the negotiated permessage-deflate response, and whether
// there is one.
func (s *Session) Deflate() (string, bool) {
	if s.deflate == nil {
		return "", false
	}
	return s.deflate.negotiated, true
}

// SendCompressed sends a message compressed with the negotiated
// permessage-deflate, the compressed payload cut in frames of at most
// fragSize bytes (0: one frame), RSV1 on the first (Autobahn's
// auto-fragmentation of compressed messages).
func (s *Session) SendCompressed(op byte, payload []byte, fragSize int) {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	z := s.deflate.compress(payload)
	for i := 0; ; i += fragSize {
		end := len(z)
		if fragSize > 0 {
			end = min(i+fragSize, len(z))
		}
		f := Frame{Opcode: opCont, NotFin: end < len(z), Payload: z[i:end]}
		if i == 0 {
			f.Opcode, f.Rsv = op, rsv1
		}
		s.pending, _ = encodeFrame(s.pending, f, !s.server)
		if end == len(z) {
			break
		}
	}
	if len(s.pending) >= 256<<10 {
		s.flushLocked()
	}
}

// SendRaw writes bytes as they are, after what is pending.
func (s *Session) SendRaw(b []byte) {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	s.flushLocked()
	s.conn.Write(b)
}

// EncodeFrame returns f as the suite would send it (masked in the client
// role) and the length of its header, for cases that write a frame in parts.
func (s *Session) EncodeFrame(f Frame) (b []byte, headerLen int) {
	return encodeFrame(nil, f, !s.server)
}

// Close starts the closing handshake with a close frame carrying code (-1:
// no status) and reason, if the connection is open (Autobahn's sendClose and
// sendCloseFrame; see CloseFrame for arbitrary payloads).
func (s *Session) Close(code int, reason []byte) {
	var p []byte
	if code >= 0 {
		p = closePayload(code, reason)
	} else {
		p = reason
	}
	s.CloseFrame(p)
}

// CloseFrame starts the closing handshake with a close frame carrying
// payload as given (which may be invalid), if the connection is open.
func (s *Session) CloseFrame(payload []byte) {
	s.mu.Lock()
	if s.state != stOpen {
		s.mu.Unlock()
		return
	}
	s.state = stClosing
	s.closedByMe = true
	s.mu.Unlock()
	s.after(closeHandshakeTimeout, func() { s.drop(true) })
	s.wmu.Lock()
	s.pending, _ = encodeFrame(s.pending, Frame{Opcode: opClose, Payload: payload}, !s.server)
	s.flushLocked()
	s.wmu.Unlock()
}

// Wait flushes, waits d and reports whether the connection is still open
// (Autobahn's continueLater followed by its state check).
func (s *Session) Wait(d time.Duration) bool {
	s.flush()
	select {
	case <-s.done:
		return false
	case <-time.After(d):
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.state == stOpen
}

// bump increments the case's counter and returns its new value.
func (s *Session) bump() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.counter++
	return s.counter
}

// bumped returns the case's counter.
func (s *Session) bumped() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.counter
}

func (s *Session) setData(p []byte) {
	s.mu.Lock()
	s.payload = p
	s.mu.Unlock()
}

func (s *Session) data() []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.payload
}

// Record adds an event of the suite's own (a Timeout marker).
func (s *Session) Record(e Event) {
	s.mu.Lock()
	s.received = append(s.received, e)
	s.mu.Unlock()
}

// KillAfter drops the connection d from now if it is still up.
func (s *Session) KillAfter(d time.Duration) {
	s.flush()
	s.after(d, func() {
		s.mu.Lock()
		s.killed = s.state != stClosed && !s.closeRecv
		s.mu.Unlock()
		s.drop(true)
	})
}

// CloseAfter starts the closing handshake (code 1000) d from now if the
// connection is still open.
func (s *Session) CloseAfter(d time.Duration) {
	s.flush()
	s.after(d, func() { s.Close(1000, nil) })
}

func (s *Session) flush() {
	s.wmu.Lock()
	s.flushLocked()
	s.wmu.Unlock()
}

func (s *Session) flushLocked() {
	if len(s.pending) > 0 {
		s.conn.Write(s.pending)
		s.pending = s.pending[:0]
	}
}

func (s *Session) closed() bool {
	select {
	case <-s.done:
		return true
	default:
		return false
	}
}

// drop closes the TCP connection; byMe records that the suite did it first.
func (s *Session) drop(byMe bool) {
	s.mu.Lock()
	if s.state != stClosed && byMe {
		s.droppedByMe = true
	}
	s.mu.Unlock()
	s.conn.Close()
}
