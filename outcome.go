//go:build !js

package wspeer

import (
	"crypto/tls"
	"errors"
	"net/http"

	"github.com/wspeer/wspeer/internal/proto"
)

// outcome is what a connection settled that outlives it: how it ended, and
// what its opening handshake chose.
type outcome struct {
	closeCode    int
	closeReason  string
	closeErr     error
	protocol     string
	requestedURL string
	reqHeader    http.Header // from net/http (Upgrader)
	reqHead      []byte      // the request head (AcceptStream), parsed on demand
	respHeader   http.Header
}

// resultError turns how the core says a connection ended into the error
// CloseError reports, wrapping this package's sentinels.
func resultError(r proto.Result) error {
	switch r.Kind {
	case proto.EndClean:
		return nil
	case proto.EndProtocol:
		return newCloseError(ErrProtocol, "", r.Err)
	case proto.EndLost:
		return newCloseError(ErrConnectionLost, lostDetail(r.Detail), r.Err)
	case proto.EndHandshake:
		return handshakeError(r)
	case proto.EndHandshakeTimeout:
		return newCloseError(ErrHandshakeTimeout, "", nil)
	case proto.EndCloseTimeout, proto.EndHeartbeat:
		return r.Err // ErrCloseTimeout, ErrHeartbeatTimeout
	case proto.EndDropped:
		return newCloseError(ErrDropped, r.Detail, nil)
	}
	return nil
}

func lostDetail(d string) string {
	if d == proto.DetailLost {
		return ""
	}
	return d
}

// handshakeError classifies a failed opening handshake.
func handshakeError(r proto.Result) error {
	var rerr tls.RecordHeaderError
	switch {
	case r.Detail == proto.DetailLost:
		return newCloseError(ErrHandshake, r.Detail, newCloseError(ErrConnectionLost, "during the opening handshake", r.Err))
	case errors.As(r.Err, &rerr):
		return newCloseError(ErrHandshake, "TLS", r.Err)
	}
	return newCloseError(ErrHandshake, r.Detail, r.Err)
}

// ReadyState returns the current state.
func (p *Peer) ReadyState() State {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.state
}

// CloseCode returns the status code of the close frame that ended the
// connection: the peer's after a closing handshake (1005 when its close frame
// had no status), ours after a protocol error we detected (1002, 1007, 1009),
// and -1 when the connection ended without a close frame exchange.
func (p *Peer) CloseCode() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.closeCode
}

// CloseReason returns the reason that goes with CloseCode.
func (p *Peer) CloseReason() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.closeReason
}

// CloseError returns why the connection ended when it did not end with a clean
// closing handshake (dial, TLS or handshake failure, timeout, protocol error,
// heartbeat, connection lost), or nil. Match it with errors.Is.
func (p *Peer) CloseError() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.closeErr
}

// SelectedProtocol returns the negotiated subprotocol, or "". It survives the
// close and is reset by the next connection.
func (p *Peer) SelectedProtocol() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.protocol
}

// RequestedURL returns, on a client, the URL as given to ConnectToURL; on a
// server, the scheme (ws:// or wss://), the Host header and the request target.
func (p *Peer) RequestedURL() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.requestedURL
}

// RequestHeader returns a server peer's opening handshake request headers
// (nil before the request is read, or on a client).
func (p *Peer) RequestHeader() http.Header {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.reqHeader == nil && p.reqHead != nil {
		if req, err := proto.ParseRequest(p.reqHead); err == nil {
			return req.Header
		}
	}
	return p.reqHeader.Clone()
}

// ResponseHeader returns a client peer's opening handshake response headers
// (nil before the response is read, or on a server).
func (p *Peer) ResponseHeader() http.Header {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.respHeader.Clone()
}
