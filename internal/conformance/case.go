package conformance

import (
	"bytes"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Verdict is a case outcome, with Autobahn's names.
type Verdict string

// The verdicts. A case's final Verdict is one of OK, NonStrict, Failed,
// Informational and Unimplemented (a compression case whose offer the peer
// declined); Unclean, WrongCode and FailedByClient only appear as the close
// behaviour of a Result (and turn an otherwise OK case into Failed).
const (
	OK             Verdict = "OK"
	NonStrict      Verdict = "NON-STRICT"
	Failed         Verdict = "FAILED"
	Informational  Verdict = "INFORMATIONAL"
	Unimplemented  Verdict = "UNIMPLEMENTED"
	Unclean        Verdict = "UNCLEAN"
	WrongCode      Verdict = "WRONG CODE"
	FailedByClient Verdict = "FAILED BY CLIENT"
)

// EventKind names what the suite observed from the peer (or, for
// EventTimeout, a wait that ended with the connection still open).
type EventKind string

// The observable events, as Autobahn records them.
const (
	EventMessage EventKind = "message"
	EventPing    EventKind = "ping"
	EventPong    EventKind = "pong"
	EventTimeout EventKind = "timeout"
)

// Event is one observation during a case.
type Event struct {
	Kind   EventKind
	Data   []byte
	Binary bool // for EventMessage
}

func (e Event) equal(o Event) bool {
	return e.Kind == o.Kind && e.Binary == o.Binary && bytes.Equal(e.Data, o.Data)
}

// String abbreviates long payloads.
func (e Event) String() string {
	d := e.Data
	suffix := ""
	if len(d) > 24 {
		d, suffix = d[:24], fmt.Sprintf("...(%d bytes)", len(e.Data))
	}
	if e.Kind == EventMessage {
		return fmt.Sprintf("%s(%q%s, binary=%v)", e.Kind, d, suffix, e.Binary)
	}
	return fmt.Sprintf("%s(%q%s)", e.Kind, d, suffix)
}

// Message is the expected echo of a text (binary false) or binary message.
func Message(data []byte, binary bool) Event {
	return Event{Kind: EventMessage, Data: data, Binary: binary}
}

// Pong is an expected pong with payload.
func Pong(data []byte) Event { return Event{Kind: EventPong, Data: data} }

// Timeout is the marker of a wait that passed with the connection open.
func Timeout(label string) Event { return Event{Kind: EventTimeout, Data: []byte(label)} }

// Case is one conformance case: what to send and what to accept, after the
// public Autobahn TestSuite case of the same number.
type Case struct {
	ID          string // "6.4.1"
	Description string
	// Run is the script (Autobahn's onOpen and its continuations): it sends,
	// states the expectations, may wait, and ends by calling KillAfter or
	// CloseAfter. It runs on its own goroutine.
	Run func(s *Session)
	// OnMessage, when set, replaces the recording of received messages: the
	// case then decides its behaviour itself with SetBehavior (section 9).
	OnMessage func(s *Session, data []byte, binary bool)
	// Finish adjusts the outcome once the connection is closed.
	Finish func(r *Result)
	// Timeout bounds the whole case (0: 30 seconds).
	Timeout time.Duration
	// Compression, when set, makes the case negotiate permessage-deflate:
	// the suite offers Compression.Offers as a client and answers with
	// Compression.Accept as a server (sections 12 and 13).
	Compression *Compression
}

// Section returns the case's section number: "6" for "6.4.1".
func (c *Case) Section() string {
	sec, _, _ := strings.Cut(c.ID, ".")
	return sec
}

// Result is the outcome of one case.
type Result struct {
	ID          string
	Description string
	// Verdict is the case's overall outcome: Behavior, demoted to Failed when
	// the close behaviour is not OK or the peer violated the protocol.
	Verdict Verdict
	// Behavior judges the observed events against the expected ones.
	Behavior Verdict
	// BehaviorClose judges how the connection ended.
	BehaviorClose Verdict
	// Detail explains the verdict.
	Detail   string
	Received []Event
	// RemoteCloseCode is the code of the peer's close frame (-1: none, or one
	// without status); RemoteCloseReason its reason.
	RemoteCloseCode   int
	RemoteCloseReason string
	// ClosedByMe, WasClean and DroppedByMe describe the end of the
	// connection from the suite's side, as Autobahn reports them.
	ClosedByMe, WasClean, DroppedByMe bool
	// KilledAtTimeout reports that the suite had to drop the connection when
	// the case's kill timer fired, with the connection still open.
	KilledAtTimeout bool
	Duration        time.Duration
}

// compareIDs orders case ids numerically ("9.10" after "9.9").
func compareIDs(a, b string) int {
	pa, pb := strings.Split(a, "."), strings.Split(b, ".")
	for i := 0; i < len(pa) && i < len(pb); i++ {
		x, _ := strconv.Atoi(pa[i])
		y, _ := strconv.Atoi(pb[i])
		if x != y {
			return x - y
		}
	}
	return len(pa) - len(pb)
}

// Select returns the cases whose id matches one of patterns: an exact id
// ("7.1.6") or a prefix ending in a dot or star ("9." "9.1.*" "6.4*"). No
// pattern selects every case. The result keeps the order of cases.
func Select(cases []*Case, patterns ...string) []*Case {
	if len(patterns) == 0 {
		return cases
	}
	var out []*Case
	for _, c := range cases {
		for _, p := range patterns {
			p = strings.TrimSpace(p)
			if p == "" {
				continue
			}
			prefix := strings.TrimSuffix(p, "*")
			if c.ID == p || (prefix != p || strings.HasSuffix(p, ".")) && strings.HasPrefix(c.ID+".", prefix) {
				out = append(out, c)
				break
			}
		}
	}
	return out
}

// sortedSections returns the section numbers present in results, in order.
func sortedSections(rs []Result) []string {
	seen := map[string]bool{}
	var secs []string
	for _, r := range rs {
		s, _, _ := strings.Cut(r.ID, ".")
		if !seen[s] {
			seen[s] = true
			secs = append(secs, s)
		}
	}
	sort.Slice(secs, func(i, j int) bool { return compareIDs(secs[i], secs[j]) < 0 })
	return secs
}
