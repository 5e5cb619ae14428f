//go:build !js

package hub_test

import (
	"net/http"

	"github.com/wspeer/wspeer"
	"github.com/wspeer/wspeer/hub"
)

// A chat server: each connection joins the room named in its path and every
// text message goes to the room's other members. For several processes, pass
// a natsbackplane.Backplane as Options.Backplane.
func Example() {
	h := hub.New(hub.Options{Slow: hub.CloseSlow})
	http.HandleFunc("GET /rooms/{room}", func(w http.ResponseWriter, r *http.Request) {
		p, err := wspeer.Upgrade(w, r)
		if err != nil {
			return // the client got its HTTP error
		}
		room := r.PathValue("room")
		if err := h.Join(room, p); err != nil {
			p.Close(1011, "cannot join")
			return
		}
		defer h.Leave(room, p)
		for p.Wait(r.Context()) == nil {
			p.Poll()
			for {
				msg, err := p.GetPacket()
				if err != nil {
					break
				}
				if p.WasStringPacket() {
					h.Broadcast(room, p, hub.Message{Data: msg})
				}
			}
		}
	})
	// http.ListenAndServe("127.0.0.1:8080", nil)
}
