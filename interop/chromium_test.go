package interop

import (
	"context"
	_ "embed"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"testing"
	"time"
)

//go:embed browser/echo.html
var echoPage []byte

// TestChromium runs the scenarios with headless Chromium's WebSocket as the
// client of a wspeer server: an HTTP server serves browser/echo.html, whose
// script connects to the wspeer listener; the test drives the page through
// the DevTools protocol, spoken over a wspeer client connection. Chromium
// offers permessage-deflate, which our server declines, then accepts with
// Compression on. Browsers cannot send pings, so only our heartbeat is
// checked.
func TestChromium(t *testing.T) {
	path, err := findChromium()
	requirePeer(t, err, "Chromium")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()

	devtools := startChromium(t, path)
	dc, err := dialPeer(ctx, devtools, nil, opts{})
	if err != nil {
		t.Fatalf("DevTools: %v", err)
	}
	defer dc.abort()
	d := &cdp{c: dc}

	page, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{ReadHeaderTimeout: 10 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write(echoPage)
	})}
	go srv.Serve(page)
	defer srv.Close()
	session, err := d.openPage(ctx, "http://"+page.Addr().String()+"/")
	if err != nil {
		t.Fatal(err)
	}

	ln := listen(t)
	connect := func(ctx context.Context, t *testing.T, o opts) (*ourConn, func(context.Context) (closeEvent, error), error) {
		var id int
		if err := d.eval(ctx, session, "startSession("+strconv.Quote("ws://"+ln.Addr().String()+"/echo")+")", &id); err != nil {
			return nil, nil, err
		}
		c, err := acceptOurs(ctx, ln, o)
		if err != nil {
			return nil, nil, err
		}
		return c, func(ctx context.Context) (closeEvent, error) {
			for start := time.Now(); time.Since(start) < closeTimeout; time.Sleep(20 * time.Millisecond) {
				var ev *closeEvent
				if err := d.eval(ctx, session, fmt.Sprintf("sessions[%d].closed", id), &ev); err != nil {
					return closeEvent{}, err
				}
				if ev != nil {
					return *ev, nil
				}
			}
			return closeEvent{}, fmt.Errorf("no close event in the browser after %v", closeTimeout)
		}, nil
	}
	plain := side{connect: connect, noPing: true, offersDeflate: true}
	deflate := side{connect: connect, noPing: true, offersDeflate: true, compress: true, wantDeflate: true}
	t.Run("offer-declined/OurServer", func(t *testing.T) { runSide(t, plain) })
	t.Run("deflate/OurServer", func(t *testing.T) { runSide(t, deflate) })
}
