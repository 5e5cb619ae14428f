//go:build !js

package wspeer_test

import (
	"context"
	"fmt"
	"log"
	"net"
	"sync"
	"time"

	"github.com/wspeer/wspeer"
	"github.com/wspeer/wspeer/godot"
)

// gameServer keeps rooms of players whose Godot clients exchange put_var
// dictionaries: {"join": ROOM, "name": NAME} enters a room, any other
// dictionary is relayed to the others in the room with "from" added.
type gameServer struct {
	mu    sync.Mutex
	rooms map[string]map[*wspeer.Peer]string // room -> peer -> player name
}

// serve runs one player's connection: a goroutine parked in Wait, as Go
// servers do (a Poller loop, as in Example_server, works too).
func (s *gameServer) serve(conn net.Conn) {
	p := wspeer.NewPeer() // p.Variant.Version = godot.Godot3 for Godot 3 games
	if err := p.AcceptStream(conn); err != nil {
		return
	}
	var room, name string
	for p.Wait(context.Background()) == nil {
		p.Poll()
		for p.AvailablePacketCount() > 0 {
			v, err := p.GetVar()
			msg, ok := v.(*godot.Dictionary)
			if err != nil || !ok {
				p.Close(1007, "want a Dictionary")
				break
			}
			if r, ok := msg.Get("join"); ok {
				room, _ = r.(string)
				n, _ := msg.Get("name")
				name, _ = n.(string)
				s.join(room, p, name)
				continue
			}
			msg.Set("from", name)
			s.relay(room, p, msg)
		}
	}
	s.leave(room, p)
}

func (s *gameServer) join(room string, p *wspeer.Peer, name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.rooms[room] == nil {
		s.rooms[room] = map[*wspeer.Peer]string{}
	}
	s.rooms[room][p] = name
}

func (s *gameServer) leave(room string, p *wspeer.Peer) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.rooms[room], p)
}

// relay sends msg to every other player of the room. PutVar is safe to call
// on another goroutine's peer.
func (s *gameServer) relay(room string, from *wspeer.Peer, msg *godot.Dictionary) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for p := range s.rooms[room] {
		if p != from {
			p.PutVar(msg) // a full or closed peer just misses this update
		}
	}
}

// player connects the way a Godot client does: connect_to_url, then put_var.
func player(url, name string) *wspeer.Peer {
	p := wspeer.NewPeer()
	if err := p.ConnectToURL(url, nil); err != nil {
		log.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for p.ReadyState() == wspeer.StateConnecting && p.Wait(ctx) == nil {
		p.Poll()
	}
	p.PutVar(map[string]any{"join": "lobby", "name": name})
	return p
}

// A Go game server for Godot clients: players in rooms exchange put_var
// dictionaries. Here two Go players stand in for Godot games; a GDScript
// client would call put_var({"pos": position}) and get_var() the same way.
func Example_godotGameServer() {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	defer ln.Close()
	srv := &gameServer{rooms: map[string]map[*wspeer.Peer]string{}}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go srv.serve(c)
		}
	}()
	url := "ws://" + ln.Addr().String() + "/"
	ann, bob := player(url, "ann"), player(url, "bob")
	defer ann.Close(1000, "")
	defer bob.Close(1000, "")

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for sent := false; ctx.Err() == nil; {
		ann.Poll()
		bob.Poll()
		if !sent && roomSize(srv, "lobby") == 2 {
			ann.PutVar(map[string]any{"pos": godot.Vector2{X: 3, Y: 4}, "hp": 100})
			sent = true
		}
		if v, err := bob.GetVar(); err == nil {
			fmt.Println(godot.Format(v, godot.Godot4))
			return
		}
		time.Sleep(time.Millisecond)
	}
	// Output: {"hp": 100, "pos": Vector2(3, 4), "from": "ann"}
}

func roomSize(s *gameServer, room string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.rooms[room])
}
