package wspeer

import (
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
	reqHead      []byte // the request head, parsed on demand
	respHeader   http.Header
	lastString   bool // the last packet GetPacket returned was text
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
// server, the scheme (ws:// or wss://), the request's host (its Host header,
// or an absolute-form target's authority) and the target's path and query.
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
	if p.reqHead != nil {
		if req, err := proto.ParseRequest(p.reqHead); err == nil {
			return req.Header
		}
	}
	return nil
}

// ResponseHeader returns a client peer's opening handshake response headers
// (nil before the response is read, or on a server).
func (p *Peer) ResponseHeader() http.Header {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.respHeader.Clone()
}

// WasStringPacket reports whether the last packet returned by GetPacket was a
// text message.
func (p *Peer) WasStringPacket() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.lastString
}
