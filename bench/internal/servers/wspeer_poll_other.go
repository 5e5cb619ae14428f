//go:build !linux

package servers

import (
	"errors"
	"net"

	"github.com/wspeer/wspeer"
)

// wspeerPoll needs epoll; see wspeer_poll_linux.go.
func wspeerPoll(func() *wspeer.Peer) Impl {
	return func(net.Listener) error { return errors.New("wspeer-poll needs Linux (epoll)") }
}
