//go:build !js

package wspeer

import (
	"fmt"
	"net/http"

	"github.com/wspeer/wspeer/internal/proto"
)

// connState is everything one connection sets; a new connection starts from
// its zero value. Each part owns its rules in a file of its own: the core
// (internal/proto.Conn: handshake, framing, closing, timers), the link to the
// remote (link.go), the inbound queue (inbound.go), the outbound queue
// (outbound.go) and the outcome (outcome.go).
type connState struct {
	state State
	cfg   settings
	core  *proto.Conn // nil while dialing and once CLOSED
	link
	inbound
	outbound
	outcome
}

// resetLocked clears what a previous connection left, as a new ConnectToURL or
// AcceptStream does in Godot; unread packets of the old connection are dropped.
func (p *Peer) resetLocked(s settings) {
	p.connState = connState{
		cfg:     s,
		state:   StateConnecting,
		outcome: outcome{closeCode: -1},
	}
}

// checkHandshakeHeaders refuses headers the handshake manages, and CR or LF.
func checkHandshakeHeaders(h http.Header) error {
	if err := proto.CheckHeader(h); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidParameter, err)
	}
	return nil
}
