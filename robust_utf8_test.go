//go:build !js

package wspeer

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"
)

// Robustness against invalid close frames and invalid UTF-8, split at every
// byte across fragments and TCP segments (ROBUSTNESS.md).

func TestRobustInvalidCloseFrames(t *testing.T) {
	type tc struct {
		name    string
		payload []byte
		code    int  // the close code the server must send back
		echo    bool // a valid close, echoed
	}
	var tests []tc
	for _, code := range []int{0, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535} {
		tests = append(tests, tc{fmt.Sprintf("code %d", code), closePayload(code, ""), 1002, false})
	}
	for _, code := range []int{1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 4999} {
		tests = append(tests, tc{fmt.Sprintf("valid code %d", code), closePayload(code, "bye"), code, true})
	}
	for _, r := range []string{"\xff", "ok\xc0\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80", "end\xe2\x82"} {
		tests = append(tests, tc{fmt.Sprintf("reason %q", r), closePayload(1000, r), 1007, false})
	}
	tests = append(tests,
		tc{"one-byte payload", []byte{0x03}, 1002, false},
		tc{"123-byte reason", closePayload(1000, strings.Repeat("r", 123)), 1000, true},
		tc{"124-byte reason (126-byte control frame)", closePayload(1000, strings.Repeat("r", 124)), 1002, false},
		tc{"empty payload", nil, 1005, true},
	)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, rc := openServer(t, func(p *Peer) { p.CloseTimeout = time.Second })
			rc.write(frame(8, true, true, tt.payload))
			closedWithin(t, p, 5*time.Second)
			got, reason := rc.expectClose()
			switch {
			case tt.code == 1005:
				if got != 1005 || p.CloseCode() != 1005 || p.CloseError() != nil {
					t.Fatalf("echo %d, CloseCode %d, err %v", got, p.CloseCode(), p.CloseError())
				}
			case !tt.echo:
				if got != tt.code {
					t.Fatalf("answered %d %q, want %d", got, reason, tt.code)
				}
				expectProtocolCloseNoRead(t, p, tt.code, map[int]error{1002: ErrProtocolViolation, 1007: ErrInvalidPayload}[tt.code])
			default:
				// A valid close is echoed and reported as the peer's.
				if got != tt.code || p.CloseCode() != tt.code || reason != string(tt.payload[2:]) || p.CloseError() != nil {
					t.Fatalf("echo %d %q, CloseCode %d, err %v", got, reason, p.CloseCode(), p.CloseError())
				}
			}
		})
	}
}

// validPrefix reports whether b can begin a valid UTF-8 text: every complete
// sequence in it is valid and a tail, if any, can still be completed.
func validPrefix(b []byte) bool {
	for len(b) > 0 {
		r, size := utf8.DecodeRune(b)
		if r == utf8.RuneError && size == 1 {
			return !utf8.FullRune(b)
		}
		b = b[size:]
	}
	return true
}

// failAt returns the length of the shortest prefix of b that is no longer a
// valid prefix (the first byte an incremental validator must reject at), or
// len(b)+1 when only the end of the message reveals the error.
func failAt(b []byte) int {
	for m := 1; m <= len(b); m++ {
		if !validPrefix(b[:m]) {
			return m
		}
	}
	return len(b) + 1
}

// countingConn counts the bytes read from a connection.
type countingConn struct {
	net.Conn
	n atomic.Int64
}

func (c *countingConn) Read(b []byte) (int, error) {
	n, err := c.Conn.Read(b)
	c.n.Add(int64(n))
	return n, err
}

// segmentedServer is an OPEN server Peer on TCP whose received byte count is
// known, so that the test can make each of its writes a separate read.
type segmentedServer struct {
	t    *testing.T
	p    *Peer
	c    net.Conn // the raw client end
	br   *bufio.Reader
	cc   *countingConn
	sent int64
}

func newSegmentedServer(t *testing.T) *segmentedServer {
	t.Helper()
	ln := listen(t)
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	sc, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	s := &segmentedServer{t: t, p: NewPeer(), c: c, br: bufio.NewReader(c), cc: &countingConn{Conn: sc}}
	if err := s.p.AcceptStream(s.cc); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.p.Close(-1, "") })
	c.SetDeadline(time.Now().Add(testTimeout))
	rc := &rawClient{t: t, conn: c, br: s.br, key: testKey}
	req := validRequest()
	rc.write(req)
	s.sent = int64(len(req))
	pollUntil(t, s.p, "OPEN", stateIs(s.p, StateOpen))
	rc.readResponse(101)
	return s
}

// segment writes b as one TCP segment that the peer reads and parses alone.
func (s *segmentedServer) segment(b []byte) {
	s.t.Helper()
	if _, err := s.c.Write(b); err != nil {
		return // the peer closed already
	}
	s.sent += int64(len(b))
	end := time.Now().Add(testTimeout)
	for s.cc.n.Load() < s.sent && time.Now().Before(end) && s.p.ReadyState() == StateOpen {
		s.p.Poll()
		time.Sleep(50 * time.Microsecond)
	}
	s.p.Poll()
}

func TestRobustUTF8EverySplit(t *testing.T) {
	invalid := []string{
		"a\xc0\xafb",                       // overlong '/'
		"\xe2\x82\xac\xed\xa0\x80z",        // € then a surrogate
		"\xf4\x90\x80\x80",                 // beyond U+10FFFF
		"\xce\xba\xe1\xbd\xb9\xcf\x83\xce", // κόσ then a truncated sequence at the end
		"\xf0\x9d\x84x",                    // broken 4-byte sequence
		"ok\xff",                           // a byte never valid
		"\xe0\x80\x80",                     // overlong 3-byte NUL
	}
	valid := []string{"\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5-\xf0\x9d\x84\x9e-\xe2\x82\xac"} // κόσμε-𝄞-€
	type sample struct {
		msg   []byte
		valid bool
	}
	var samples []sample
	for _, s := range invalid {
		samples = append(samples, sample{[]byte(s), false})
	}
	for _, s := range valid {
		samples = append(samples, sample{[]byte(s), true})
	}
	// check verifies the outcome: the valid text delivered whole, the invalid
	// one answered with 1007 and never delivered.
	check := func(t *testing.T, p *Peer, c net.Conn, br *bufio.Reader, sm sample) {
		t.Helper()
		if sm.valid {
			pollUntil(t, p, "packet", func() bool { return p.AvailablePacketCount() == 1 })
			if b, _ := p.GetPacket(); string(b) != string(sm.msg) || !p.WasStringPacket() {
				t.Fatalf("got %q", b)
			}
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
		defer cancel()
		runUntilClosed(ctx, p, nil)
		rc := &rawClient{t: t, conn: c, br: br}
		if code, _ := rc.expectClose(); code != 1007 || p.CloseCode() != 1007 || p.AvailablePacketCount() != 0 {
			t.Fatalf("answered %d, CloseCode %d, %d packets", code, p.CloseCode(), p.AvailablePacketCount())
		}
		expectProtocolCloseNoRead(t, p, 1007, ErrInvalidPayload)
	}
	cases := 0
	for _, sm := range samples {
		fail := failAt(sm.msg)
		t.Run(fmt.Sprintf("%q", sm.msg), func(t *testing.T) {
			// Two fragments split at every byte, in one write.
			for i := 0; i <= len(sm.msg); i++ {
				p, rc := openServer(t, nil)
				rc.write(append(frame(1, false, true, sm.msg[:i]), frame(0, true, true, sm.msg[i:])...))
				check(t, p, rc.conn, rc.br, sm)
				p.Close(-1, "")
				rc.conn.Close()
				cases++
			}
			// One frame split into two TCP segments at every byte, header
			// included; the invalid byte must fail the connection before the
			// rest arrives.
			fr := frame(1, true, true, sm.msg)
			hdr := len(fr) - len(sm.msg)
			for j := 1; j < len(fr); j++ {
				s := newSegmentedServer(t)
				s.segment(fr[:j])
				if !sm.valid && j-hdr >= fail && s.p.ReadyState() == StateOpen {
					t.Fatalf("split at %d: still OPEN after the invalid byte %d", j, fail-1)
				}
				s.segment(fr[j:])
				check(t, s.p, s.c, s.br, sm)
				s.p.Close(-1, "")
				s.c.Close()
				cases++
			}
			// Two fragments split at every byte, every byte its own segment.
			for i := 0; i <= len(sm.msg); i++ {
				s := newSegmentedServer(t)
				all := append(frame(1, false, true, sm.msg[:i]), frame(0, true, true, sm.msg[i:])...)
				for k := range all {
					if s.p.ReadyState() != StateOpen {
						break
					}
					s.segment(all[k : k+1])
				}
				check(t, s.p, s.c, s.br, sm)
				s.p.Close(-1, "")
				s.c.Close()
				cases++
			}
		})
	}
	t.Logf("%d connections, every split of %d samples", cases, len(samples))
}
