// Package natsbackplane links the hubs (package github.com/wspeer/wspeer/hub)
// of several processes through a NATS server, so that a message broadcast on
// one node reaches the room's members on every node.
//
// It is a separate module so that the wspeer library itself needs no
// third-party code.
//
// # Wire
//
// One subject per room: Options.Subject + "." + the room name when the name
// is made of ASCII letters, digits, '-' and '_' only, otherwise
// Options.Subject + ".~" + the name in unpadded base64url (so any room name
// makes a valid subject and no two names share one). The payload is the
// message; the headers Wspeer-Node (the publishing node's random id) and
// Wspeer-Mode ("text" or "binary") go with it. A node subscribes to a room's
// subject while it has local members there, and ignores messages that carry
// its own node id, so no member gets a message twice even when the NATS
// connection is shared or echoes.
//
// # When NATS is unreachable
//
// The connection reconnects by itself, forever, every Options.ReconnectWait
// (with jitter), and also when the server was down at Connect. Meanwhile:
//   - local members keep getting local broadcasts (the hub delivers them
//     itself);
//   - messages other nodes publish are not received (NATS core keeps
//     nothing for absent subscribers);
//   - up to Options.ReconnectBuffer bytes of this node's publications (each
//     message plus about 100 bytes of subject and headers) are kept and sent,
//     in order, as soon as this node's link is back. Only the nodes whose
//     subscriptions the server has by then get them: after a NATS cluster
//     fails a node over to another server, that is every node; after the
//     restart of a lone server, the others usually reconnect at about the
//     same moment and most of these messages find no subscriber. Past the
//     buffer, Publish fails with ErrDropped and the message never leaves
//     this node. Before the very first connection nothing is kept (the
//     client does not know yet that the server takes headers).
//
// Stats counts the published, received and dropped messages; Options.OnLink
// reports each change of the link.
package natsbackplane

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/wspeer/wspeer"
	"github.com/wspeer/wspeer/hub"
)

// Header names of a published message.
const (
	HeaderNode = "Wspeer-Node"
	HeaderMode = "Wspeer-Mode"
)

// Defaults of Options.
const (
	DefaultSubject         = "wspeer.room"
	DefaultReconnectBuffer = 1 << 20
	DefaultReconnectWait   = time.Second
)

// Errors, matched with errors.Is.
var (
	// ErrDropped reports a message that was not sent to the other nodes:
	// the link is down and the reconnect buffer is full, the message is
	// larger than the server's max_payload, or the link never came up yet.
	ErrDropped = errors.New("natsbackplane: message dropped, not sent to the other nodes")
	// ErrClosed reports a call after Close.
	ErrClosed = errors.New("natsbackplane: closed")
)

// Options configure a Backplane. The zero value uses the defaults.
type Options struct {
	// Subject is the prefix of the rooms' subjects (DefaultSubject when
	// empty). Nodes that share rooms must use the same prefix.
	Subject string
	// Name names the NATS connection in the server's monitoring.
	Name string
	// ReconnectBuffer bounds the bytes of publications kept while the link
	// is down (DefaultReconnectBuffer when 0; negative keeps nothing).
	ReconnectBuffer int
	// ReconnectWait is the pause between reconnect attempts
	// (DefaultReconnectWait when 0).
	ReconnectWait time.Duration
	// OnLink, if set, is called with false when the link goes down and true
	// when it is back (from the NATS client's goroutine; it must not block).
	OnLink func(up bool)
	// Log receives a line per link change and per lost subscription message
	// (slow consumer); nil logs nothing.
	Log *slog.Logger
	// NATS are extra options for the connection (credentials, TLS...),
	// applied after the package's own.
	NATS []nats.Option
}

// Stats counts a Backplane's traffic since Connect.
type Stats struct {
	Published uint64 // messages handed to NATS (sent, or kept while the link is down)
	Dropped   uint64 // messages Publish could not send (ErrDropped)
	Received  uint64 // messages from other nodes passed to the hub
	Own       uint64 // own messages that came back and were ignored
}

// Backplane is a hub.Backplane over one NATS connection.
type Backplane struct {
	nc      *nats.Conn
	owned   bool // made by Connect: Close closes nc
	node    string
	subject string
	log     *slog.Logger

	mu     sync.Mutex
	subs   map[string]*nats.Subscription
	closed bool

	published, dropped, received, own atomic.Uint64
}

var _ hub.Backplane = (*Backplane)(nil)

// Connect returns a Backplane on a new connection to the NATS server(s) at
// url (comma-separated, nats://host:port). It does not wait for the server:
// an unreachable server is retried in the background as after a disconnect.
// It fails only for options NATS rejects, such as a malformed URL.
func Connect(url string, opts Options) (*Backplane, error) {
	b, err := newBackplane(opts)
	if err != nil {
		return nil, err
	}
	wait := opts.ReconnectWait
	if wait <= 0 {
		wait = DefaultReconnectWait
	}
	buf := opts.ReconnectBuffer
	switch {
	case buf == 0:
		buf = DefaultReconnectBuffer
	case buf < 0:
		buf = -1 // NATS's "keep nothing"
	}
	link := func(up bool, err error) {
		if b.log != nil {
			if up {
				b.log.Info("NATS link up", "url", b.nc.ConnectedUrlRedacted(), "dropped so far", b.dropped.Load())
			} else {
				b.log.Warn("NATS link down", "err", err)
			}
		}
		if opts.OnLink != nil {
			opts.OnLink(up)
		}
	}
	natsOpts := []nats.Option{
		nats.Name(opts.Name),
		nats.NoEcho(), // our own messages stay home (the node header catches them too)
		nats.RetryOnFailedConnect(true),
		nats.MaxReconnects(-1),
		nats.ReconnectWait(wait),
		nats.ReconnectBufSize(buf),
		nats.ConnectHandler(func(*nats.Conn) { link(true, nil) }),
		nats.ReconnectHandler(func(*nats.Conn) { link(true, nil) }),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) { link(false, err) }),
		nats.ErrorHandler(b.asyncError),
	}
	nc, err := nats.Connect(url, append(natsOpts, opts.NATS...)...)
	if err != nil {
		return nil, fmt.Errorf("natsbackplane: %w", err)
	}
	b.nc, b.owned = nc, true
	return b, nil
}

// New returns a Backplane on an existing connection, which stays the
// caller's: Close does not close it, and its reconnect settings and handlers
// are the caller's (see the package documentation for the advised ones).
func New(nc *nats.Conn, opts Options) (*Backplane, error) {
	if nc == nil {
		return nil, errors.New("natsbackplane: New with a nil connection")
	}
	b, err := newBackplane(opts)
	if err != nil {
		return nil, err
	}
	b.nc = nc
	return b, nil
}

func newBackplane(opts Options) (*Backplane, error) {
	var id [8]byte
	if _, err := rand.Read(id[:]); err != nil {
		return nil, fmt.Errorf("natsbackplane: node id: %w", err)
	}
	subject := opts.Subject
	if subject == "" {
		subject = DefaultSubject
	}
	return &Backplane{
		node:    hex.EncodeToString(id[:]),
		subject: subject,
		log:     opts.Log,
		subs:    make(map[string]*nats.Subscription),
	}, nil
}

// Node returns this node's random id, sent in HeaderNode.
func (b *Backplane) Node() string { return b.node }

// Connected reports whether the link to NATS is up now.
func (b *Backplane) Connected() bool { return b.nc.IsConnected() }

// Subject returns the NATS subject of room.
func (b *Backplane) Subject(room string) string {
	for i := 0; i < len(room); i++ {
		c := room[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return b.subject + ".~" + base64.RawURLEncoding.EncodeToString([]byte(room))
		}
	}
	if room == "" {
		return b.subject + ".~"
	}
	return b.subject + "." + room
}

// Subscribe implements hub.Backplane: it subscribes to room's subject.
func (b *Backplane) Subscribe(room string, deliver func(hub.Message)) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return ErrClosed
	}
	if _, ok := b.subs[room]; ok {
		return fmt.Errorf("natsbackplane: room %q subscribed twice", room)
	}
	sub, err := b.nc.Subscribe(b.Subject(room), func(m *nats.Msg) {
		if m.Header.Get(HeaderNode) == b.node {
			b.own.Add(1)
			return
		}
		mode := wspeer.WriteModeText
		if m.Header.Get(HeaderMode) == "binary" {
			mode = wspeer.WriteModeBinary
		}
		b.received.Add(1)
		deliver(hub.Message{Data: m.Data, Mode: mode})
	})
	if err != nil {
		return fmt.Errorf("natsbackplane: subscribing to room %q: %w", room, err)
	}
	b.subs[room] = sub
	return nil
}

// Unsubscribe implements hub.Backplane.
func (b *Backplane) Unsubscribe(room string) error {
	b.mu.Lock()
	sub := b.subs[room]
	delete(b.subs, room)
	b.mu.Unlock()
	if sub == nil {
		return nil
	}
	if err := sub.Unsubscribe(); err != nil && !errors.Is(err, nats.ErrConnectionClosed) {
		return fmt.Errorf("natsbackplane: unsubscribing from room %q: %w", room, err)
	}
	return nil
}

// Publish implements hub.Backplane: it sends msg to room's subject, or keeps
// it while the link is down (see the package documentation).
func (b *Backplane) Publish(room string, msg hub.Message) error {
	m := nats.NewMsg(b.Subject(room))
	m.Header.Set(HeaderNode, b.node)
	mode := "text"
	if msg.Mode == wspeer.WriteModeBinary {
		mode = "binary"
	}
	m.Header.Set(HeaderMode, mode)
	m.Data = msg.Data
	err := b.nc.PublishMsg(m)
	switch {
	case err == nil:
		b.published.Add(1)
		return nil
	case errors.Is(err, nats.ErrConnectionClosed):
		return ErrClosed
	default: // ErrReconnectBufExceeded, ErrMaxPayload, ErrHeadersNotSupported...
		b.dropped.Add(1)
		return fmt.Errorf("%w: %w", ErrDropped, err)
	}
}

// asyncError logs the NATS client's asynchronous errors: a slow consumer
// means this node could not keep up and lost room messages.
func (b *Backplane) asyncError(_ *nats.Conn, sub *nats.Subscription, err error) {
	if b.log == nil {
		return
	}
	subject := ""
	if sub != nil {
		subject = sub.Subject
	}
	b.log.Warn("NATS error", "subject", subject, "err", err)
}

// Stats returns the counters.
func (b *Backplane) Stats() Stats {
	return Stats{
		Published: b.published.Load(),
		Dropped:   b.dropped.Load(),
		Received:  b.received.Load(),
		Own:       b.own.Load(),
	}
}

// Close unsubscribes from every room; for a Backplane made by Connect it
// also sends what is buffered (waiting at most a second while the link is
// up) and closes the connection. Later calls fail with ErrClosed.
func (b *Backplane) Close() error {
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return nil
	}
	b.closed = true
	subs := b.subs
	b.subs = nil
	b.mu.Unlock()
	var errs []error
	for _, sub := range subs {
		if err := sub.Unsubscribe(); err != nil && !errors.Is(err, nats.ErrConnectionClosed) {
			errs = append(errs, err)
		}
	}
	if b.owned {
		if b.nc.IsConnected() {
			errs = append(errs, b.nc.FlushTimeout(time.Second))
		}
		b.nc.Close()
	}
	return errors.Join(errs...)
}
