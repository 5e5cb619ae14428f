package h2client_test

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/wspeer/wspeer"
	"github.com/wspeer/wspeer/h2client"
	"github.com/wspeer/wspeer/internal/conformance"
	"golang.org/x/net/http2"
)

// h2ConformanceSections are the suite's sections run over HTTP/2: all of
// them (framing, pings and pongs, reserved bits, opcodes, fragmentation,
// UTF-8, closing, limits, auto-fragmentation, permessage-deflate).
var h2ConformanceSections = []string{"1.", "2.", "3.", "4.", "5.", "6.", "7.", "9.", "10.", "12.", "13."}

// suiteStream is one case's WebSocket stream for the suite, made here with
// x/net/http2 directly (not with the Dialer under test).
type suiteStream struct {
	pw     *io.PipeWriter
	body   io.ReadCloser
	cancel context.CancelFunc
	tc     net.Conn
}

func (s *suiteStream) Read(p []byte) (int, error)  { return s.body.Read(p) }
func (s *suiteStream) Write(p []byte) (int, error) { return s.pw.Write(p) }

// Close ends the stream: END_STREAM after what was written, then RST_STREAM
// unless the server ended its side already.
func (s *suiteStream) Close() error {
	s.pw.Close()
	s.body.Close()
	s.cancel()
	return nil
}
func (s *suiteStream) LocalAddr() net.Addr              { return s.tc.LocalAddr() }
func (s *suiteStream) RemoteAddr() net.Addr             { return s.tc.RemoteAddr() }
func (s *suiteStream) SetDeadline(time.Time) error      { return nil }
func (s *suiteStream) SetReadDeadline(time.Time) error  { return nil }
func (s *suiteStream) SetWriteDeadline(time.Time) error { return nil }

// h2Opener opens every case as a new stream of one HTTP/2 connection to url.
func h2Opener(t *testing.T, srv *httptest.Server, url string) conformance.StreamOpener {
	tc, err := tls.Dial("tcp", srv.Listener.Addr().String(), &tls.Config{RootCAs: clientTLS(srv).RootCAs, ServerName: "example.com", NextProtos: []string{"h2"}})
	if err != nil {
		t.Fatal(err)
	}
	cc, err := (&http2.Transport{}).NewClientConn(tc)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cc.Close() })
	return func(ctx context.Context, extensions string) (net.Conn, []string, error) {
		sctx, cancel := context.WithCancel(context.Background())
		pr, pw := io.Pipe()
		req, _ := http.NewRequestWithContext(sctx, http.MethodConnect, url, pr)
		req.Header.Set(":protocol", "websocket")
		req.Header.Set("Sec-WebSocket-Version", "13")
		if extensions != "" {
			req.Header.Set("Sec-WebSocket-Extensions", extensions)
		}
		resp, err := cc.RoundTrip(req)
		if err == nil && resp.StatusCode != http.StatusOK {
			resp.Body.Close()
			err = fmt.Errorf("status %d", resp.StatusCode)
		}
		if err != nil {
			cancel()
			return nil, nil, err
		}
		return &suiteStream{pw: pw, body: resp.Body, cancel: cancel, tc: tc}, resp.Header.Values("Sec-WebSocket-Extensions"), nil
	}
}

// suiteEcho echoes every message with its type, retrying a send refused
// with ErrBufferFull after the next Poll.
func suiteEcho(p *wspeer.Peer) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var held []byte
	var text, holding bool
	for p.Wait(ctx) == nil {
		p.Poll()
		for {
			if !holding {
				b, err := p.GetPacket()
				if err != nil {
					break
				}
				held, text, holding = b, p.WasStringPacket(), true
			}
			mode := wspeer.WriteModeBinary
			if text {
				mode = wspeer.WriteModeText
			}
			if err := p.Send(held, mode); errors.Is(err, wspeer.ErrBufferFull) {
				break
			}
			held, holding = nil, false
		}
	}
	if p.ReadyState() != wspeer.StateClosed {
		p.Close(-1, "")
	}
}

// TestConformanceServerRoleH2 runs the conformance suite (every section) as
// a client against our Upgrader over HTTP/2: each case is a stream of one
// connection, with the suite's own frames (masked, malformed on purpose).
// Every case must be OK (or INFORMATIONAL), as on HTTP/1.1.
func TestConformanceServerRoleH2(t *testing.T) {
	up := &wspeer.Upgrader{NewPeer: func() *wspeer.Peer {
		p := wspeer.NewPeer()
		p.InboundBufferSize, p.OutboundBufferSize, p.MaxQueuedPackets = 64<<20, 64<<20, 4096
		p.Compression = true
		return p
	}}
	s := startServer(t, true, up, suiteEcho)
	sections := h2ConformanceSections
	if testing.Short() {
		sections = []string{"1.", "2.", "3.", "4.", "5.", "7."} // framing and closing
	}
	cases := conformance.Select(conformance.AllCases(), sections...)
	if p := os.Getenv("CONFORMANCE_CASES"); p != "" {
		cases = conformance.Select(cases, strings.Split(p, ",")...)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	rep := conformance.RunClientStreams(ctx, "wspeer over HTTP/2", h2Opener(t, s.Server, s.URL+"/"), cases, nil)
	t.Log("\n" + rep.Summary())
	if len(rep.Results) != len(cases) {
		t.Errorf("%d results, want %d", len(rep.Results), len(cases))
	}
	for _, r := range rep.Results {
		if r.Verdict != conformance.OK && r.Verdict != conformance.Informational {
			t.Errorf("case %s: %s: %s", r.ID, r.Verdict, r.Detail)
		} else if r.KilledAtTimeout {
			t.Errorf("case %s: the server did not end the stream before the kill timer (%s)", r.ID, r.Detail)
		}
	}
}

// TestConformanceClientRoleH2 runs the suite as the fuzzingserver over HTTP/2
// (conformance.Server.ServeStream on net/http's HTTP/2 server) against our
// client with h2client: one peer per case, each a stream of its own
// connection, echoing until the case closes it.
func TestConformanceClientRoleH2(t *testing.T) {
	sections := h2ConformanceSections
	if testing.Short() {
		sections = []string{"1.", "2.", "3.", "4.", "5.", "7."}
	}
	cases := conformance.Select(conformance.AllCases(), sections...)
	suite := conformance.NewServer(cases)
	srv := httptest.NewUnstartedServer(http.HandlerFunc(suite.ServeStream))
	srv.EnableHTTP2 = true
	srv.StartTLS()
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	const agent = "wspeer-h2client"
	for i := range cases {
		p := wspeer.NewPeer()
		p.StreamDialer = &h2client.Dialer{}
		p.InboundBufferSize, p.OutboundBufferSize, p.MaxQueuedPackets = 64<<20, 64<<20, 4096
		p.Compression = true
		url := fmt.Sprintf("%s/runCase?case=%d&agent=%s", wssURL(srv, ""), i+1, agent)
		if err := p.ConnectToURL(url, clientTLS(srv)); err != nil {
			t.Fatal(err)
		}
		suiteEcho(p)
		if ctx.Err() != nil {
			t.Fatal(ctx.Err())
		}
	}
	srv.Close() // waits for the handlers: the last case's result is recorded
	rep := suite.Report(agent)
	if rep == nil {
		t.Fatal("no report")
	}
	t.Log("\n" + rep.Summary())
	if len(rep.Results) != len(cases) {
		t.Errorf("%d results, want %d", len(rep.Results), len(cases))
	}
	for _, r := range rep.Results {
		if r.Verdict != conformance.OK && r.Verdict != conformance.Informational {
			t.Errorf("case %s: %s: %s", r.ID, r.Verdict, r.Detail)
		} else if r.KilledAtTimeout {
			t.Errorf("case %s: the client did not end the stream before the kill timer (%s)", r.ID, r.Detail)
		}
	}
}
