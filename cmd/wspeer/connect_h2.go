package main

import (
	"context"
	"sync/atomic"

	"github.com/wspeer/wspeer"
	"github.com/wspeer/wspeer/h2client"
)

// h2Dialer is connect -http2's stream dialer: h2client's, remembering
// whether the WebSocket went over HTTP/2 or fell back to HTTP/1.1.
type h2Dialer struct {
	h2client.Dialer
	tried, used atomic.Bool
}

func (d *h2Dialer) DialStream(ctx context.Context, req *wspeer.StreamRequest) (*wspeer.Stream, error) {
	d.tried.Store(true)
	st, err := d.Dialer.DialStream(ctx, req)
	d.used.Store(err == nil)
	return st, err
}

// note is the opened line's word on the protocol ("" without -http2).
func (d *h2Dialer) note() string {
	switch {
	case d == nil:
		return ""
	case d.used.Load():
		return "HTTP/2"
	case !d.tried.Load():
		return "HTTP/1.1: HTTP/2 is for wss:// without a proxy"
	}
	return "HTTP/1.1: no WebSocket over HTTP/2 there"
}
