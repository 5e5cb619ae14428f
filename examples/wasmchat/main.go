//go:build js && wasm

// Command wasmchat is the chat page of `wspeer serve` written in Go and
// compiled to WebAssembly: a wspeer.Peer in the browser, connected to the
// server's /chat endpoint, driven by the same Wait/Poll loop a native program
// uses. internal/wasmassets serves it (with its index.html and wasm_exec.js)
// at /wasm/.
//
// The committed internal/wasmassets/main.wasm is this program; rebuild it with
//
//	go generate ./internal/wasmassets
//
// The page expects elements #state, #log, #form, #input, #send and #reconnect.
// Tests drive it without a user through a test-only page that sets the global
// wspeerTestSay to a string, sent once connected. Nothing in the shipped page
// or its URL sets it: a link cannot make a visitor say anything.
package main

import (
	"context"
	"fmt"
	"syscall/js"

	"github.com/wspeer/wspeer"
)

var doc = js.Global().Get("document")

func byID(id string) js.Value { return doc.Call("getElementById", id) }

// add appends a line to the chat log; kind is a CSS class (mine, other, system).
func add(kind, who, text string) {
	li := doc.Call("createElement", "li")
	li.Set("className", kind)
	if who != "" {
		span := doc.Call("createElement", "span")
		span.Set("className", "who")
		span.Set("textContent", who)
		li.Call("append", span)
	}
	li.Call("append", doc.Call("createTextNode", text))
	byID("log").Call("append", li)
	li.Call("scrollIntoView", map[string]any{"block": "end"})
}

func setState(state, label string) {
	doc.Get("body").Get("dataset").Set("state", state)
	byID("state").Set("textContent", label)
	open := state == "open"
	byID("input").Set("disabled", !open)
	byID("send").Set("disabled", !open)
	byID("reconnect").Set("hidden", state != "closed")
}

func main() {
	loc := js.Global().Get("location")
	scheme := "ws://"
	if loc.Get("protocol").String() == "https:" {
		scheme = "wss://"
	}
	url := scheme + loc.Get("host").String() + "/chat"
	say := js.Global().Get("wspeerTestSay")

	p := wspeer.NewPeer()
	// The submit handler runs on a goroutine of the browser's event loop:
	// SendText never blocks, so it can be called from there.
	submit := js.FuncOf(func(_ js.Value, args []js.Value) any {
		args[0].Call("preventDefault")
		input := byID("input")
		text := input.Get("value").String()
		if text == "" {
			return nil
		}
		if err := p.SendText(text); err != nil {
			add("system", "", "not sent: "+err.Error())
			return nil
		}
		add("mine", "you", text)
		input.Set("value", "")
		return nil
	})
	byID("form").Call("addEventListener", "submit", submit)
	reconnect := js.FuncOf(func(js.Value, []js.Value) any {
		loc.Call("reload")
		return nil
	})
	byID("reconnect").Call("addEventListener", "click", reconnect)

	setState("connecting", "connecting…")
	if err := p.ConnectToURL(url, nil); err != nil {
		setState("closed", "error")
		add("system", "", err.Error())
		return
	}
	// The connection loop: Wait parks this goroutine until the browser reports
	// something, so the page stays responsive.
	opened := false
	for p.Wait(context.Background()) == nil {
		p.Poll()
		if !opened && p.ReadyState() == wspeer.StateOpen {
			opened = true
			setState("open", "connected")
			add("system", "", "Connected to "+url+" (Go/wasm client)")
			byID("input").Call("focus")
			if say.Type() == js.TypeString {
				if err := p.SendText(say.String()); err == nil {
					add("mine", "you", say.String())
				}
			}
		}
		for {
			msg, err := p.GetPacket()
			if err != nil {
				break
			}
			if p.WasStringPacket() {
				add("other", "someone", string(msg))
			}
		}
	}
	code, reason := p.CloseCode(), p.CloseReason()
	setState("closed", fmt.Sprintf("closed %d", code))
	line := fmt.Sprintf("Connection closed: code %d", code)
	if reason != "" {
		line += " — " + reason
	}
	if err := p.CloseError(); err != nil {
		line += " (" + err.Error() + ")"
	}
	add("system", "", line)
	doc.Get("body").Get("dataset").Set("closeCode", fmt.Sprint(code))
	select {} // keep the reconnect handler alive
}
