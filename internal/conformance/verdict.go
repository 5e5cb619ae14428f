package conformance

import (
	"fmt"
	"strings"
	"time"
)

func eventsEqual(a, b []Event) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !a[i].equal(b[i]) {
			return false
		}
	}
	return true
}

// judge applies Autobahn's rules (Case.onConnectionLost) to the finished
// connection.
func (s *Session) judge() Result {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := Result{
		ID: s.c.ID, Description: s.c.Description,
		Behavior: s.behavior, Detail: s.detail,
		Received:        s.received,
		RemoteCloseCode: s.remoteCode, RemoteCloseReason: s.remoteReason,
		ClosedByMe: s.closedByMe, WasClean: s.wasClean, DroppedByMe: s.droppedByMe,
		KilledAtTimeout: s.killed,
		Duration:        time.Since(s.start),
	}
	if !s.custom {
		for _, x := range s.expected {
			if eventsEqual(s.received, x.events) {
				r.Behavior = x.verdict
				r.Detail = "Actual events match at least one expected."
				break
			}
		}
		if r.Behavior == Failed {
			var exp []string
			for _, x := range s.expected {
				exp = append(exp, fmt.Sprintf("%s: %v", x.verdict, x.events))
			}
			r.Detail = fmt.Sprintf("received %v, expected %s", s.received, strings.Join(exp, " or "))
		}
	}
	var closeDetail string
	ec := s.expClose
	switch {
	case ec.closedByMe != s.closedByMe:
		r.BehaviorClose, closeDetail = Failed, "The connection was failed by the wrong endpoint"
	case ec.requireClean && !s.wasClean:
		r.BehaviorClose, closeDetail = Unclean, "The spec requires the connection to be failed cleanly here"
	case s.remoteCode != -1 && !containsInt(ec.codes, s.remoteCode):
		r.BehaviorClose, closeDetail = WrongCode, fmt.Sprintf("The close code should have been %v or empty, got %d", ec.codes, s.remoteCode)
	case !s.server && s.droppedByMe:
		r.BehaviorClose, closeDetail = FailedByClient, "It is preferred that the server close the TCP connection"
	default:
		r.BehaviorClose = OK
	}
	if s.c.Finish != nil {
		s.c.Finish(&r)
	}
	r.Verdict = r.Behavior
	if r.BehaviorClose != OK && r.BehaviorClose != Informational && (r.Verdict == OK || r.Verdict == NonStrict) {
		r.Verdict = Failed
	}
	if closeDetail != "" {
		r.Detail += "; close: " + closeDetail
	}
	if s.peerErr != nil {
		r.Verdict = Failed
		r.Detail += "; " + s.peerErr.Error()
	}
	return r
}

// closeFinish is the Finish of the close cases: a wrong close code fails the
// case (Autobahn's 7.x onConnectionLost).
func closeFinish(r *Result) {
	if r.BehaviorClose == WrongCode {
		r.Behavior = Failed
	}
}

// informationalFinish makes the outcome INFORMATIONAL (cases whose
// behaviour the RFC leaves open), keeping what happened in the detail.
func informationalFinish(r *Result) {
	r.Detail = fmt.Sprintf("received %v; peer close code %d, clean %v", r.Received, r.RemoteCloseCode, r.WasClean)
	r.Behavior, r.BehaviorClose = Informational, Informational
}

func containsInt(list []int, v int) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}
