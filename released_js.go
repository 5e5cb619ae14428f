//go:build js

package wspeer

// Released returns a channel that is closed once the connection no longer
// needs the net/http handler that upgraded it. The browser build has no
// server side: the channel is always closed.
func (p *Peer) Released() <-chan struct{} {
	c := make(chan struct{})
	close(c)
	return c
}
