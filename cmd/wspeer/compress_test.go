package main

import (
	"strings"
	"testing"
	"time"

	"github.com/wspeer/wspeer"
)

// TestCompressFlag runs echo and serve with -compress: a compressing library
// client gets permessage-deflate negotiated and its messages echoed; without
// the flag the offer is declined.
func TestCompressFlag(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		args []string
		path string
		want bool
	}{
		{[]string{"echo", "-compress"}, "/", true},
		{[]string{"serve", "-compress"}, "/echo", true},
		{[]string{"echo"}, "/", false},
	} {
		_, url := startServer(t, tc.args...)
		p := dial(t, url+tc.path, func(p *wspeer.Peer) { p.Compression = true })
		ext := p.ResponseHeader().Get("Sec-WebSocket-Extensions")
		if strings.HasPrefix(ext, "permessage-deflate") != tc.want {
			t.Fatalf("%v: extensions %q", tc.args, ext)
		}
		msg := strings.Repeat("compressible ", 2000)
		if err := p.SendText(msg); err != nil {
			t.Fatal(err)
		}
		if got, text := recv(t, p, 5*time.Second); string(got) != msg || !text {
			t.Fatalf("%v: echo of %d bytes", tc.args, len(got))
		}
	}
}
