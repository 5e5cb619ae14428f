package fanout

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/wspeer/wspeer"
)

// connect opens every client (client i on node i % len(urls), room "fanout")
// and starts its Wait loop; it returns once all are open.
func (r *room) connect(ctx context.Context, urls []string) error {
	ctx, r.cancel = context.WithCancel(ctx)
	for i := range r.cfg.Clients {
		c := wspeer.NewPeer()
		if err := c.ConnectToURL(urls[i%len(urls)]+"/chat/fanout", nil); err != nil {
			return err
		}
		r.clients = append(r.clients, c)
		r.wg.Go(func() { r.loop(ctx, i, c) })
		if i%100 == 99 { // let the nodes accept in batches
			time.Sleep(20 * time.Millisecond)
		}
	}
	end := time.Now().Add(60 * time.Second)
	for i, c := range r.clients {
		for c.ReadyState() == wspeer.StateConnecting {
			if time.Now().After(end) {
				return fmt.Errorf("fanout: client %d still connecting after 60 s", i)
			}
			time.Sleep(5 * time.Millisecond)
		}
		if c.ReadyState() != wspeer.StateOpen {
			return fmt.Errorf("fanout: client %d: %v, %v", i, c.ReadyState(), c.CloseError())
		}
	}
	return nil
}

// loop is client i's Wait loop: it notes the arrival of every message.
func (r *room) loop(ctx context.Context, i int, c *wspeer.Peer) {
	for c.Wait(ctx) == nil {
		c.Poll()
		for {
			msg, err := c.GetPacket()
			if err != nil {
				break
			}
			r.got(i, string(msg))
		}
	}
}

func (r *room) got(i int, msg string) {
	now := time.Now().UnixNano()
	kind, rest, _ := strings.Cut(msg, " ")
	if kind == "w" {
		r.warm[i].Store(true)
		return
	}
	num, _, _ := strings.Cut(rest, " ")
	seq, err := strconv.Atoi(num)
	if kind != "m" || err != nil || seq < 0 || seq >= len(r.count) {
		return
	}
	for {
		old := r.last[seq].Load()
		if now <= old || r.last[seq].CompareAndSwap(old, now) {
			break
		}
	}
	if int(r.count[seq].Add(1)) == r.cfg.Clients-1 {
		close(r.done[seq])
	}
}

func (r *room) message(kind string, seq int) string {
	head := kind + " " + strconv.Itoa(seq) + " "
	return head + r.payload[len(head):]
}

// warmUp sends warm-up messages until every other client has had one: then
// every node has its NATS subscription and every client is in the room.
func (r *room) warmUp(ctx context.Context) error {
	for try := range 300 {
		if err := r.clients[0].SendText(r.message("w", try)); err != nil {
			return err
		}
		time.Sleep(100 * time.Millisecond)
		all := true
		for i := 1; i < len(r.warm) && all; i++ {
			all = r.warm[i].Load()
		}
		if all {
			time.Sleep(200 * time.Millisecond) // let the last warm-ups land
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
	return fmt.Errorf("fanout: some clients got no warm-up message in 30 s")
}

// measure sends the measured messages one at a time.
func (r *room) measure(ctx context.Context) (*Result, error) {
	res := &Result{Receivers: r.cfg.Clients - 1}
	for seq := range r.cfg.Messages {
		start := time.Now()
		if err := r.clients[0].SendText(r.message("m", seq)); err != nil {
			return nil, err
		}
		select {
		case <-r.done[seq]:
		case <-time.After(10 * time.Second):
			return nil, fmt.Errorf("fanout: message %d reached %d of %d receivers in 10 s", seq, r.count[seq].Load(), r.cfg.Clients-1)
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		res.Latencies = append(res.Latencies, time.Duration(r.last[seq].Load()-start.UnixNano()))
		time.Sleep(r.cfg.Gap)
	}
	slices.Sort(res.Latencies)
	return res, nil
}
