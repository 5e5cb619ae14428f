package conformance

import (
	"context"
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
	start := time.Now()
	conn, br, err := clientHandshake(url, handshakeTimeout)
	if err != nil {
		return Result{
			ID: c.ID, Description: c.Description,
			Verdict: Failed, Behavior: Failed, BehaviorClose: Failed,
			Detail: "opening handshake: " + err.Error(), RemoteCloseCode: -1,
			Duration: time.Since(start),
		}
	}
	s := newSession(c, conn, br, false)
	stop := context.AfterFunc(ctx, func() { s.drop(true) })
	defer stop()
	return s.run()
}
