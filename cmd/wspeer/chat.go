package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/wspeer/wspeer"
	"github.com/wspeer/wspeer/hub"
	"github.com/wspeer/wspeer/natsbackplane"
)

// chatHelp describes /chat in serve's -h text.
const chatHelp = `  /chat  chat room "lobby"; /chat/NAME is room NAME (1 to 64 letters, digits,
         '-', '_' or '.'). Every text message is broadcast to the room's other
         peers (the sender's page shows its own message itself); a binary
         message closes the sender with 1003. A peer whose outbound buffer is
         full is closed with 1008 rather than skipped: silently missing
         messages would be worse for a chat than a visible close and a
         reconnect. With -nats URL, rooms are shared with every serve node
         linked to that NATS server (see "Scaling out" in the README); while
         NATS is unreachable, local chat goes on and the link reconnects by
         itself. GET /cluster tells the page {"nats": "off"|"up"|"down"}.
         A peer sending more than -chat-rate messages per second (20 by
         default), averaged over bursts of twice as many, is closed with
         1008 "message rate exceeded".`

// chat is serve's /chat: rooms on a hub, linked to other nodes through NATS
// when -nats is given.
type chat struct {
	hub  *hub.Hub
	link *natsbackplane.Backplane // nil without -nats
	rate float64                  // messages per second per peer (0: no limit)
}

// newChat returns the chat rooms, joined to the NATS cluster at natsURL if
// it is not empty. The server need not be up yet: the link comes up by
// itself.
func newChat(log *slog.Logger, natsURL string, rate float64) (*chat, error) {
	c := &chat{rate: rate}
	opts := hub.Options{
		Slow: hub.CloseSlow,
		OnDrop: func(room string, p *wspeer.Peer, err error) {
			log.Warn("closing slow chat peer", "room", room, "remote", p.ConnectedHost(), "err", err)
		},
	}
	if natsURL != "" {
		link, err := natsbackplane.Connect(natsURL, natsbackplane.Options{Name: "wspeer serve", Log: log})
		if err != nil {
			return nil, err
		}
		c.link, opts.Backplane = link, link
	}
	c.hub = hub.New(opts)
	return c, nil
}

// close leaves every room and closes the NATS link.
func (c *chat) close() {
	c.hub.Close()
	if c.link != nil {
		c.link.Close()
	}
}

// roomName returns the room of a /chat or /chat/{room} request.
func roomName(r *http.Request) (string, error) {
	room := r.PathValue("room")
	if room == "" && r.URL.Path == "/chat" {
		return "lobby", nil
	}
	if len(room) == 0 || len(room) > 64 {
		return "", fmt.Errorf("room name must have 1 to 64 characters")
	}
	for _, ch := range []byte(room) {
		if !('a' <= ch && ch <= 'z' || 'A' <= ch && ch <= 'Z' || '0' <= ch && ch <= '9' || ch == '-' || ch == '_' || ch == '.') {
			return "", fmt.Errorf("room name %q: only letters, digits, '-', '_' and '.'", room)
		}
	}
	return room, nil
}

// serveChat runs one chat connection: a Wait loop in the handler's goroutine
// that joins the room as soon as the peer is open and broadcasts each text
// message it receives.
func (s *server) serveChat(w http.ResponseWriter, r *http.Request) {
	room, err := roomName(r)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	var joined *wspeer.Peer
	limit := newRateLimit(s.chat.rate, time.Now())
	s.serveWS(w, r, func(p *wspeer.Peer) {
		if joined == nil {
			// On the first call, before the "open" log line and the first
			// message read: a peer that is logged, or whose message has
			// been broadcast, is in the room.
			if err := s.chat.hub.Join(room, p); err != nil {
				s.log.Error("join", "room", room, "err", err)
				p.Close(1011, "cannot join the room")
				return
			}
			joined = p
		}
		for {
			msg, err := p.GetPacket()
			if err != nil {
				return
			}
			if !p.WasStringPacket() {
				p.Close(1003, "chat accepts text messages only")
				return
			}
			if !limit.allow(time.Now()) {
				p.Close(1008, "message rate exceeded")
				return
			}
			err = s.chat.hub.Broadcast(room, p, hub.Message{Data: msg})
			if err != nil && !errors.Is(err, hub.ErrPublish) {
				s.log.Error("broadcast", "room", room, "err", err)
			}
			// ErrPublish: the local peers have it; natsbackplane counts
			// and logs the link's trouble itself.
		}
	}, func() {
		if joined != nil {
			s.chat.hub.Leave(room, joined)
		}
	})
}

// serveCluster answers GET /cluster with the state of the NATS link, for the
// chat page: {"nats": "off"} without -nats, else "up" or "down".
func (s *server) serveCluster(w http.ResponseWriter, r *http.Request) {
	state := "off"
	if s.chat.link != nil {
		state = "down"
		if s.chat.link.Connected() {
			state = "up"
		}
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	json.NewEncoder(w).Encode(map[string]string{"nats": state})
}
