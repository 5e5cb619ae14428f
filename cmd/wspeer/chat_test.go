package main

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestChatRoomsInChromium drives the chat page's room picker in headless
// Chromium against a two-node cluster: the page opened at #blue is in room
// blue (and gets a message sent to /chat/blue on the other node, not one sent
// to the lobby); picking "lobby" moves it to /chat; the cluster badge shows
// while NATS is down and hides once the link is back.
func TestChatRoomsInChromium(t *testing.T) {
	debugURL := startChromium(t)
	c := startCluster(t, 2)
	pageURL := "http" + strings.TrimPrefix(c.urls[0], "ws") + "/#blue"
	page := newCDP(t, debugURL)
	if _, err := page.call("Page.navigate", map[string]any{"url": pageURL}); err != nil {
		t.Fatal(err)
	}
	page.waitEval(t, `document.body && (document.body.dataset.state + " " + document.body.dataset.room)`, `"open blue"`)
	page.waitEval(t, `document.body.dataset.cluster`, `"up"`)
	page.waitEval(t, `document.getElementById("cluster").hidden`, `true`)
	others := `[...document.querySelectorAll("#log li.other")].map(e => e.lastChild.textContent).join("|")`

	// Messages typed on the page reach room blue on the other node: once one
	// has, the page's node is subscribed and the page is in the room.
	blue := dial(t, c.urls[1]+"/chat/blue", nil)
	lobby := dial(t, c.urls[1]+"/chat", nil)
	for try := 0; ; try++ {
		if try == 100 {
			t.Fatal("nothing typed on the page reached room blue on the other node")
		}
		page.eval(t, `document.getElementById("input").value = "hi blue"; document.getElementById("form").requestSubmit(); true`)
		if msg, ok := tryRecv(blue, 100*time.Millisecond); ok && msg == "hi blue" {
			break
		}
	}
	lobby.SendText("for the lobby")
	blue.SendText("for blue")
	page.waitEval(t, others, `"for blue"`)

	// Picking the lobby moves the page to /chat.
	page.eval(t, `document.getElementById("room").value = "lobby"; document.getElementById("room-form").requestSubmit(); true`)
	page.waitEval(t, `document.body.dataset.state + " " + document.body.dataset.room`, `"open lobby"`)
	page.waitEval(t, `location.hash`, `"#lobby"`)
	for try := 0; ; try++ {
		if try == 100 {
			t.Fatal("the lobby's messages never reached the page")
		}
		lobby.SendText("lobby says hi")
		if page.eval(t, others+`.includes("lobby says hi")`) == "true" {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if got := page.eval(t, others+`.includes("for the lobby")`); got != "false" { // sent before it joined
		t.Fatalf("the page shows a lobby message sent while it was in room blue")
	}

	// NATS down: the badge shows; back: it hides.
	c.nats.Stop()
	page.waitEval(t, `document.getElementById("cluster").hidden`, `false`)
	page.waitEval(t, `document.body.dataset.state`, `"open"`) // the page's own connection stays
	c.nats.Restart()
	page.waitEval(t, `document.getElementById("cluster").hidden`, `true`)
}

func TestChatBadRoomRefused(t *testing.T) {
	t.Parallel()
	srv, url := startServer(t, "serve")
	httpURL := "http" + strings.TrimPrefix(url, "ws")
	for _, path := range []string{"/chat/a%20b", "/chat/" + strings.Repeat("x", 65), "/chat/caf%C3%A9"} {
		resp, err := http.Get(httpURL + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(body), "room name") {
			t.Errorf("GET %s: %d %q, want 400 saying why", path, resp.StatusCode, body)
		}
	}
	c := &cluster{urls: []string{url}, nodes: []*proc{srv}}
	if state := c.linkState(t, 0); state != "off" {
		t.Fatalf("GET /cluster without -nats: %q, want off", state)
	}
}
