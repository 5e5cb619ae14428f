package wspeer

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"net/http"
	"time"
)

// StreamDialer opens a client's WebSocket as a stream of a multiplexed
// connection instead of a TCP connection of its own: HTTP/2's extended
// CONNECT (RFC 8441) in the module github.com/wspeer/wspeer/h2client, which
// keeps this module free of dependencies. Set Peer.StreamDialer to use one.
//
// DialStream connects to req.Addr, negotiates the protocol and sends the
// request; it returns once the response's header has arrived, within
// req.DialTimeout for the TCP connection and req.HandshakeTimeout for the
// rest, or ctx's end. An error wrapping ErrStreamUnavailable says the server
// does not take WebSocket streams (no h2 in ALPN, or no
// SETTINGS_ENABLE_CONNECT_PROTOCOL): the peer then connects again over
// HTTP/1.1 on a new connection, with the same timeouts. Other errors end the
// connection attempt (errors matching ErrDial, ErrHandshake or
// ErrHandshakeTimeout keep their kind; any other becomes an ErrHandshake).
type StreamDialer interface {
	DialStream(ctx context.Context, req *StreamRequest) (*Stream, error)
}

// StreamRequest is what a StreamDialer sends: an extended CONNECT with
// :protocol websocket, :scheme https, :authority Authority and :path Path.
type StreamRequest struct {
	// Addr is the TCP address to connect to, host:port.
	Addr string
	// Authority is the :authority pseudo-header (the Host of HTTP/1.1).
	Authority string
	// Path is the :path pseudo-header: path and query, "/" at least.
	Path string
	// TLSConfig is the peer's client configuration (cloned, ServerName
	// set); the dialer sets NextProtos to offer h2.
	TLSConfig *tls.Config
	// Header holds Sec-WebSocket-Version: 13, the offered subprotocols and
	// extensions, and the peer's HandshakeHeaders and Authorization.
	Header http.Header
	// DialTimeout bounds the TCP connection, HandshakeTimeout the TLS
	// handshake and the wait for the server's SETTINGS and response.
	DialTimeout, HandshakeTimeout time.Duration
}

// Stream is an opened stream: the response to a StreamRequest and the stream
// itself.
type Stream struct {
	// Conn carries the WebSocket frames both ways. Close ends the stream
	// (and the connection under it if nothing else uses it). RemoteAddr
	// should be the TCP connection's, for ConnectedHost and ConnectedPort;
	// a SetNoDelay(bool) error method, if it has one, serves Peer.SetNoDelay.
	// The stream driver uses SetReadDeadline and SetWriteDeadline only to
	// end blocked calls when the peer closes.
	Conn net.Conn
	// Status is the response's status: 2xx opens the WebSocket; anything
	// else is a refusal (Conn is then closed by the peer).
	Status int
	// Header is the response's header: the selected subprotocol and
	// extensions, and the peer's ResponseHeader.
	Header http.Header
}

// ErrStreamUnavailable reports a server that does not take WebSocket
// streams; see StreamDialer.
var ErrStreamUnavailable = errors.New("wspeer: the server does not take WebSocket streams")
