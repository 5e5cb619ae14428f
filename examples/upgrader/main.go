//go:build !js

// Command upgrader is a WebSocket echo server inside net/http: Upgrader checks
// the request (here, that it carries a token) and answers refusals with real
// HTTP errors; each connection then runs its own Wait loop.
//
//	go run ./examples/upgrader 127.0.0.1:8081
package main

import (
	"context"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"

	"github.com/wspeer/wspeer"
)

func main() {
	addr := "127.0.0.1:8081"
	if len(os.Args) > 1 {
		addr = os.Args[1]
	}
	// The connection loops run on this context, which ends at Ctrl-C. Not on
	// r.Context(): it ends when the handler returns, so a loop started in a
	// goroutine on it would stop at once and leave its peer OPEN with nothing
	// driving it.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()

	u := &wspeer.Upgrader{Protocols: []string{"chat.v1"}, Accept: func(r *http.Request) error {
		if r.Header.Get("Authorization") == "" {
			return wspeer.Reject(http.StatusUnauthorized, "token required")
		}
		return nil
	}}
	http.HandleFunc("/ws", func(w http.ResponseWriter, r *http.Request) {
		p, err := u.Upgrade(w, r) // an OPEN peer, or the client has its 4xx already
		if err != nil {
			return
		}
		echo(ctx, p) // net/http gives each request its own goroutine
	})
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("listening on", ln.Addr())
	go func() {
		<-ctx.Done()
		ln.Close()
	}()
	http.Serve(ln, nil)
}

// echo sends every message back with its type until the connection ends.
func echo(ctx context.Context, p *wspeer.Peer) {
	for p.Wait(ctx) == nil {
		p.Poll()
		for {
			msg, err := p.GetPacket()
			if err != nil {
				break
			}
			mode := wspeer.WriteModeBinary
			if p.WasStringPacket() {
				mode = wspeer.WriteModeText
			}
			p.Send(msg, mode)
		}
	}
	if p.ReadyState() != wspeer.StateClosed {
		p.Close(-1, "") // ctx ended: drop the connection
	}
}
