package servers

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"

	coder "github.com/coder/websocket"
	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsutil"
	gorilla "github.com/gorilla/websocket"
	"github.com/lxzan/gws"
)

// gorillaHandler: the README way, Upgrader + ReadMessage/WriteMessage loop.
// With compress, permessage-deflate as gorilla documents it:
// Upgrader.EnableCompression and Conn.EnableWriteCompression (gorilla only
// does no context takeover, at its default level 1).
func gorillaHandler(compress bool) http.Handler {
	up := gorilla.Upgrader{CheckOrigin: func(*http.Request) bool { return true }, EnableCompression: compress}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer c.Close()
		if compress {
			c.EnableWriteCompression(true)
		}
		c.SetReadLimit(MaxMessage)
		for {
			mt, msg, err := c.ReadMessage()
			if err != nil {
				return
			}
			if err := c.WriteMessage(mt, msg); err != nil {
				return
			}
		}
	})
}

// coderHandler: Accept + Read/Write, as in coder/websocket's echo example
// (without its rate limiter). mode is its CompressionMode (the benchmark's
// compressed variant uses CompressionContextTakeover, the mode its docs
// recommend for text protocols; default threshold, 128 bytes in that mode).
func coderHandler(mode coder.CompressionMode) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := coder.Accept(w, r, &coder.AcceptOptions{InsecureSkipVerify: true, CompressionMode: mode})
		if err != nil {
			return
		}
		defer c.CloseNow()
		c.SetReadLimit(MaxMessage)
		ctx := context.Background()
		for {
			typ, b, err := c.Read(ctx)
			if err != nil {
				return
			}
			if err := c.Write(ctx, typ, b); err != nil {
				return
			}
		}
	})
}

// gobwasWsutilHandler: the gobwas README way, UpgradeHTTP and the wsutil
// helpers on the bare connection.
func gobwasWsutilHandler() http.Handler {
	wsutil.SetMaxMessageSize(MaxMessage)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn, _, _, err := ws.UpgradeHTTP(r, w)
		if err != nil {
			return
		}
		go func() {
			defer conn.Close()
			for {
				msg, op, err := wsutil.ReadClientData(conn)
				if err != nil {
					return
				}
				if err := wsutil.WriteServerMessage(conn, op, msg); err != nil {
					return
				}
			}
		}()
	})
}

// serveGobwasFrame is a hand-tuned gobwas server: zero-copy upgrade on the
// raw connection, frame-level echo with a bufio pair and a reused payload
// buffer, and a flush only when no more input is buffered. Frames are echoed
// one for one (fragments stay fragments), which is a valid echo.
func serveGobwasFrame(ln net.Listener) error {
	return acceptLoop(ln, func(c net.Conn) {
		defer c.Close()
		br := bufio.NewReaderSize(c, 32<<10)
		bw := bufio.NewWriterSize(c, 32<<10)
		if _, err := (ws.Upgrader{}).Upgrade(struct {
			io.Reader
			io.Writer
		}{br, c}); err != nil {
			return
		}
		var hbuf [ws.MaxHeaderSize]byte
		var buf []byte
		for {
			h, err := ws.ReadHeaderBuffer(br, hbuf[:])
			if err != nil || h.Length > MaxMessage || !h.Masked {
				return
			}
			n := int(h.Length)
			if cap(buf) < n {
				buf = make([]byte, n)
			}
			buf = buf[:n]
			if _, err := io.ReadFull(br, buf); err != nil {
				return
			}
			ws.Cipher(buf, h.Mask, 0)
			h.Masked = false
			switch h.OpCode {
			case ws.OpClose:
				ws.WriteHeaderBuffer(bw, h, hbuf[:])
				bw.Write(buf)
				bw.Flush()
				return
			case ws.OpPing:
				h.OpCode = ws.OpPong
			case ws.OpPong:
				continue
			}
			if err := ws.WriteHeaderBuffer(bw, h, hbuf[:]); err != nil {
				return
			}
			if _, err := bw.Write(buf); err != nil {
				return
			}
			if br.Buffered() == 0 {
				if err := bw.Flush(); err != nil {
					return
				}
			}
		}
	})
}

// gwsHandler: the gws README way, an event handler echoing in OnMessage and
// a ReadLoop goroutine per connection. With compress, permessage-deflate as
// its README enables it: PermessageDeflate{Enabled: true}, which leaves
// ServerContextTakeover and ClientContextTakeover false (no context takeover
// either way), level 1 (BestSpeed), threshold 512 bytes.
func gwsHandler(compress bool) http.Handler {
	up := gws.NewUpgrader(gwsEcho{}, &gws.ServerOption{
		ReadMaxPayloadSize:  MaxMessage,
		WriteMaxPayloadSize: MaxMessage,
		PermessageDeflate:   gws.PermessageDeflate{Enabled: compress},
	})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		socket, err := up.Upgrade(w, r)
		if err != nil {
			return
		}
		go socket.ReadLoop()
	})
}

type gwsEcho struct{ gws.BuiltinEventHandler }

func (gwsEcho) OnMessage(socket *gws.Conn, message *gws.Message) {
	defer message.Close()
	_ = socket.WriteMessage(message.Opcode, message.Bytes())
}
