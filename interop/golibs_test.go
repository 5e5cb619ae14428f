package interop

import (
	"context"
	"errors"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	coder "github.com/coder/websocket"
	gorilla "github.com/gorilla/websocket"
)

// runGo runs both directions of every variant.
func runGo(t *testing.T, variants []variant, dial func(context.Context, string, variant) (goConn, error),
	accept func(http.ResponseWriter, *http.Request, variant) (goConn, error)) {
	for _, v := range variants {
		server, client := goSides(v, dial, accept)
		t.Run(v.name+"/OurServer", func(t *testing.T) { runSide(t, server) })
		t.Run(v.name+"/OurClient", func(t *testing.T) { runSide(t, client) })
	}
}

// TestGorilla runs the scenarios against github.com/gorilla/websocket,
// without compression and with permessage-deflate (gorilla supports only
// no_context_takeover) negotiated with wspeer.
func TestGorilla(t *testing.T) {
	dial := func(ctx context.Context, url string, v variant) (goConn, error) {
		d := gorilla.Dialer{Subprotocols: ClientProtocols, HandshakeTimeout: 10 * time.Second, EnableCompression: v.deflate}
		c, resp, err := d.DialContext(ctx, url, nil)
		if err != nil {
			return nil, err
		}
		return newGorilla(c, resp.Header.Get("Sec-WebSocket-Extensions")), nil
	}
	accept := func(w http.ResponseWriter, r *http.Request, v variant) (goConn, error) {
		up := gorilla.Upgrader{Subprotocols: ServerProtocols, EnableCompression: v.deflate}
		c, err := up.Upgrade(w, r, nil)
		if err != nil {
			return nil, err
		}
		return newGorilla(c, "?"), nil
	}
	runGo(t, []variant{{"plain", false, false}, {"deflate", true, true}}, dial, accept)
}

type gorillaConn struct {
	c     *gorilla.Conn
	ext   string
	wmu   sync.Mutex
	pings atomic.Int64
	pongs chan struct{}
}

func newGorilla(c *gorilla.Conn, ext string) *gorillaConn {
	g := &gorillaConn{c: c, ext: ext, pongs: make(chan struct{}, 1)}
	c.SetReadLimit(Budget)
	c.SetPingHandler(func(data string) error {
		g.pings.Add(1)
		err := c.WriteControl(gorilla.PongMessage, []byte(data), time.Now().Add(time.Second))
		var ne net.Error
		if err == gorilla.ErrCloseSent || errors.As(err, &ne) && ne.Timeout() {
			return nil
		}
		return err
	})
	c.SetPongHandler(func(data string) error {
		if data == "hi" {
			select {
			case g.pongs <- struct{}{}:
			default:
			}
		}
		return nil
	})
	return g
}

func (g *gorillaConn) Read(ctx context.Context) (bool, []byte, error) {
	typ, data, err := g.c.ReadMessage()
	return typ == gorilla.TextMessage, data, err
}

func (g *gorillaConn) Write(ctx context.Context, text bool, data []byte) error {
	typ := gorilla.BinaryMessage
	if text {
		typ = gorilla.TextMessage
	}
	g.wmu.Lock()
	defer g.wmu.Unlock()
	return g.c.WriteMessage(typ, data)
}

func (g *gorillaConn) Ping(ctx context.Context) error {
	if err := g.c.WriteControl(gorilla.PingMessage, []byte("hi"), time.Now().Add(5*time.Second)); err != nil {
		return err
	}
	select {
	case <-g.pongs:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (g *gorillaConn) Close(code int, reason string) error {
	// The default close handler answers the peer's close frame; ReadMessage
	// then returns the *CloseError that ends the agent.
	return g.c.WriteControl(gorilla.CloseMessage, gorilla.FormatCloseMessage(code, reason), time.Now().Add(5*time.Second))
}

func (g *gorillaConn) Protocol() string   { return g.c.Subprotocol() }
func (g *gorillaConn) Extensions() string { return g.ext }
func (g *gorillaConn) Pings() int         { return int(g.pings.Load()) }

func (g *gorillaConn) CloseInfo(err error) (int, string, bool) {
	defer g.c.Close()
	var ce *gorilla.CloseError
	if errors.As(err, &ce) {
		return ce.Code, ce.Text, true
	}
	return 0, "", false
}

// TestCoder runs the scenarios against github.com/coder/websocket: its
// permessage-deflate offer declined by wspeer, then negotiated with context
// takeover.
func TestCoder(t *testing.T) {
	mode := func(v variant) coder.CompressionMode {
		if v.deflate {
			return coder.CompressionContextTakeover
		}
		return coder.CompressionDisabled
	}
	dial := func(ctx context.Context, url string, v variant) (goConn, error) {
		c, resp, err := coder.Dial(ctx, url, &coder.DialOptions{Subprotocols: ClientProtocols, CompressionMode: mode(v)})
		if err != nil {
			return nil, err
		}
		return newCoder(c, resp.Header.Get("Sec-WebSocket-Extensions")), nil
	}
	accept := func(w http.ResponseWriter, r *http.Request, v variant) (goConn, error) {
		c, err := coder.Accept(w, r, &coder.AcceptOptions{Subprotocols: ServerProtocols, CompressionMode: mode(v)})
		if err != nil {
			return nil, err
		}
		return newCoder(c, w.Header().Get("Sec-WebSocket-Extensions")), nil
	}
	runGo(t, []variant{{"offer-declined", true, false}, {"deflate", true, true}}, dial, accept)
}

type coderConn struct {
	c   *coder.Conn
	ext string
}

func newCoder(c *coder.Conn, ext string) *coderConn {
	c.SetReadLimit(Budget)
	return &coderConn{c, ext}
}

func (c *coderConn) Read(ctx context.Context) (bool, []byte, error) {
	typ, data, err := c.c.Read(ctx)
	return typ == coder.MessageText, data, err
}

func (c *coderConn) Write(ctx context.Context, text bool, data []byte) error {
	typ := coder.MessageBinary
	if text {
		typ = coder.MessageText
	}
	return c.c.Write(ctx, typ, data)
}

func (c *coderConn) Ping(ctx context.Context) error { return c.c.Ping(ctx) }

func (c *coderConn) Close(code int, reason string) error {
	return c.c.Close(coder.StatusCode(code), reason)
}

func (c *coderConn) Protocol() string   { return c.c.Subprotocol() }
func (c *coderConn) Extensions() string { return c.ext }
func (c *coderConn) Pings() int         { return -1 }

func (c *coderConn) CloseInfo(err error) (int, string, bool) {
	defer c.c.CloseNow()
	var ce coder.CloseError
	if errors.As(err, &ce) {
		return int(ce.Code), ce.Reason, true
	}
	return 0, "", false
}
