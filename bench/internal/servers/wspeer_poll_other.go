//go:build !linux

package servers

import (
	"errors"
	"net"
)

// serveWspeerPoll needs epoll; see wspeer_poll_linux.go.
func serveWspeerPoll(ln net.Listener) error {
	return errors.New("wspeer-poll needs Linux (epoll)")
}
