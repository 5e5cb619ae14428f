//go:build !js

package wspeer

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"net/http"
	"strconv"
	"strings"

	"github.com/wspeer/wspeer/internal/proto"
)

// dialAny connects to t: as a stream through the StreamDialer when one is
// set and may be used (wss://, no proxy for the URL), else (or when the
// server takes no streams) over a TCP connection of its own.
func dialAny(ctx context.Context, t *target, tlsCfg *tls.Config, s settings, req *proto.ClientRequest) (net.Conn, *Stream, error) {
	if s.streamDialer != nil && t.secure {
		if pu, err := proxyFor(t, s.proxy); err == nil && pu == nil {
			st, err := dialStream(ctx, t, tlsCfg, s, req)
			if err == nil {
				return st.Conn, st, nil
			}
			if !errors.Is(err, ErrStreamUnavailable) {
				return nil, nil, err
			}
			// No WebSocket streams there: HTTP/1.1 on a new connection.
		}
	}
	c, err := dialTarget(ctx, t, tlsCfg, s)
	return c, nil, err
}

// dialStream asks the StreamDialer for a stream and checks its status.
func dialStream(ctx context.Context, t *target, tlsCfg *tls.Config, s settings, req *proto.ClientRequest) (*Stream, error) {
	h := req.Header.Clone()
	if h == nil {
		h = make(http.Header)
	}
	h.Set("Sec-WebSocket-Version", "13")
	if len(req.Protocols) > 0 {
		h.Set("Sec-WebSocket-Protocol", strings.Join(req.Protocols, ", "))
	}
	if req.Extensions != "" {
		h.Set("Sec-WebSocket-Extensions", req.Extensions)
	}
	path := req.Target
	if path == "" {
		path = "/"
	}
	st, err := s.streamDialer.DialStream(ctx, &StreamRequest{
		Addr:             net.JoinHostPort(t.host, strconv.Itoa(t.port)),
		Authority:        req.Host,
		Path:             path,
		TLSConfig:        clientTLSConfig(tlsCfg, t.host),
		Header:           h,
		DialTimeout:      s.dialTimeout,
		HandshakeTimeout: s.handshakeTimeout,
	})
	switch {
	case err == nil && (st == nil || st.Conn == nil):
		return nil, newCloseError(ErrHandshake, "HTTP/2: the stream dialer returned no stream", nil)
	case err == nil && (st.Status < 200 || st.Status > 299):
		st.Conn.Close()
		return nil, newCloseError(ErrHandshake, "", &proto.StatusError{Status: st.Status, Reason: http.StatusText(st.Status), Header: st.Header})
	case err == nil, errors.Is(err, ErrStreamUnavailable), errors.Is(err, ErrDial),
		errors.Is(err, ErrHandshake), errors.Is(err, ErrHandshakeTimeout):
		return st, err
	}
	return nil, newCloseError(ErrHandshake, "HTTP/2", err)
}

// openStreamLocked starts the client's core on a stream whose opening
// handshake the StreamDialer did: the subprotocol and extensions the server
// chose are checked as for HTTP/1.1, and the peer opens in the next turn.
func (p *Peer) openStreamLocked(st *Stream) bool {
	cfg := p.coreConfigLocked()
	req := p.request
	p.request = nil
	protocol, ext, err := req.CheckH2(st.Header)
	var codec proto.ExtensionCodec
	if err == nil {
		codec, err = proto.ConfirmExtensions(cfg.Negotiators, ext)
	}
	if err != nil {
		p.finishLocked(-1, "", newCloseError(ErrHandshake, "", err))
		return false
	}
	cfg.Role, cfg.Extension = proto.RoleClient, codec
	p.respHeader = st.Header
	p.core = proto.NewOpenConn(cfg, protocol, p.now())
	return true
}
