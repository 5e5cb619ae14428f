//go:build !js

package wspeer

import (
	"context"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/wspeer/wspeer/internal/proto"
)

// proxyFor asks the Proxy setting (nil: the environment) which proxy leads to
// t. The question is put as http.Transport would for the equivalent http or
// https URL, so HTTP_PROXY applies to ws://, HTTPS_PROXY to wss:// and NO_PROXY
// to both. It returns nil for a direct connection.
func proxyFor(t *target, fn func(*http.Request) (*url.URL, error)) (*url.URL, error) {
	if fn == nil {
		fn = http.ProxyFromEnvironment
	}
	u := &url.URL{Scheme: "http", Host: proto.HostHeader(t.host, t.port, t.secure), Path: "/"}
	if t.secure {
		u.Scheme = "https"
	}
	req := &http.Request{Method: http.MethodGet, URL: u, Host: u.Host, Header: make(http.Header),
		Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1}
	pu, err := fn(req)
	if err != nil {
		return nil, newCloseError(ErrProxy, "choosing the proxy", err)
	}
	if pu == nil {
		return nil, nil
	}
	switch pu.Scheme {
	case "http", "https":
	default:
		return nil, newCloseError(ErrProxy, "proxy scheme "+strconv.Quote(pu.Scheme),
			fmt.Errorf("%w: only http and https proxies are supported", ErrUnsupported))
	}
	if pu.Hostname() == "" {
		return nil, newCloseError(ErrProxy, "proxy URL "+strconv.Quote(pu.Redacted()), errors.New("no host"))
	}
	return pu, nil
}

// proxyAddr returns the host and port to connect to for proxy pu.
func proxyAddr(pu *url.URL) (string, int, error) {
	port := 80
	if pu.Scheme == "https" {
		port = 443
	}
	if ps := pu.Port(); ps != "" {
		n, err := strconv.Atoi(ps)
		if err != nil || n < 1 || n > 65535 {
			return "", 0, newCloseError(ErrProxy, "proxy URL "+strconv.Quote(pu.Redacted()), errors.New("bad port"))
		}
		port = n
	}
	return pu.Hostname(), port, nil
}

// maxConnectResponse bounds the proxy's answer to CONNECT: a proxy that
// sends more is broken or hostile, and must not make us buffer without end.
const maxConnectResponse = 8 << 10

// connectTunnel asks the proxy at the other end of conn (TLS first for an
// https proxy) for a tunnel to t, and returns the tunnel. The exchange is
// bounded by the handshake timeout and by ctx, so an abandoned dial ends it.
// Basic credentials come from the proxy URL's userinfo.
func connectTunnel(ctx context.Context, conn net.Conn, pu *url.URL, t *target, s settings) (net.Conn, error) {
	ctx, cancel := context.WithTimeout(ctx, s.handshakeTimeout)
	defer cancel()
	fail := func(what string, err error) (net.Conn, error) {
		conn.Close()
		if errors.Is(err, context.DeadlineExceeded) || isTimeout(err) {
			err = newCloseError(ErrHandshakeTimeout, "", err)
		}
		return nil, newCloseError(ErrProxy, what+" with proxy "+pu.Host, err)
	}
	if pu.Scheme == "https" {
		tc := tls.Client(conn, &tls.Config{ServerName: pu.Hostname(), MinVersion: tls.VersionTLS12})
		if err := tc.HandshakeContext(ctx); err != nil {
			return fail("TLS handshake", err)
		}
		conn = tc
	}
	// The deadline makes every blocking call below return in time; ctx's end
	// (timeout or abandon) moves it to the past.
	deadline, _ := ctx.Deadline()
	_ = conn.SetDeadline(deadline)
	stop := context.AfterFunc(ctx, func() { _ = conn.SetDeadline(longAgo) })
	defer stop()

	if _, err := conn.Write(connectRequest(pu, t)); err != nil {
		return fail("sending CONNECT", err)
	}
	head, rest, err := readConnectAnswer(conn)
	if err != nil {
		return fail("reading the CONNECT answer", err)
	}
	resp, err := proto.ParseResponse(head)
	if err != nil {
		return fail("CONNECT", err)
	}
	if resp.Status/100 != 2 {
		conn.Close()
		return nil, newCloseError(ErrProxy, fmt.Sprintf("proxy %s answered CONNECT with %d %s",
			pu.Host, resp.Status, resp.Reason), nil)
	}
	if !stop() {
		// ctx ended meanwhile and its deadline may land at any moment.
		return fail("CONNECT", ctx.Err())
	}
	if err := conn.SetDeadline(time.Time{}); err != nil {
		return fail("CONNECT", err)
	}
	if len(rest) > 0 {
		return &prefixConn{Conn: conn, prefix: rest}, nil
	}
	return conn, nil
}

// connectRequest is the CONNECT request for t, with the proxy URL's
// credentials as Basic authorization.
func connectRequest(pu *url.URL, t *target) []byte {
	// HostHeader brackets IPv6 and drops a zone, which means nothing to the proxy.
	addr := proto.HostHeader(t.host, 0, false) + ":" + strconv.Itoa(t.port)
	req := "CONNECT " + addr + " HTTP/1.1\r\nHost: " + addr + "\r\n"
	if pu.User != nil {
		pass, _ := pu.User.Password()
		req += "Proxy-Authorization: Basic " +
			base64.StdEncoding.EncodeToString([]byte(pu.User.Username()+":"+pass)) + "\r\n"
	}
	return []byte(req + "\r\n")
}

// readConnectAnswer reads the proxy's answer head (bounded) and returns it
// with the bytes that came after it, which already belong to the tunnel.
func readConnectAnswer(conn net.Conn) (head, rest []byte, err error) {
	hr := proto.HeadReader{Max: maxConnectResponse}
	var buf [1024]byte
	for {
		n, err := conn.Read(buf[:])
		if n > 0 {
			used, done, ferr := hr.Feed(buf[:n])
			if ferr != nil {
				return nil, nil, ferr
			}
			if done {
				return hr.Head(), append(rest, buf[used:n]...), nil
			}
		}
		if err != nil {
			return nil, nil, err
		}
	}
}

// prefixConn is a connection whose first bytes were already read: a proxy
// that sent tunnel data in the same packet as its answer to CONNECT.
type prefixConn struct {
	net.Conn
	prefix []byte
}

func (c *prefixConn) Read(p []byte) (int, error) {
	if len(c.prefix) > 0 {
		n := copy(p, c.prefix)
		c.prefix = c.prefix[n:]
		return n, nil
	}
	return c.Conn.Read(p)
}

// proxyWrap marks a failure to reach proxy pu (if any) as a proxy failure too.
func proxyWrap(pu *url.URL, err error) error {
	if pu == nil {
		return err
	}
	return newCloseError(ErrProxy, "proxy "+pu.Host, err)
}
