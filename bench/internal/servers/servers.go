// Package servers holds the echo servers compared by the benchmark: one per
// library, each written the way a typical user of that library would write it
// (plus a raw-TCP echo as the limit and a hand-tuned gobwas frame-level server
// as the best a careful user can do).
package servers

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sort"
	"strings"
	"time"

	coder "github.com/coder/websocket"
)

// MaxMessage is the largest message every server accepts (the benchmark's
// largest is 1 MiB; budgets leave room for several of them in flight).
const MaxMessage = 16 << 20

// Impl starts an echo server on ln and serves until ln is closed.
type Impl func(ln net.Listener) error

var impls = map[string]Impl{
	"rawtcp":        serveRawTCP,
	"gorilla":       httpServe(gorillaHandler(false)),
	"coder":         httpServe(coderHandler(coder.CompressionDisabled)),
	"gobwas-wsutil": httpServe(gobwasWsutilHandler()),
	"gobwas-frame":  serveGobwasFrame,
	"gws":           httpServe(gwsHandler(false)),
	"wspeer-poll":   wspeerPoll(newPeer),
	"wspeer-wait":   wspeerWait(newPeer),
	"wspeer-http":   httpServe(wspeerHTTPHandler(newPeer)),

	// permessage-deflate variants (the compressed echo scenario).
	"gorilla-deflate":     httpServe(gorillaHandler(true)),
	"coder-deflate":       httpServe(coderHandler(coder.CompressionContextTakeover)),
	"gws-deflate":         httpServe(gwsHandler(true)),
	"wspeer-poll-deflate": wspeerPoll(newDeflatePeer),
	"wspeer-wait-deflate": wspeerWait(newDeflatePeer),
	"wspeer-http-deflate": httpServe(wspeerHTTPHandler(newDeflatePeer)),
}

// IsDeflate reports whether the implementation negotiates permessage-deflate.
func IsDeflate(name string) bool { return strings.HasSuffix(name, "-deflate") }

// Names lists the implementations, sorted.
func Names() []string {
	var n []string
	for k := range impls {
		n = append(n, k)
	}
	sort.Strings(n)
	return n
}

// Serve runs the named implementation on ln until ln is closed.
func Serve(name string, ln net.Listener) error {
	impl, ok := impls[name]
	if !ok {
		return fmt.Errorf("unknown server implementation %q (have %v)", name, Names())
	}
	return impl(ln)
}

// IsRaw reports whether the implementation speaks the raw length-prefixed
// protocol instead of WebSocket.
func IsRaw(name string) bool { return name == "rawtcp" }

// httpServe serves h with a plain net/http server, as users of the
// http.Handler-based libraries do.
func httpServe(h http.Handler) Impl {
	return func(ln net.Listener) error {
		srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
		err := srv.Serve(ln)
		if errors.Is(err, net.ErrClosed) || errors.Is(err, http.ErrServerClosed) {
			return nil
		}
		return err
	}
}

// acceptLoop runs handle in a new goroutine for every accepted connection.
func acceptLoop(ln net.Listener, handle func(net.Conn)) error {
	for {
		c, err := ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return nil
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			// EMFILE and friends: back off instead of failing the benchmark.
			time.Sleep(10 * time.Millisecond)
			continue
		}
		go handle(c)
	}
}

// serveRawTCP echoes length-prefixed messages (4-byte big-endian length, then
// the payload): the same bytes through the kernel without any WebSocket
// work. It batches like the WebSocket servers can: buffered reads, and a
// flush only when no more input is buffered.
func serveRawTCP(ln net.Listener) error {
	return acceptLoop(ln, func(c net.Conn) {
		defer c.Close()
		br := bufio.NewReaderSize(c, 32<<10)
		bw := bufio.NewWriterSize(c, 32<<10)
		var hdr [4]byte
		var buf []byte
		for {
			if _, err := io.ReadFull(br, hdr[:]); err != nil {
				return
			}
			n := int(binary.BigEndian.Uint32(hdr[:]))
			if n > MaxMessage {
				return
			}
			if cap(buf) < n {
				buf = make([]byte, n)
			}
			buf = buf[:n]
			if _, err := io.ReadFull(br, buf); err != nil {
				return
			}
			bw.Write(hdr[:])
			if _, err := bw.Write(buf); err != nil {
				return
			}
			if br.Buffered() == 0 {
				if err := bw.Flush(); err != nil {
					return
				}
			}
		}
	})
}
