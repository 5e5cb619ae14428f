package load

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync/atomic"

	coder "github.com/coder/websocket"
	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsutil"
	gorilla "github.com/gorilla/websocket"
	"github.com/lxzan/gws"
	"github.com/wspeer/wspeer"
)

// Clients lists the client implementations for the client-side scenario:
// "fast" is the generator's own frame-level client, the others use each
// library the way its README shows (a reader goroutine and a writer
// goroutine per connection; wspeer: one Wait loop per connection).
var Clients = []string{"fast", "gorilla", "coder", "gobwas", "gws", "wspeer"}

const clientMax = 16 << 20

// libClient is a library connection with blocking message reads and writes.
type libClient interface {
	write(msg []byte) error
	read() ([]byte, error) // nil message: skip (not a data message)
	close()
}

// libConn drives a libClient: the writer keeps k messages in flight.
type libConn struct {
	cl       libClient
	k        int
	tmpl     []byte
	inflight atomic.Int64
	wake     chan struct{}
	done     chan struct{}
	hist     hist
	msgs     uint64
	bytes    uint64
	err      error
	chk      checker

	// wspeer runs its own single-goroutine loop instead.
	peer   *wspeer.Peer
	cancel context.CancelFunc
}

func newLibConn(cfg *Config) (conn, error) {
	url := "ws://" + cfg.Addr + cfg.path()
	l := &libConn{k: cfg.InFlight, tmpl: pattern(cfg.Size), wake: make(chan struct{}, 1), done: make(chan struct{})}
	l.chk = checker{tmpl: l.tmpl, full: cfg.Verify}
	ctx := context.Background()
	switch cfg.Client {
	case "gorilla":
		c, _, err := gorilla.DefaultDialer.Dial(url, nil)
		if err != nil {
			return nil, err
		}
		c.SetReadLimit(clientMax)
		l.cl = gorillaClient{c}
	case "coder":
		c, _, err := coder.Dial(ctx, url, nil)
		if err != nil {
			return nil, err
		}
		c.SetReadLimit(clientMax)
		l.cl = coderClient{c}
	case "gobwas":
		c, _, _, err := ws.Dial(ctx, url)
		if err != nil {
			return nil, err
		}
		l.cl = gobwasClient{c}
	case "gws":
		h := &gwsClient{}
		c, _, err := gws.NewClient(h, &gws.ClientOption{Addr: url, ReadMaxPayloadSize: clientMax, WriteMaxPayloadSize: clientMax})
		if err != nil {
			return nil, err
		}
		h.c = c
		go c.ReadLoop()
		l.cl = h
	case "wspeer":
		p := wspeer.NewPeer()
		p.InboundBufferSize, p.OutboundBufferSize, p.MaxQueuedPackets = clientMax, clientMax, 4096
		if err := p.ConnectToURL(url, nil); err != nil {
			return nil, err
		}
		for p.ReadyState() == wspeer.StateConnecting && p.Wait(ctx) == nil {
			p.Poll()
		}
		if p.ReadyState() != wspeer.StateOpen {
			return nil, fmt.Errorf("wspeer connect: %w", p.CloseError())
		}
		l.peer = p
	default:
		return nil, fmt.Errorf("unknown client %q (have %v)", cfg.Client, Clients)
	}
	return l, nil
}

func (l *libConn) start(m *atomic.Bool) {
	if l.peer != nil {
		ctx, cancel := context.WithCancel(context.Background())
		l.cancel = cancel
		go l.wspeerLoop(ctx, m)
		return
	}
	if g, ok := l.cl.(*gwsClient); ok {
		on := func(msg []byte) {
			if l.got(msg, m) {
				l.credit()
			} else {
				g.c.NetConn().Close()
			}
		}
		g.on.Store(&on)
	} else {
		go l.reader(m)
	}
	go l.writer()
}

// credit returns one in-flight slot to the writer.
func (l *libConn) credit() {
	l.inflight.Add(-1)
	select {
	case l.wake <- struct{}{}:
	default:
	}
}

func (l *libConn) stop() {
	select {
	case <-l.done:
		return
	default:
		close(l.done)
	}
	if l.peer != nil {
		l.cancel()
		l.peer.Close(-1, "")
		return
	}
	l.cl.close()
}

func (l *libConn) result() (*hist, uint64, uint64, error) {
	err := l.err
	if err != nil && !errors.Is(err, errMismatch) {
		select {
		case <-l.done:
			err = nil
		default:
		}
	}
	return &l.hist, l.msgs, l.bytes, err
}

// writer sends a fresh copy of the message each time (some libraries mask
// in place).
func (l *libConn) writer() {
	buf := make([]byte, len(l.tmpl))
	var seq uint64
	for {
		if l.inflight.Load() >= int64(l.k) {
			select {
			case <-l.wake:
				continue
			case <-l.done:
				return
			}
		}
		copy(buf, l.tmpl)
		putStamp(buf, nowNanos(), seq)
		seq++
		l.inflight.Add(1)
		if err := l.cl.write(buf); err != nil {
			return
		}
	}
}

func (l *libConn) reader(m *atomic.Bool) {
	for {
		msg, err := l.cl.read()
		if err != nil {
			l.err = err
			return
		}
		if msg == nil {
			continue
		}
		if !l.got(msg, m) {
			return
		}
		l.credit()
	}
}

// got checks and counts one echoed message.
func (l *libConn) got(msg []byte, m *atomic.Bool) bool {
	ts, err := l.chk.check(msg)
	if err != nil {
		l.err = err
		return false
	}
	if m.Load() {
		l.hist.add(nowNanos() - ts)
		l.msgs++
		l.bytes += uint64(len(msg))
	}
	return true
}

// wspeerLoop is a wspeer client the Godot way: one loop that polls, drains
// packets and sends to keep k in flight.
func (l *libConn) wspeerLoop(ctx context.Context, m *atomic.Bool) {
	p := l.peer
	var seq uint64
	inflight := 0
	for {
		for inflight < l.k {
			msg := make([]byte, len(l.tmpl))
			copy(msg, l.tmpl)
			putStamp(msg, nowNanos(), seq)
			if err := p.Send(msg, wspeer.WriteModeBinary); err != nil {
				break
			}
			seq++
			inflight++
		}
		if p.Wait(ctx) != nil {
			break
		}
		p.Poll()
		for {
			msg, err := p.GetPacket()
			if err != nil {
				break
			}
			if !l.got(msg, m) {
				p.Close(-1, "")
				return
			}
			inflight--
		}
	}
	if p.ReadyState() == wspeer.StateClosed && l.err == nil && ctx.Err() == nil {
		l.err = p.CloseError()
	}
}

type gorillaClient struct{ c *gorilla.Conn }

func (g gorillaClient) write(b []byte) error { return g.c.WriteMessage(gorilla.BinaryMessage, b) }
func (g gorillaClient) read() ([]byte, error) {
	_, b, err := g.c.ReadMessage()
	return b, err
}
func (g gorillaClient) close() { closeNow(g.c.NetConn()) }

type coderClient struct{ c *coder.Conn }

func (c coderClient) write(b []byte) error {
	return c.c.Write(context.Background(), coder.MessageBinary, b)
}
func (c coderClient) read() ([]byte, error) {
	_, b, err := c.c.Read(context.Background())
	return b, err
}
func (c coderClient) close() { c.c.CloseNow() }

type gobwasClient struct{ c net.Conn }

func (g gobwasClient) write(b []byte) error { return wsutil.WriteClientBinary(g.c, b) }
func (g gobwasClient) read() ([]byte, error) {
	b, _, err := wsutil.ReadServerData(g.c)
	return b, err
}
func (g gobwasClient) close() { closeNow(g.c) }

// gwsClient is a gws client the README way: messages are handled in
// OnMessage, on gws's ReadLoop goroutine.
type gwsClient struct {
	gws.BuiltinEventHandler
	c  *gws.Conn
	on atomic.Pointer[func([]byte)]
}

func (g *gwsClient) OnMessage(socket *gws.Conn, message *gws.Message) {
	if on := g.on.Load(); on != nil {
		(*on)(message.Bytes())
	}
	message.Close()
}

func (g *gwsClient) write(b []byte) error  { return g.c.WriteMessage(gws.OpcodeBinary, b) }
func (g *gwsClient) read() ([]byte, error) { return nil, errors.New("gws reads in OnMessage") }
func (g *gwsClient) close()                { closeNow(g.c.NetConn()) }
