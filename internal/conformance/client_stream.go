package conformance

import (
	"bufio"
	"context"
	"net"
)

// StreamOpener opens one case's connection as a stream whose opening
// handshake it does itself, such as a WebSocket over HTTP/2 (RFC 8441): conn
// carries the frames (masked by the suite, as on HTTP/1.1), and exts are the
// server's Sec-WebSocket-Extensions answer to the offer (extensions, "" for
// none).
type StreamOpener func(ctx context.Context, extensions string) (conn net.Conn, exts []string, err error)

// RunClientStreams is RunClient on the connections open makes: one per
// case; agent names the server in the report.
func RunClientStreams(ctx context.Context, agent string, open StreamOpener, cases []*Case, progress func(Result)) *Report {
	rep := &Report{Agent: agent}
	for _, c := range cases {
		if ctx.Err() != nil {
			break
		}
		res := runCaseOn(ctx, c, func(offers string) (net.Conn, *bufio.Reader, []string, error) {
			conn, exts, err := open(ctx, offers)
			if err != nil {
				return nil, nil, nil, err
			}
			return conn, bufio.NewReaderSize(conn, 64<<10), exts, nil
		})
		rep.Results = append(rep.Results, res)
		if progress != nil {
			progress(res)
		}
	}
	return rep
}
