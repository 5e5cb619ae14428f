package conformance

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"strings"
	"time"
)

// handshakeTimeout bounds the suite's side of each opening handshake.
const handshakeTimeout = 5 * time.Second

// RunClient runs cases in the client role against the WebSocket server at
// baseURL (ws://host:port/path, an echo endpoint): one raw TCP connection per
// case, opening handshake and masked frames written by the suite. It stops
// early, with the cases run so far, when ctx ends. progress, if not nil, is
// called after each case.
func RunClient(ctx context.Context, baseURL string, cases []*Case, progress func(Result)) *Report {
	rep := &Report{Agent: baseURL}
	for _, c := range cases {
		if ctx.Err() != nil {
			break
		}
		res := runClientCase(ctx, baseURL, c)
		rep.Results = append(rep.Results, res)
		if progress != nil {
			progress(res)
		}
	}
	return rep
}

func runClientCase(ctx context.Context, url string, c *Case) Result {
	return runCaseOn(ctx, c, func(offers string) (net.Conn, *bufio.Reader, []string, error) {
		return clientHandshake(url, handshakeTimeout, offers)
	})
}

// runCaseOn runs one case in the client role on the connection open makes
// (the opening handshake done, with offers as Sec-WebSocket-Extensions).
func runCaseOn(ctx context.Context, c *Case, open func(offers string) (net.Conn, *bufio.Reader, []string, error)) Result {
	start := time.Now()
	failed := func(err error) Result {
		return Result{
			ID: c.ID, Description: c.Description,
			Verdict: Failed, Behavior: Failed, BehaviorClose: Failed,
			Detail: "opening handshake: " + err.Error(), RemoteCloseCode: -1,
			Duration: time.Since(start),
		}
	}
	var offers []string
	if c.Compression != nil {
		for _, o := range c.Compression.Offers {
			offers = append(offers, o.String())
		}
	}
	conn, br, exts, err := open(strings.Join(offers, ", "))
	if err != nil {
		return failed(err)
	}
	var dc *deflateConn
	if c.Compression != nil {
		// RFC 7692: a response the offers do not allow fails the connection.
		resp, ok, err := checkResponse(exts, c.Compression.Offers)
		if err != nil {
			conn.Close()
			return failed(fmt.Errorf("permessage-deflate: %w", err))
		}
		if ok {
			dc = newDeflateConn(resp, false)
		}
	}
	s := newSession(c, conn, br, false)
	s.deflate = dc
	stop := context.AfterFunc(ctx, func() { s.drop(true) })
	defer stop()
	return s.run()
}
