package main

import "time"

// defaultChatRate is serve's -chat-rate: chat messages per second per peer.
const defaultChatRate = 20

// rateLimit is a token bucket: rate tokens per second, holding at most
// twice as many, full at the start. A rate of 0 allows everything.
type rateLimit struct {
	rate, tokens float64
	last         time.Time
}

func newRateLimit(rate float64, now time.Time) *rateLimit {
	return &rateLimit{rate: rate, tokens: 2 * rate, last: now}
}

// allow takes one token at now and reports whether there was one.
func (l *rateLimit) allow(now time.Time) bool {
	if l.rate <= 0 {
		return true
	}
	if d := now.Sub(l.last); d > 0 {
		l.tokens = min(2*l.rate, l.tokens+d.Seconds()*l.rate)
		l.last = now
	}
	if l.tokens < 1 {
		return false
	}
	l.tokens--
	return true
}

// clip bounds a client-controlled string for a log line: at most 128
// bytes, the rest replaced by "...".
func clip(s string) string {
	if len(s) > 128 {
		return s[:128] + "..."
	}
	return s
}
