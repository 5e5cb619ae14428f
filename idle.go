package wspeer

import (
	"context"
	"time"
)

// idleUntil blocks until a or b delivers (a nil channel never does), the
// deadline passes (zero: none), or ctx ends, and returns ctx's error.
func idleUntil(ctx context.Context, deadline time.Time, a, b <-chan struct{}) error {
	var timer <-chan time.Time
	if !deadline.IsZero() {
		tm := time.NewTimer(time.Until(deadline))
		defer tm.Stop()
		timer = tm.C
	}
	select {
	case <-a:
	case <-b:
	case <-timer:
	case <-ctx.Done():
	}
	return ctx.Err()
}
