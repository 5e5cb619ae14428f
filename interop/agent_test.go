package interop

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

// goConn adapts a Go WebSocket library's connection for runAgent.
type goConn interface {
	Read(ctx context.Context) (text bool, data []byte, err error)
	Write(ctx context.Context, text bool, data []byte) error // safe for concurrent use
	Ping(ctx context.Context) error                          // returns once the pong arrived
	Close(code int, reason string) error                     // starts the closing handshake
	Protocol() string
	Extensions() string // negotiated extensions, or "?" when the library cannot tell
	Pings() int         // pings received, or -1 when the library cannot tell
	CloseInfo(err error) (code int, reason string, ok bool)
}

// runAgent is the Go version of node/peer.js and python/peer.py: it echoes
// and obeys commands until the connection ends, and returns the close code
// and reason it received.
func runAgent(ctx context.Context, c goConn) closeEvent {
	for {
		text, data, err := c.Read(ctx)
		if err != nil {
			if code, reason, ok := c.CloseInfo(err); ok {
				return closeEvent{"close", code, reason}
			}
			return closeEvent{"close", -1, err.Error()}
		}
		cmd := string(data)
		if !text || !strings.HasPrefix(cmd, "cmd:") {
			if err := c.Write(ctx, text, data); err != nil {
				return closeEvent{"close", -1, "echo: " + err.Error()}
			}
			continue
		}
		switch {
		case cmd == CmdHello:
			b, _ := json.Marshal(hello{Protocol: c.Protocol(), Extensions: c.Extensions(), Pings: c.Pings()})
			c.Write(ctx, true, b)
		case cmd == CmdPing:
			go func() { // the pong arrives through the reading loop
				if c.Ping(ctx) == nil {
					c.Write(ctx, true, []byte(PongOK))
				}
			}()
		case strings.HasPrefix(cmd, CmdBurst):
			n, _ := strconv.Atoi(strings.TrimPrefix(cmd, CmdBurst))
			for i := range n {
				c.Write(ctx, true, []byte(BurstMessage(i)))
			}
		case cmd == CmdClose:
			go c.Close(CloseCode, CloseReason) // may wait for the handshake
		default:
			c.Write(ctx, true, []byte("unknown command "+cmd))
		}
	}
}

// goServer serves handler on a loopback port and returns its ws:// URL.
func goServer(t *testing.T, handler http.HandlerFunc) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return "ws://" + ln.Addr().String() + "/echo"
}

// variant is one configuration of a foreign implementation and of wspeer.
type variant struct {
	name     string
	deflate  bool // their client offers and their server accepts permessage-deflate
	compress bool // wspeer's Compression
}

// goSides returns both directions for a Go library: dial connects its client
// to url and accept upgrades a request on its server, each configured for v,
// and returns the adapted connection.
func goSides(v variant, dial func(ctx context.Context, url string, v variant) (goConn, error),
	accept func(w http.ResponseWriter, r *http.Request, v variant) (goConn, error)) (ourServer, ourClient side) {
	want := v.deflate && v.compress
	ourServer = side{offersDeflate: v.deflate, compress: v.compress, wantDeflate: want}
	ourServer.connect = func(ctx context.Context, t *testing.T, o opts) (*ourConn, func(context.Context) (closeEvent, error), error) {
		ln := listen(t)
		type result struct {
			c   goConn
			err error
		}
		dialed := make(chan result, 1)
		go func() {
			c, err := dial(ctx, "ws://"+ln.Addr().String()+"/echo", v)
			dialed <- result{c, err}
		}()
		ours, err := acceptOurs(ctx, ln, o)
		if err != nil {
			return nil, nil, err
		}
		r := <-dialed
		if r.err != nil {
			ours.abort()
			return nil, nil, r.err
		}
		events := make(chan closeEvent, 1)
		go func() { events <- runAgent(ctx, r.c) }()
		return ours, waitEvent(events), nil
	}
	ourClient = side{compress: v.compress, wantDeflate: want}
	ourClient.connect = func(ctx context.Context, t *testing.T, o opts) (*ourConn, func(context.Context) (closeEvent, error), error) {
		events := make(chan closeEvent, 1)
		url := goServer(t, func(w http.ResponseWriter, r *http.Request) {
			c, err := accept(w, r, v)
			if err != nil {
				events <- closeEvent{"accept", -1, err.Error()}
				return
			}
			events <- runAgent(ctx, c)
		})
		ours, err := dialOurs(ctx, url, o)
		if err != nil {
			return nil, nil, err
		}
		return ours, waitEvent(events), nil
	}
	return ourServer, ourClient
}

func waitEvent(events <-chan closeEvent) func(context.Context) (closeEvent, error) {
	return func(ctx context.Context) (closeEvent, error) {
		select {
		case ev := <-events:
			return ev, nil
		case <-time.After(closeTimeout):
			return closeEvent{}, context.DeadlineExceeded
		case <-ctx.Done():
			return closeEvent{}, ctx.Err()
		}
	}
}
