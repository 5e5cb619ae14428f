package wspeer

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
)

// TLSClient returns a client TLS configuration that verifies the server, like
// Godot's TLSOptions.client: the certificate chain must lead to roots (nil:
// the system roots) and be valid for the host name, which is serverName when
// it is not empty and the URL's host otherwise. serverName is also the name
// sent as SNI. Pass the result to ConnectToURL; nil there means TLSClient(nil, "").
func TLSClient(roots *x509.CertPool, serverName string) *tls.Config {
	return &tls.Config{
		RootCAs:    roots,
		ServerName: serverName,
		MinVersion: tls.VersionTLS12,
	}
}

// TLSClientUnsafe returns a client TLS configuration that does not fully
// verify the server, like Godot's TLSOptions.client_unsafe: with nil roots no
// certificate check at all is made; with roots the chain must lead to them
// but the host name is not checked (for self-signed or internal certificates
// reached by IP address or another name). Unlike Godot, the URL's host is still
// sent as SNI, so that virtual-hosted servers pick the right certificate.
// Anyone on the path can read and change the traffic when roots is nil: use
// it for tests and development only.
func TLSClientUnsafe(roots *x509.CertPool) *tls.Config {
	cfg := &tls.Config{
		// Go's own verification always checks the host name, so it is turned
		// off and the chain is verified in VerifyConnection instead.
		InsecureSkipVerify: true,
		MinVersion:         tls.VersionTLS12,
	}
	if roots != nil {
		cfg.VerifyConnection = func(cs tls.ConnectionState) error {
			return verifyChain(cs.PeerCertificates, roots)
		}
	}
	return cfg
}

// verifyChain verifies a server's certificate chain against roots without a
// host name. The error is a *tls.CertificateVerificationError, as Go's own
// verification returns, so callers match the x509 cause the same way.
func verifyChain(certs []*x509.Certificate, roots *x509.CertPool) error {
	if len(certs) == 0 {
		return &tls.CertificateVerificationError{Err: errors.New("wspeer: server sent no certificate")}
	}
	opts := x509.VerifyOptions{Roots: roots, Intermediates: x509.NewCertPool()}
	for _, c := range certs[1:] {
		opts.Intermediates.AddCert(c)
	}
	if _, err := certs[0].Verify(opts); err != nil {
		return &tls.CertificateVerificationError{UnverifiedCertificates: certs, Err: err}
	}
	return nil
}

// TLSServer returns a server TLS configuration presenting cert, like Godot's
// TLSOptions.server. Use it with tls.Server or tls.NewListener and give the
// resulting *tls.Conn to AcceptStream, or set it as an http.Server's TLSConfig
// in front of an Upgrader. It offers only HTTP/1.1 through ALPN, because the
// WebSocket handshake of RFC 6455 needs HTTP/1.1. To ask clients for
// certificates (mutual TLS), set ClientAuth and ClientCAs on the result.
func TLSServer(cert tls.Certificate) *tls.Config {
	return &tls.Config{
		Certificates: []tls.Certificate{cert},
		MinVersion:   tls.VersionTLS12,
		NextProtos:   []string{"http/1.1"},
	}
}

// isServerConfig reports whether cfg can only serve: it asks for or
// verifies client certificates (ClientAuth, ClientCAs) or picks a
// configuration per client hello (GetConfigForClient). Certificates alone
// are a client's own for mutual TLS, and are accepted.
func isServerConfig(cfg *tls.Config) bool {
	return cfg != nil && (cfg.ClientAuth != tls.NoClientCert || cfg.ClientCAs != nil || cfg.GetConfigForClient != nil)
}
