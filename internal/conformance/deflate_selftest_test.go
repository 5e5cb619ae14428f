package conformance

import (
	"context"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// deflateServer is a raw permessage-deflate echo server for the suite's self
// test, correct or broken in one way (mode):
//
//	ok        answers the offer as RFC 7692 allows, honours it
//	decline   answers without the extension
//	window    answers server_max_window_bits as offered, but compresses with
//	          a 32 KiB window
//	takeover  answers server_no_context_takeover, but keeps its context
//	badparam  answers server_max_window_bits=12 to an offer of 8
func deflateServer(t *testing.T, mode string) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			conn, err := l.Accept()
			if err != nil {
				return
			}
			go deflateServerConn(conn, mode)
		}
	}()
	return "ws://" + l.Addr().String() + "/"
}

func deflateServerConn(conn net.Conn, mode string) {
	defer conn.Close()
	var in, out *deflateConn
	_, br, err := serverHandshake(conn, time.Second, func(req *http.Request) string {
		offers, err := parseOffers(req.Header.Values("Sec-WebSocket-Extensions"))
		if err != nil || len(offers) == 0 || mode == "decline" {
			return ""
		}
		r := DeflateResponse{ServerNoContextTakeover: true, ClientNoContextTakeover: true, ServerMaxWindowBits: offers[0].RequestMaxWindowBits}
		in, out = newDeflateConn(r, true), newDeflateConn(r, true)
		switch mode {
		case "window":
			out.ownBits = 15
		case "takeover":
			out.ownNoCtx = false
		case "badparam":
			r.ServerMaxWindowBits = 12
		}
		return r.String()
	})
	if err != nil {
		return
	}
	var msg []byte
	var op byte
	var compressed bool
	for {
		f, err := readFrame(br, true, maxPeerMessage, rsv1)
		if err != nil {
			return
		}
		if f.opcode == opClose {
			b, _ := encodeFrame(nil, Frame{Opcode: opClose, Payload: f.payload}, false)
			conn.Write(b)
			return
		}
		if f.opcode != opCont {
			op, msg, compressed = f.opcode, nil, f.rsv != 0
		}
		msg = append(msg, f.payload...)
		if !f.fin {
			continue
		}
		fr := Frame{Opcode: op, Payload: msg}
		if compressed {
			if msg, err = in.inflate(msg, maxPeerMessage); err != nil {
				return
			}
			fr = Frame{Opcode: op, Rsv: rsv1, Payload: out.compress(msg)}
		}
		b, _ := encodeFrame(nil, fr, false)
		conn.Write(b)
	}
}

// TestSuiteDetectsDeflateFailures checks the verdicts of compression cases
// against correct and broken permessage-deflate servers.
func TestSuiteDetectsDeflateFailures(t *testing.T) {
	for _, tt := range []struct {
		mode, id string
		want     Verdict
		detail   string
	}{
		{"ok", "12.1.10", OK, "received all"},
		{"ok", "13.5.10", OK, "received all"},
		{"decline", "12.1.1", Unimplemented, "not negotiated"},
		{"window", "13.3.10", Failed, "exceeds the negotiated window"},
		{"window", "13.1.10", OK, "received all"}, // no window asked for
		{"takeover", "12.1.4", Failed, "compressed message"},
		{"badparam", "13.3.1", Failed, "server_max_window_bits=8 offered, answered with 12"},
	} {
		rep := RunClient(context.Background(), deflateServer(t, tt.mode), Select(AllCases(), tt.id), nil)
		if len(rep.Results) != 1 {
			t.Fatalf("%s: %d results", tt.id, len(rep.Results))
		}
		r := rep.Results[0]
		if r.Verdict != tt.want || !strings.Contains(r.Detail, tt.detail) {
			t.Errorf("%s against the %q server: %s (%s), want %s (%s)", tt.id, tt.mode, r.Verdict, r.Detail, tt.want, tt.detail)
		}
	}
}
