package conformance

import (
	"bufio"
	"context"
	"errors"
	"net"
	"net/http"
	"sort"
	"strconv"
	"sync"
	"time"
)

// Server is the fuzzingserver role: it speaks the Autobahn TestSuite URL
// protocol to a WebSocket client under test, which echoes every message:
//
//	/getCaseCount                 a text message with the number of cases, then close 1000
//	/runCase?case=N&agent=NAME    runs case N (1-based) with unmasked frames
//	/updateReports?agent=NAME     close 1000 (the reports live in memory)
//
// Results are collected per agent; read them with Report.
type Server struct {
	// Cases are the cases offered, numbered from 1 in this order.
	Cases []*Case
	// Progress, if not nil, is called after each case.
	Progress func(agent string, r Result)

	mu      sync.Mutex
	reports map[string]*Report
	updated map[string]int // updateReports calls per agent
}

// NewServer returns a fuzzingserver offering cases.
func NewServer(cases []*Case) *Server {
	return &Server{Cases: cases}
}

// Serve accepts connections on l until ctx ends (then it closes l and waits
// for the connections in progress) or l fails.
func (s *Server) Serve(ctx context.Context, l net.Listener) error {
	var wg sync.WaitGroup
	defer wg.Wait()
	stop := context.AfterFunc(ctx, func() { l.Close() })
	defer stop()
	for {
		conn, err := l.Accept()
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
				return nil
			}
			return err
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.serveConn(ctx, conn)
		}()
	}
}

func (s *Server) serveConn(ctx context.Context, conn net.Conn) {
	defer conn.Close()
	var sel selection
	req, br, err := serverHandshake(conn, handshakeTimeout, sel.choose(s.Cases))
	if err != nil {
		return
	}
	s.serveRequest(ctx, conn, br, req, &sel)
}

// selection is what a request chose: its case and, for a compression case,
// the negotiated deflate (or why the offers were unusable).
type selection struct {
	c        *Case
	dc       *deflateConn
	offerErr error
}

// choose returns the handshake's extension callback: it picks the case of a
// /runCase request and answers the client's compression offers as Autobahn's
// fuzzingserver does for it; every other request declines them.
func (sel *selection) choose(cases []*Case) func(req *http.Request) string {
	return func(req *http.Request) string {
		if req.URL.Path != "/runCase" {
			return ""
		}
		n, err := strconv.Atoi(req.URL.Query().Get("case"))
		if err != nil || n < 1 || n > len(cases) {
			return ""
		}
		sel.c = cases[n-1]
		if sel.c.Compression == nil {
			return ""
		}
		offers, err := parseOffers(req.Header.Values("Sec-WebSocket-Extensions"))
		if err != nil {
			sel.offerErr = err
			return ""
		}
		resp, ok := sel.c.Compression.Accept(offers)
		if !ok {
			return ""
		}
		sel.dc = newDeflateConn(resp, true)
		return resp.String()
	}
}

// serveRequest runs what an opened connection's request asks for.
func (s *Server) serveRequest(ctx context.Context, conn net.Conn, br *bufio.Reader, req *http.Request, sel *selection) {
	c := sel.c
	q := req.URL.Query()
	agent := q.Get("agent")
	if agent == "" {
		agent = "unknown"
	}
	switch req.URL.Path {
	case "/getCaseCount":
		closeAfterMessage(conn, br, []byte(strconv.Itoa(len(s.Cases))))
	case "/updateReports":
		s.mu.Lock()
		if s.updated == nil {
			s.updated = map[string]int{}
		}
		s.updated[agent]++
		s.mu.Unlock()
		closeAfterMessage(conn, br, nil)
	case "/runCase":
		if c == nil {
			closeAfterMessage(conn, br, nil)
			return
		}
		sess := newSession(c, conn, br, true)
		sess.deflate, sess.deflateErr = sel.dc, sel.offerErr
		stop := context.AfterFunc(ctx, func() { sess.drop(true) })
		res := sess.run()
		stop()
		s.record(agent, res)
	default:
		closeAfterMessage(conn, br, nil)
	}
}

func (s *Server) record(agent string, res Result) {
	s.mu.Lock()
	if s.reports == nil {
		s.reports = map[string]*Report{}
	}
	rep := s.reports[agent]
	if rep == nil {
		rep = &Report{Agent: agent}
		s.reports[agent] = rep
	}
	replaced := false
	for i := range rep.Results {
		if rep.Results[i].ID == res.ID {
			rep.Results[i], replaced = res, true
		}
	}
	if !replaced {
		rep.Results = append(rep.Results, res)
		sort.SliceStable(rep.Results, func(i, j int) bool { return compareIDs(rep.Results[i].ID, rep.Results[j].ID) < 0 })
	}
	progress := s.Progress
	s.mu.Unlock()
	if progress != nil {
		progress(agent, res)
	}
}

// Report returns a copy of the results collected for agent (nil if none).
func (s *Server) Report(agent string) *Report {
	s.mu.Lock()
	defer s.mu.Unlock()
	rep := s.reports[agent]
	if rep == nil {
		return nil
	}
	return &Report{Agent: rep.Agent, Results: append([]Result(nil), rep.Results...)}
}

// Agents returns the agents that have results or asked for /updateReports,
// sorted.
func (s *Server) Agents() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for a := range s.reports {
		out = append(out, a)
	}
	for a := range s.updated {
		if s.reports[a] == nil {
			out = append(out, a)
		}
	}
	sort.Strings(out)
	return out
}

// ReportsUpdated returns how many times agent asked for /updateReports.
func (s *Server) ReportsUpdated(agent string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.updated[agent]
}

// closeAfterMessage sends an optional text message and a 1000 close frame
// (unmasked: the suite is the server), waits briefly for the client's close
// and returns; the caller closes TCP.
func closeAfterMessage(conn net.Conn, br *bufio.Reader, text []byte) {
	var b []byte
	if text != nil {
		b, _ = encodeFrame(b, Frame{Opcode: opText, Payload: text}, false)
	}
	b, _ = encodeFrame(b, Frame{Opcode: opClose, Payload: closePayload(1000, nil)}, false)
	if _, err := conn.Write(b); err != nil {
		return
	}
	conn.SetReadDeadline(time.Now().Add(2 * time.Second))
	for i := 0; i < 64; i++ {
		f, err := readFrame(br, true, 1<<20, 0)
		if err != nil || f.opcode == opClose {
			return
		}
	}
}
