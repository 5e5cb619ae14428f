// Package h2client opens WebSocket connections over HTTP/2 (RFC 8441) for
// github.com/wspeer/wspeer, with golang.org/x/net/http2: set a Dialer as the
// peer's StreamDialer and connect to a wss:// URL as usual.
//
//	p := wspeer.NewPeer()
//	p.StreamDialer = &h2client.Dialer{}
//	err := p.ConnectToURL("wss://example.com/chat", nil)
//
// The Dialer offers h2 and http/1.1 in ALPN. With h2 it waits for the
// server's SETTINGS and, when they carry SETTINGS_ENABLE_CONNECT_PROTOCOL,
// sends an extended CONNECT with :protocol websocket; the WebSocket then
// runs on that stream. A server that chooses http/1.1, or does not allow
// extended CONNECT, is reported with wspeer.ErrStreamUnavailable and the
// peer connects again over HTTP/1.1, on a new connection with the same
// timeouts. Each dial makes its own TCP connection, closed with the stream.
//
// This is a module of its own so that wspeer itself keeps no dependency.
package h2client

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/wspeer/wspeer"
	"golang.org/x/net/http2"
)

// Linger bounds the end of a stream after Close: the wait for both ends'
// END_STREAM (the server's comes after its close frame) before the
// connection is closed regardless.
const Linger = 2 * time.Second

// Dialer is a wspeer.StreamDialer for HTTP/2. The zero value is ready to use.
type Dialer struct {
	// Transport holds the HTTP/2 settings of the connections (frame sizes,
	// ping timeouts...); nil means the defaults. Its TLS and dial settings
	// are not used: the peer's TLS configuration and timeouts apply.
	Transport *http2.Transport
}

// errNoExtendedConnect is x/net/http2's message for a server whose SETTINGS
// do not allow extended CONNECT (the error itself is not exported).
const errNoExtendedConnect = "extended connect not supported by peer"

// DialStream connects, negotiates h2 and opens the WebSocket stream; see the
// package documentation and wspeer.StreamDialer.
func (d *Dialer) DialStream(ctx context.Context, req *wspeer.StreamRequest) (*wspeer.Stream, error) {
	nd := net.Dialer{Timeout: req.DialTimeout}
	raw, err := nd.DialContext(ctx, "tcp", req.Addr)
	if err != nil {
		return nil, fmt.Errorf("%w: connecting to %s: %w", wspeer.ErrDial, req.Addr, err)
	}
	deadline := time.Now().Add(req.HandshakeTimeout)
	tc, err := handshakeTLS(ctx, raw, req.TLSConfig, deadline)
	if err != nil {
		return nil, err
	}
	if p := tc.ConnectionState().NegotiatedProtocol; p != "h2" {
		tc.Close()
		return nil, fmt.Errorf("%w: ALPN chose %q, not h2", wspeer.ErrStreamUnavailable, p)
	}
	tr := d.Transport
	if tr == nil {
		tr = &http2.Transport{}
	}
	cc, err := tr.NewClientConn(tc)
	if err != nil {
		tc.Close()
		return nil, fmt.Errorf("%w: HTTP/2: %w", wspeer.ErrHandshake, err)
	}
	s, err := openStream(ctx, cc, req, deadline)
	if err != nil {
		cc.Close()
		return nil, err
	}
	s.raw, s.tc = raw, tc
	return &wspeer.Stream{Conn: s, Status: s.resp.StatusCode, Header: s.resp.Header}, nil
}

// handshakeTLS runs the TLS handshake offering h2, by deadline.
func handshakeTLS(ctx context.Context, raw net.Conn, cfg *tls.Config, deadline time.Time) (*tls.Conn, error) {
	if cfg == nil {
		cfg = &tls.Config{}
	} else {
		cfg = cfg.Clone()
	}
	cfg.NextProtos = []string{"h2", "http/1.1"}
	tc := tls.Client(raw, cfg)
	hctx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()
	if err := tc.HandshakeContext(hctx); err != nil {
		raw.Close()
		if errors.Is(err, context.DeadlineExceeded) {
			return nil, fmt.Errorf("%w: TLS handshake: %w", wspeer.ErrHandshakeTimeout, err)
		}
		return nil, fmt.Errorf("%w: TLS handshake: %w", wspeer.ErrHandshake, err)
	}
	return tc, nil
}

// openStream sends the extended CONNECT and waits for the response's
// header, by deadline or ctx's end. The request's context lives as long as
// the stream: only the wait is bounded.
func openStream(ctx context.Context, cc *http2.ClientConn, req *wspeer.StreamRequest, deadline time.Time) (*stream, error) {
	sctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	hreq, err := http.NewRequestWithContext(sctx, http.MethodConnect, "https://"+req.Authority+req.Path, pr)
	if err != nil {
		cancel()
		return nil, fmt.Errorf("%w: HTTP/2 request: %w", wspeer.ErrHandshake, err)
	}
	hreq.Header = req.Header.Clone()
	if hreq.Header == nil {
		hreq.Header = make(http.Header)
	}
	hreq.Header.Set(":protocol", "websocket")
	timedOut := make(chan struct{})
	timer := time.AfterFunc(time.Until(deadline), func() { close(timedOut); cancel() })
	stop := context.AfterFunc(ctx, cancel)
	resp, err := cc.RoundTrip(hreq)
	stop()
	if !timer.Stop() {
		<-timedOut
		err = fmt.Errorf("%w: HTTP/2 CONNECT", wspeer.ErrHandshakeTimeout)
	}
	if err == nil && ctx.Err() != nil {
		err = ctx.Err()
	}
	if err != nil {
		cancel()
		pw.Close()
		if resp != nil {
			resp.Body.Close()
		}
		if strings.Contains(err.Error(), errNoExtendedConnect) {
			return nil, fmt.Errorf("%w: no SETTINGS_ENABLE_CONNECT_PROTOCOL: %w", wspeer.ErrStreamUnavailable, err)
		}
		if errors.Is(err, wspeer.ErrHandshakeTimeout) {
			return nil, err
		}
		return nil, fmt.Errorf("%w: HTTP/2 CONNECT: %w", wspeer.ErrHandshake, err)
	}
	return &stream{cc: cc, pw: pw, resp: resp, cancel: cancel}, nil
}
