//go:build !js

package wspeer_test

import (
	"context"
	"fmt"
	"log"
	"net"
	"time"

	"github.com/wspeer/wspeer"
)

// startEchoServer runs the Godot tutorial's server loop (Example_server) in the
// background and returns its ws:// URL.
func startEchoServer() (string, func()) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	stop := make(chan struct{})
	go serveEcho(ln, stop)
	return "ws://" + ln.Addr().String() + "/", func() { close(stop); ln.Close() }
}

// serveEcho is the tutorial's server: accept TCP connections, hand each to a
// new Peer, and poll every peer in one loop, echoing what they send.
func serveEcho(ln net.Listener, stop chan struct{}) {
	conns := make(chan net.Conn)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			conns <- c
		}
	}()
	peers := map[int]*wspeer.Peer{}
	nextID := 2
	ticker := time.NewTicker(time.Millisecond)
	defer ticker.Stop()
	for {
		select {
		case <-stop:
			for _, p := range peers {
				p.Close(1001, "server stopping")
			}
			return
		case c := <-conns:
			p := wspeer.NewPeer()
			if err := p.AcceptStream(c); err == nil {
				peers[nextID] = p
				nextID++
			}
		case <-ticker.C:
		}
		for id, p := range peers {
			p.Poll()
			switch p.ReadyState() {
			case wspeer.StateOpen:
				for p.AvailablePacketCount() > 0 {
					msg, _ := p.GetPacket()
					if p.WasStringPacket() {
						p.SendText(string(msg))
					} else {
						p.PutPacket(msg)
					}
				}
			case wspeer.StateClosed:
				delete(peers, id)
			}
		}
	}
}

// The Godot tutorial's client: poll every frame, send once OPEN, drain the
// packets, and report the close code when CLOSED.
func Example_client() {
	url, stop := startEchoServer()
	defer stop()

	p := wspeer.NewPeer()
	if err := p.ConnectToURL(url, nil); err != nil {
		log.Fatal(err)
	}
	sent := false
	for frame := 0; frame < 5000; frame++ { // a game's frames
		p.Poll()
		switch p.ReadyState() {
		case wspeer.StateOpen:
			if !sent {
				p.SendText("Test packet")
				sent = true
			}
			for p.AvailablePacketCount() > 0 {
				msg, _ := p.GetPacket()
				fmt.Printf("got %q (text: %v)\n", msg, p.WasStringPacket())
				p.Close(1000, "done")
			}
		case wspeer.StateClosed:
			fmt.Println("closed with code", p.CloseCode(), p.CloseReason())
			return
		}
		time.Sleep(time.Millisecond)
	}
	// Output:
	// got "Test packet" (text: true)
	// closed with code 1000 done
}

// The Godot tutorial's server loop over net.Listen and AcceptStream.
func Example_server() {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	stop := make(chan struct{})
	go serveEcho(ln, stop)
	defer func() { close(stop); ln.Close() }()

	client := wspeer.NewPeer()
	client.ConnectToURL("ws://"+ln.Addr().String()+"/", nil)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	sent := false
	for client.Wait(ctx) == nil {
		client.Poll()
		if client.ReadyState() == wspeer.StateOpen && !sent {
			client.PutPacket([]byte{1, 2, 3})
			sent = true
		}
		if msg, err := client.GetPacket(); err == nil {
			fmt.Println("echoed", msg, "binary:", !client.WasStringPacket())
			client.Close(1000, "")
		}
	}
	fmt.Println(client.ReadyState(), client.CloseCode())
	// Output:
	// echoed [1 2 3] binary: true
	// CLOSED 1000
}

// The idiomatic Go loop: one goroutine per connection, parked in Wait until
// Poll has work, ended by Wait returning ErrClosed or the context's error.
func ExamplePeer_Wait() {
	url, stop := startEchoServer()
	defer stop()

	p := wspeer.NewPeer()
	if err := p.ConnectToURL(url, nil); err != nil {
		log.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	greeted := false
	for p.Wait(ctx) == nil {
		p.Poll()
		if p.ReadyState() == wspeer.StateOpen && !greeted {
			p.SendText("hello")
			greeted = true
		}
		for p.AvailablePacketCount() > 0 {
			msg, _ := p.GetPacket()
			fmt.Printf("%s\n", msg)
			p.Close(4000, "bye")
		}
	}
	fmt.Println("closed:", p.CloseCode(), p.CloseReason(), p.CloseError())
	// Output:
	// hello
	// closed: 4000 bye <nil>
}

// A Godot-style server on one goroutine: a Poller says which peers have work,
// so the loop neither spins nor sleeps, and idle peers cost no goroutine.
func ExamplePoller() {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	defer ln.Close()
	poller, err := wspeer.NewPoller()
	if err != nil {
		log.Fatal(err)
	}
	defer poller.Close()
	go func() { // accept: Add is safe from any goroutine and wakes Wait
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			p := wspeer.NewPeer()
			p.AcceptStream(c)
			poller.Add(p)
		}
	}()

	// A client, on its own goroutine.
	go func() {
		c := wspeer.NewPeer()
		c.ConnectToURL("ws://"+ln.Addr().String()+"/", nil)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		sent := false
		for c.Wait(ctx) == nil {
			c.Poll()
			if c.ReadyState() == wspeer.StateOpen && !sent {
				c.SendText("ping")
				sent = true
			}
			if msg, err := c.GetPacket(); err == nil {
				fmt.Printf("client got %s\n", msg)
				c.Close(1000, "thanks")
			}
		}
	}()

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var ready []*wspeer.Peer
	for {
		ready, err = poller.Wait(ctx, ready[:0])
		if err != nil {
			return
		}
		for _, p := range ready {
			p.Poll()
			for {
				msg, err := p.GetPacket()
				if err != nil {
					break
				}
				p.SendText("pong for " + string(msg))
			}
			if p.ReadyState() == wspeer.StateClosed {
				fmt.Println("server saw close", p.CloseCode(), p.CloseReason())
				poller.Remove(p)
				return
			}
		}
	}
	// Output:
	// client got pong for ping
	// server saw close 1000 thanks
}
