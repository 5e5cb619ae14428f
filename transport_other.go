//go:build !unix && !js

package wspeer

import "net"

// newRawTransport has no raw driver on this platform: every net.Conn uses the
// stream driver.
func newRawTransport(net.Conn) transport { return nil }
