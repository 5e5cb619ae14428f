package wspeer

import (
	"fmt"
	"sync"
	"unicode/utf8"
)

// PreparedMessage is a message encoded once and sent to many peers: a
// broadcast. Each kind of connection (plain, or compressed with given
// parameters) gets its frame built on first use and then shared, so a
// compressed broadcast to N peers costs one compression, not N. Peers whose
// frames cannot be shared (a client masks each frame with a fresh key; the
// browser build sends through the browser) send the message as Send would.
// A PreparedMessage is safe for concurrent use and never changes.
type PreparedMessage struct {
	data []byte
	text bool

	mu     sync.Mutex
	frames map[string][]byte // frame bytes by the connections' shared key
}

// NewPreparedMessage prepares data (copied) as a text or binary message. A
// text message must be valid UTF-8 (ErrInvalidUTF8).
func NewPreparedMessage(data []byte, mode WriteMode) (*PreparedMessage, error) {
	switch mode {
	case WriteModeText:
		if !utf8.Valid(data) {
			return nil, ErrInvalidUTF8
		}
	case WriteModeBinary:
	default:
		return nil, fmt.Errorf("%w: write mode %d", ErrInvalidParameter, mode)
	}
	return &PreparedMessage{data: append([]byte{}, data...), text: mode == WriteModeText}, nil
}

// frame returns the frame bytes for connections with key, building them with
// build the first time.
func (pm *PreparedMessage) frame(key string, build func() ([]byte, error)) ([]byte, error) {
	pm.mu.Lock()
	defer pm.mu.Unlock()
	if f, ok := pm.frames[key]; ok {
		return f, nil
	}
	f, err := build()
	if err != nil {
		return nil, err
	}
	if pm.frames == nil {
		pm.frames = make(map[string][]byte, 1)
	}
	pm.frames[key] = f
	return f, nil
}
