//go:build !js

package wspeer

import (
	"fmt"
	"net"
	"path"
	"strings"
)

// hostAllowed applies Upgrader.AllowedHosts to the request's host (Host
// header, or an absolute-form target's authority): an empty list allows
// every host; otherwise a pattern must match the host name (lower case,
// without port or brackets) or the whole host:port. A malformed pattern is
// the server's error.
func (u *Upgrader) hostAllowed(host string) (bool, error) {
	if len(u.AllowedHosts) == 0 {
		return true, nil
	}
	full := strings.ToLower(host)
	name := full
	if h, _, err := net.SplitHostPort(full); err == nil {
		name = h
	} else {
		name = strings.TrimSuffix(strings.TrimPrefix(name, "["), "]")
	}
	for _, pat := range u.AllowedHosts {
		pat = strings.ToLower(pat)
		okName, err := path.Match(pat, name)
		if err != nil {
			return false, fmt.Errorf("%w: host pattern %q: %w", ErrInvalidParameter, pat, err)
		}
		okFull, _ := path.Match(pat, full)
		if okName || okFull {
			return true, nil
		}
	}
	return false, nil
}

// LoopbackHosts are the names of the loopback interface, for
// Upgrader.AllowedHosts on a server that listens on loopback only:
// "localhost", "127.0.0.1" and "::1".
func LoopbackHosts() []string {
	return []string{"localhost", "127.0.0.1", "::1"}
}
