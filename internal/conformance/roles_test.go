package conformance

import (
	"context"
	"net"
	"testing"
	"time"
)

// checkReport fails the test for every case that is not OK (or
// INFORMATIONAL), and for cases where the peer never reacted before the
// suite's kill timer, and logs the summary.
func checkReport(t *testing.T, rep *Report, want int) {
	t.Helper()
	t.Log("\n" + rep.Summary())
	if len(rep.Results) != want {
		t.Errorf("%d results, want %d", len(rep.Results), want)
	}
	for _, r := range rep.Results {
		if r.Verdict != OK && r.Verdict != Informational {
			t.Errorf("case %s: %s: %s", r.ID, r.Verdict, r.Detail)
		} else if r.KilledAtTimeout {
			t.Errorf("case %s: the peer did not end the connection before the kill timer (%s)", r.ID, r.Detail)
		}
	}
}

// TestServerRole runs the suite as a client against an in-process echo server
// built on the Peer API.
func TestServerRole(t *testing.T) {
	cases := testCases()
	url := startEchoServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	rep := RunClient(ctx, url, cases, nil)
	checkReport(t, rep, len(cases))
}

// TestClientRole runs the suite as a fuzzingserver against an in-process
// Autobahn client built on the Peer API.
func TestClientRole(t *testing.T) {
	cases := testCases()
	srv := NewServer(cases)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, l) }()
	runPeerAgent(ctx, t, "ws://"+l.Addr().String(), "wspeer-test", 2*time.Minute)
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Serve: %v", err)
	}
	rep := srv.Report("wspeer-test")
	if rep == nil {
		t.Fatal("no report")
	}
	if srv.ReportsUpdated("wspeer-test") != 1 {
		t.Errorf("updateReports called %d times", srv.ReportsUpdated("wspeer-test"))
	}
	checkReport(t, rep, len(cases))
}
