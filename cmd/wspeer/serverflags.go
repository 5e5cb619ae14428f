package main

import (
	"crypto/tls"
	"flag"
	"log/slog"
	"net"

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
	compress   *bool
}

// register adds the shared flags to fs with the command's defaults.
func (sf *serverFlags) register(fs *flag.FlagSet, listen string, maxMessage byteSize, tlsFor string) {
	sf.listen = fs.String("listen", listen, "TCP `address` to listen on (port 0 picks a free port)")
	fs.Var(&sf.protocols, "protocol", "a subprotocol the server supports (repeatable; the client's order decides)")
	sf.certFile = fs.String("tls-cert", "", "certificate `file` (PEM) for "+tlsFor)
	sf.keyFile = fs.String("tls-key", "", "private key `file` (PEM) for "+tlsFor)
	sf.maxMessage = maxMessage
	fs.Var(&sf.maxMessage, "max-message", "inbound and outbound buffer `size` per peer (largest message)")
	sf.compress = fs.Bool("compress", false, "negotiate permessage-deflate compression (RFC 7692)")
}

// open loads the TLS configuration (nil without -tls-cert) and listens. On
// failure it logs and returns the exit status.
func (sf *serverFlags) open(log *slog.Logger, cmd string) (net.Listener, *tls.Config, int, bool) {
	tlsConf, err := loadServerTLS(*sf.certFile, *sf.keyFile)
	if err != nil {
		log.Error(cmd, "err", err)
		return nil, nil, exitUsage, false
	}
	ln, err := net.Listen("tcp", *sf.listen)
	if err != nil {
		log.Error("listen", "err", err)
		return nil, nil, exitFailure, false
	}
	return ln, tlsConf, exitOK, true
}

// newPeer returns a peer with the flags' budgets, subprotocols and compression.
func (sf *serverFlags) newPeer() *wspeer.Peer {
	p := wspeer.NewPeer()
	p.InboundBufferSize = int(sf.maxMessage)
	p.OutboundBufferSize = int(sf.maxMessage)
	p.SupportedProtocols = sf.protocols.stringList
	p.Compression = *sf.compress
	return p
}
