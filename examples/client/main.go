// Command client connects to an echo server, sends "hello", prints the echo
// and closes: a complete connection loop on Wait.
//
//	go run ./examples/client ws://127.0.0.1:8080/echo
package main

import (
	"context"
	"fmt"
	"log"
	"os"
	"time"

	"github.com/wspeer/wspeer"
)

func main() {
	url := "ws://127.0.0.1:8080/echo" // the echo endpoint of `wspeer serve`
	if len(os.Args) > 1 {
		url = os.Args[1]
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	p := wspeer.NewPeer()
	if err := p.ConnectToURL(url, nil); err != nil {
		log.Fatal(err)
	}
	sent := false
	for p.Wait(ctx) == nil {
		p.Poll()
		if p.ReadyState() == wspeer.StateOpen && !sent {
			if err := p.SendText("hello"); err != nil {
				log.Fatal(err)
			}
			sent = true
		}
		for p.AvailablePacketCount() > 0 {
			msg, _ := p.GetPacket()
			fmt.Printf("%s (text: %v)\n", msg, p.WasStringPacket())
			p.Close(1000, "done")
		}
	}
	fmt.Println("closed", p.CloseCode(), p.CloseReason(), p.CloseError())
}
