//go:build !js

package wspeer

import (
	"github.com/wspeer/wspeer/internal/deflate"
	"github.com/wspeer/wspeer/internal/proto"
)

// negotiators returns the extensions a peer with settings s offers as a
// client and accepts as a server: permessage-deflate when Compression is on.
func (s settings) negotiators() []proto.ExtensionNegotiator {
	if !s.compression {
		return nil
	}
	return []proto.ExtensionNegotiator{&deflate.Negotiator{Threshold: s.threshold}}
}
