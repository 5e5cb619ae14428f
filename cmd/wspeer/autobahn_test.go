package main

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wspeer/wspeer"
)

// fuzzingServer is a small stand-in for the Autobahn TestSuite fuzzingserver,
// speaking its client protocol: /getCaseCount, /runCase?case=N&agent=A (here:
// a text and a binary message that must come back as sent) and
// /updateReports?agent=A. It is built on net.Listen + AcceptStream.
type fuzzingServer struct {
	cases int
	mu    sync.Mutex
	pass  map[int]bool
	agent string // of updateReports
}

func (f *fuzzingServer) serve(t *testing.T, ln net.Listener) {
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		go f.handle(t, c)
	}
}

func (f *fuzzingServer) handle(t *testing.T, c net.Conn) {
	p := wspeer.NewPeer()
	if err := p.AcceptStream(c); err != nil {
		t.Error(err)
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for p.ReadyState() == wspeer.StateConnecting && p.Wait(ctx) == nil {
		p.Poll()
	}
	u, err := url.Parse(p.RequestedURL())
	if err != nil || p.ReadyState() != wspeer.StateOpen {
		t.Errorf("handshake: %v %v", err, p.CloseError())
		return
	}
	q := u.Query()
	text := []byte("case " + q.Get("case") + " ✓")
	bin := []byte{0, 1, 2, 0xff}
	switch u.Path {
	case "/getCaseCount":
		p.SendText(fmt.Sprint(f.cases))
		p.Close(1000, "")
	case "/updateReports":
		f.mu.Lock()
		f.agent = q.Get("agent")
		f.mu.Unlock()
		p.Close(1000, "")
	case "/runCase":
		p.SendText(string(text))
		p.PutPacket(bin)
	default:
		p.Close(1008, "unknown path")
	}
	var got []string
	for p.Wait(ctx) == nil {
		p.Poll()
		for {
			msg, err := p.GetPacket()
			if err != nil {
				break
			}
			got = append(got, fmt.Sprintf("%v:%x", p.WasStringPacket(), msg))
			if len(got) == 2 {
				p.Close(1000, "")
			}
		}
	}
	if u.Path == "/runCase" {
		want := []string{fmt.Sprintf("true:%x", text), fmt.Sprintf("false:%x", bin)}
		var n int
		fmt.Sscan(q.Get("case"), &n)
		f.mu.Lock()
		f.pass[n] = strings.Join(got, " ") == strings.Join(want, " ") && q.Get("agent") == "tester"
		f.mu.Unlock()
	}
}

func TestAutobahnClient(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	f := &fuzzingServer{cases: 3, pass: map[int]bool{}}
	go f.serve(t, ln)

	a := start(t, "autobahn", "-url", "ws://"+ln.Addr().String(), "-agent", "tester")
	if code := a.exit(20 * time.Second); code != 0 {
		t.Fatalf("autobahn exit %d:\n%s", code, a.stderr.String())
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for n := 1; n <= 3; n++ {
		if !f.pass[n] {
			t.Errorf("case %d did not pass", n)
		}
	}
	if len(f.pass) != 3 || f.agent != "tester" {
		t.Errorf("cases run %v, reports agent %q", f.pass, f.agent)
	}
	out := a.stderr.String()
	if !strings.Contains(out, "case 3/3: closed 1000, 2 echoed") || !bytes.Contains([]byte(out), []byte("reports updated")) {
		t.Errorf("progress output:\n%s", out)
	}
}
