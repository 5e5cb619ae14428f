package main

import (
	"crypto/tls"
	"errors"
	"flag"
	"log/slog"
	"net"
	"strconv"
	"syscall"

	"github.com/wspeer/wspeer"
)

// serverFlags are the flags echo and serve share: where to listen, TLS,
// subprotocols, budgets and compression.
type serverFlags struct {
	listen     *string
	protocols  protocolList
	certFile   *string
	keyFile    *string
	maxMessage byteSize
	maxHead    byteSize
	compress   *bool
}

// register adds the shared flags to fs with the command's defaults.
func (sf *serverFlags) register(fs *flag.FlagSet, listen string, maxMessage byteSize, tlsFor string) {
	sf.listen = fs.String("listen", listen, "TCP `address` to listen on (port 0 picks a free port)")
	fs.Var(&sf.protocols, "protocol", "a subprotocol `name` the server supports (repeatable; the client's order decides)")
	sf.certFile = fs.String("tls-cert", "", "certificate `file` (PEM) for "+tlsFor)
	sf.keyFile = fs.String("tls-key", "", "private key `file` (PEM) for "+tlsFor)
	sf.maxMessage = maxMessage
	fs.Var(&sf.maxMessage, "max-message", "inbound and outbound buffer `size` per peer (largest message)")
	sf.compress = fs.Bool("compress", false, "negotiate permessage-deflate compression (RFC 7692)")
	sf.maxHead = wspeer.DefaultMaxHandshakeSize
	fs.Var(&sf.maxHead, "max-head", "largest opening handshake request `size` (bigger ones get 431)")
}

// open loads the TLS configuration (nil without -tls-cert) and listens. On
// failure it prints why on stderr and returns the exit status.
func (sf *serverFlags) open(fs *cmdFlags) (net.Listener, *tls.Config, int, bool) {
	tlsConf, err := loadServerTLS(*sf.certFile, *sf.keyFile)
	if err != nil {
		return nil, nil, fs.fail(exitUsage, "%v", err), false
	}
	ln, err := net.Listen("tcp", *sf.listen)
	if err != nil {
		hint := ""
		if errors.Is(err, syscall.EADDRINUSE) {
			hint = " (another server has this port: pick another, or -listen 127.0.0.1:0 for a free one)"
		}
		return nil, nil, fs.fail(exitFailure, "%v%s", err, hint), false
	}
	return ln, tlsConf, exitOK, true
}

// hostPort is the listener's address as a client can dial it: a server
// listening on every interface (0.0.0.0 or [::], "-listen :8080") is
// reachable on loopback, and a browser cannot open http://[::]:8080/.
func hostPort(ln net.Listener, log *slog.Logger) string {
	addr, ok := ln.Addr().(*net.TCPAddr)
	if !ok || !addr.IP.IsUnspecified() {
		return ln.Addr().String()
	}
	log.Info("listening on every interface", "addr", ln.Addr().String())
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(addr.Port))
}

// newPeer returns a peer with the flags' budgets, subprotocols and compression.
func (sf *serverFlags) newPeer() *wspeer.Peer {
	p := wspeer.NewPeer()
	p.InboundBufferSize = int(sf.maxMessage)
	p.OutboundBufferSize = int(sf.maxMessage)
	p.SupportedProtocols = sf.protocols.stringList
	p.Compression = *sf.compress
	p.MaxHandshakeSize = int(sf.maxHead)
	p.KeepRequestHeaders = []string{} // nothing reads them: do not hold the heads
	return p
}
