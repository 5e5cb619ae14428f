//go:build !js

package wspeer

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"sync"
	"time"

	"github.com/wspeer/wspeer/internal/proto"
)

// dialing is a client's connection attempt in progress: one goroutine resolves
// the host, connects to each address in turn and does the TLS handshake, so
// that Poll never blocks. Poll looks at done without waiting.
type dialing struct {
	done   chan struct{}
	cancel context.CancelFunc

	mu        sync.Mutex
	conn      net.Conn
	stream    *Stream // the conn is a stream opened by a StreamDialer
	err       error
	abandoned bool
	finished  bool
	notify    func() // a Poller's wake-up, called when the dial ends
}

// watch installs a Poller's wake-up and reports whether the dial has ended.
func (d *dialing) watch(notify func()) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.notify = notify
	return d.finished
}

// startDial begins connecting to t in the background.
func startDial(t *target, tlsCfg *tls.Config, s settings, req *proto.ClientRequest) *dialing {
	ctx, cancel := context.WithCancel(context.Background())
	d := &dialing{done: make(chan struct{}), cancel: cancel}
	go func() {
		c, st, err := dialAny(ctx, t, tlsCfg, s, req)
		d.mu.Lock()
		d.finished = true
		notify := d.notify
		if d.abandoned {
			if c != nil {
				c.Close()
			}
		} else {
			d.conn, d.stream, d.err = c, st, err
		}
		d.mu.Unlock()
		close(d.done)
		if notify != nil {
			notify()
		}
	}()
	return d
}

// result returns the outcome once done is closed.
func (d *dialing) result() (net.Conn, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.conn, d.err
}

// abandon stops the attempt and closes whatever it produced, now or later.
func (d *dialing) abandon() {
	d.cancel()
	d.mu.Lock()
	defer d.mu.Unlock()
	d.abandoned = true
	if d.conn != nil {
		d.conn.Close()
		d.conn = nil
	}
}

// dialTarget connects to t, directly or through the proxy the Proxy setting
// names (a CONNECT tunnel: TLS then runs inside it, end to end with t).
func dialTarget(ctx context.Context, t *target, tlsCfg *tls.Config, s settings) (net.Conn, error) {
	pu, err := proxyFor(t, s.proxy)
	if err != nil {
		return nil, err
	}
	host, port := t.host, t.port
	if pu != nil {
		if host, port, err = proxyAddr(pu); err != nil {
			return nil, err
		}
	}
	addrs, err := resolve(ctx, host, s.dialTimeout)
	if err != nil {
		return nil, proxyWrap(pu, newCloseError(ErrDial, "resolving "+host, err))
	}
	var errs []error
	var conn net.Conn
	for _, ip := range addrs {
		d := net.Dialer{Timeout: s.dialTimeout}
		c, err := d.DialContext(ctx, "tcp", net.JoinHostPort(ip.String(), strconv.Itoa(port))) // with its zone
		if err == nil {
			conn = c
			break
		}
		errs = append(errs, err)
		if ctx.Err() != nil {
			break
		}
	}
	if conn == nil {
		return nil, proxyWrap(pu, newCloseError(ErrDial, "connecting to "+host, errors.Join(errs...)))
	}
	if pu != nil {
		if conn, err = connectTunnel(ctx, conn, pu, t, s); err != nil {
			return nil, err
		}
	}
	if !t.secure {
		return conn, nil
	}
	cfg := clientTLSConfig(tlsCfg, t.host)
	tc := tls.Client(conn, cfg)
	hctx, cancel := context.WithTimeout(ctx, s.handshakeTimeout)
	defer cancel()
	if err := tc.HandshakeContext(hctx); err != nil {
		conn.Close()
		if errors.Is(err, context.DeadlineExceeded) {
			return nil, newCloseError(ErrHandshakeTimeout, "TLS handshake with "+t.host, err)
		}
		return nil, newCloseError(ErrHandshake, "TLS handshake with "+t.host, err)
	}
	return tc, nil
}

// resolve returns the host's addresses in the resolver's order (an IP literal
// is its own single address, an IPv6 zone such as fe80::1%eth0 kept).
func resolve(ctx context.Context, host string, timeout time.Duration) ([]net.IPAddr, error) {
	if a, err := netip.ParseAddr(host); err == nil {
		return []net.IPAddr{{IP: a.WithZone("").AsSlice(), Zone: a.Zone()}}, nil
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	addrs, err := net.DefaultResolver.LookupIPAddr(ctx, host)
	if err != nil {
		return nil, err
	}
	if len(addrs) == 0 {
		return nil, errors.New("no addresses")
	}
	return addrs, nil
}

// clientTLSConfig returns the configuration for a wss:// connection to host:
// the caller's (cloned) or a verifying default, with the server name set.
func clientTLSConfig(cfg *tls.Config, host string) *tls.Config {
	if cfg == nil {
		cfg = &tls.Config{}
	} else {
		cfg = cfg.Clone()
	}
	if cfg.ServerName == "" {
		cfg.ServerName = host
	}
	// The WebSocket handshake is HTTP/1.1; never negotiate h2.
	cfg.NextProtos = nil
	return cfg
}

// connectLocked starts a client connection to t: the request is built now,
// the dial goes on in the background and Poll takes it from there.
func (p *Peer) connectLocked(rawURL string, t *target, s settings, tlsConfig *tls.Config) error {
	key, err := proto.NewClientKey(nil)
	if err != nil {
		return err
	}
	req := &proto.ClientRequest{
		Target:    t.path,
		Host:      proto.HostHeader(t.host, t.port, t.secure),
		Key:       key,
		Protocols: s.protocols,
		Header:    s.header,
	}
	req.Extensions = proto.OfferExtensions(s.negotiators())
	if t.auth != "" && req.Header.Get("Authorization") == "" {
		if req.Header == nil {
			req.Header = make(map[string][]string)
		}
		req.Header.Set("Authorization", t.auth)
	}
	if err := req.Validate(); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidParameter, err)
	}
	p.finishLocked(p.closeCode, p.closeReason, nil) // drop what a CLOSING peer still holds
	p.resetLocked(s)
	p.requestedURL = rawURL
	p.request = req
	p.dial = startDial(t, tlsConfig, s, req)
	return nil
}
