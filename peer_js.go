package wspeer

// The browser build (GOOS=js GOARCH=wasm): the same Peer API over the
// browser's WebSocket object, reached through syscall/js. The browser does the
// TCP connection, TLS, the opening handshake, framing, pings and the closing
// handshake; this file keeps Godot's model on top of it: the JavaScript event
// handlers only queue what happened, and the application sees it in Poll.

import (
	"crypto/tls"
	"fmt"
	"net/http"
	"syscall/js"
	"time"

	"github.com/wspeer/wspeer/internal/proto"
)

// browserLimitCode is the close code sent when an inbound budget is exceeded:
// browsers let scripts send only 1000 and 3000-4999, so 1009 cannot go on the
// wire; 4009 (private use) stands for it. Locally the peer reports 1009, as the
// native build does.
const browserLimitCode = 4009

// connState is everything one browser connection sets.
type connState struct {
	state    State
	cfg      settings
	sock     *webSocket // the current browser socket, nil when none
	events   []webEvent // queued by the socket's handlers, applied by Poll
	deadline time.Time  // of CONNECTING or CLOSING, zero otherwise
	packets  []webPacket
	phead    int
	inBytes  int           // unread bytes: queued packets and events not yet polled
	inCount  int           // messages in events not yet polled
	wakeCh   chan struct{} // closed (and replaced) to wake Wait
	outcome
}

// checkHandshakeHeaders refuses any: the browser's WebSocket cannot send
// extra headers, and dropping them silently (as Godot does, with a warning)
// would hide the problem.
func checkHandshakeHeaders(h http.Header) error {
	if len(h) > 0 {
		return fmt.Errorf("%w: the browser's WebSocket cannot send HandshakeHeaders", ErrUnsupported)
	}
	return nil
}

type webPacket struct {
	data []byte
	text bool
}

// webEvent is something the browser reported, waiting for Poll.
type webEvent struct {
	kind   webEventKind
	data   []byte // message
	text   bool   // message
	code   int    // close or failure
	reason string // close or failure
	clean  bool   // close: the browser's wasClean
	err    error  // failure
}

type webEventKind uint8

const (
	evOpen webEventKind = iota
	evMessage
	evClose
	evFail // a local failure: constructor exception, inbound budget exceeded
)

// webSocket is one browser WebSocket object and the Go functions its event
// handlers call. Handlers of a socket that is no longer the peer's current one
// do nothing.
type webSocket struct {
	ws       js.Value
	funcs    []js.Func
	detached bool
}

// connectLocked opens the browser's WebSocket to t.
func (p *Peer) connectLocked(rawURL string, t *target, s settings, _ *tls.Config) error {
	if t.auth != "" {
		return fmt.Errorf("%w: URL %q: the browser's WebSocket cannot send credentials", ErrUnsupported, rawURL)
	}
	ctor := js.Global().Get("WebSocket")
	if ctor.Type() != js.TypeFunction {
		return fmt.Errorf("%w: this JavaScript environment has no WebSocket", ErrUnsupported)
	}
	protocols := make([]any, len(s.protocols))
	for i, pr := range s.protocols {
		protocols[i] = pr
	}

	p.dropLocked()
	p.connState = connState{state: StateConnecting, cfg: s, outcome: outcome{closeCode: -1, requestedURL: rawURL}}
	p.deadline = p.now().Add(s.dialTimeout + s.handshakeTimeout)

	var ws js.Value
	if err := jsTry(func() { ws = ctor.New(t.url, js.ValueOf(protocols)) }); err != nil {
		p.pushLocked(webEvent{kind: evFail, code: -1,
			err: newCloseError(ErrDial, "the browser refused to open the WebSocket", err)})
		return nil
	}
	ws.Set("binaryType", "arraybuffer")
	p.sock = p.listen(ws)
	return nil
}

// jsTry runs f and returns the JavaScript exception it threw, if any.
func jsTry(f func()) (err error) {
	defer func() {
		if r := recover(); r != nil {
			jerr, ok := r.(js.Error)
			if !ok {
				panic(r)
			}
			err = jerr
		}
	}()
	f()
	return nil
}

// listen installs the event handlers on ws. They run on goroutines the
// JavaScript event loop starts, so each takes the lock briefly and only queues
// the event (plus, for messages, a copy of the data and the budget check).
func (p *Peer) listen(ws js.Value) *webSocket {
	s := &webSocket{ws: ws}
	on := func(name string, h func(ev js.Value)) {
		f := js.FuncOf(func(_ js.Value, args []js.Value) any {
			p.mu.Lock()
			defer p.mu.Unlock()
			if p.sock == s && !s.detached {
				h(args[0])
			}
			return nil
		})
		s.funcs = append(s.funcs, f)
		ws.Set(name, f)
	}
	on("onopen", func(js.Value) {
		p.pushLocked(webEvent{kind: evOpen, reason: ws.Get("protocol").String()})
	})
	on("onmessage", func(ev js.Value) { p.messageLocked(s, ev.Get("data")) })
	on("onclose", func(ev js.Value) {
		s.detach()
		p.pushLocked(webEvent{kind: evClose, code: ev.Get("code").Int(),
			reason: ev.Get("reason").String(), clean: ev.Get("wasClean").Bool()})
	})
	// onerror needs no handler: the browser always follows it with close.
	return s
}

// messageLocked copies an inbound message, enforcing the inbound budgets as
// the message arrives: the browser has already read it, so the only way to
// bound memory is to refuse it and end the connection.
func (p *Peer) messageLocked(s *webSocket, data js.Value) {
	text := data.Type() == js.TypeString
	var b []byte
	if text {
		// A JavaScript string has no cheap UTF-8 length: convert, then check.
		b = []byte(data.String())
	} else if n := data.Get("byteLength").Int(); n <= p.cfg.inMax {
		b = make([]byte, n)
		js.CopyBytesToGo(b, js.Global().Get("Uint8Array").New(data))
	} else {
		p.failLocked(s, "message too big", fmt.Sprintf("a message of %d bytes exceeds InboundBufferSize %d", n, p.cfg.inMax), true)
		return
	}
	n := len(b)
	switch {
	case n > p.cfg.inMax:
		p.failLocked(s, "message too big", fmt.Sprintf("a message of %d bytes exceeds InboundBufferSize %d", n, p.cfg.inMax), true)
		return
	case p.inBytes+n > p.cfg.inMax || len(p.packets)-p.phead+p.inCount >= p.cfg.maxPackets:
		p.failLocked(s, "inbound buffer full", fmt.Sprintf("%d unread messages (%d bytes) and no room for %d bytes more: the browser cannot pause reading", len(p.packets)-p.phead+p.inCount, p.inBytes, n), false)
		return
	}
	p.inBytes += n
	p.inCount++
	p.pushLocked(webEvent{kind: evMessage, data: b, text: text})
}

// failLocked ends the connection for an exceeded inbound budget: the browser
// sends browserLimitCode, and Poll reports 1009 as the native build would.
func (p *Peer) failLocked(s *webSocket, reason, detail string, protocol bool) {
	s.detach()
	_ = jsTry(func() { s.ws.Call("close", browserLimitCode, reason) })
	var kind, cause error = ErrMessageTooBig, nil
	if protocol {
		kind, cause = ErrProtocol, ErrMessageTooBig
	}
	p.pushLocked(webEvent{kind: evFail, code: proto.CloseMessageTooBig, reason: reason,
		err: newCloseError(kind, detail, cause)})
}

// detach removes the socket's handlers and releases their Go functions; events
// the browser has already queued then find no handler.
func (s *webSocket) detach() {
	if s.detached {
		return
	}
	s.detached = true
	for _, name := range []string{"onopen", "onmessage", "onclose"} {
		s.ws.Set(name, js.Null())
	}
	for _, f := range s.funcs {
		f.Release()
	}
	s.funcs = nil
}

// dropLocked abandons the current socket, if any: its handlers are removed and,
// if it is still CONNECTING or OPEN, it is closed without a status code (the
// remote sees 1005). Godot sends 3001 "destroyed" here, a code nobody
// registered; a browser cannot drop TCP without a close frame.
func (p *Peer) dropLocked() {
	s := p.sock
	if s == nil {
		return
	}
	p.sock = nil
	s.detach()
	if rs := s.ws.Get("readyState").Int(); rs == 0 || rs == 1 {
		_ = jsTry(func() { s.ws.Call("close") })
	}
}

// pushLocked queues an event for Poll and wakes Wait.
func (p *Peer) pushLocked(ev webEvent) {
	p.events = append(p.events, ev)
	p.wakeLocked()
}

// wakeLocked ends every Wait in progress.
func (p *Peer) wakeLocked() {
	if p.wakeCh != nil {
		close(p.wakeCh)
		p.wakeCh = nil
	}
}
