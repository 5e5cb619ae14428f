package proto

import (
	"errors"
	"time"
)

// EventHold is returned by Conn.Parse when the next frame would end the
// connection (a close frame, or a violation) and a message was delivered in
// this turn: the driver stops parsing so that the application can still
// answer that message before the close goes out (Autobahn 3.2, 4.1.3, 5.15,
// 7.1.1). The next turn goes on.
const EventHold EventKind = 100

// rejectLinger bounds how long an HTTP error answer, or the client's wait for
// the server's TCP close, may take.
const rejectLinger = time.Second

// Tick begins a turn at time now: it runs the timers (handshake timeout,
// heartbeat, close timeout). A timer that ends the connection leaves its last
// bytes pending (a 1011 close for a heartbeat): write them once, then close.
func (c *Conn) Tick(now time.Time) {
	c.delivered = false
	switch c.step {
	case StepHead, StepAnswer:
		if !now.Before(c.deadline) {
			c.end(Result{Code: -1, Kind: EndHandshakeTimeout})
		}
	case StepReject:
		if !now.Before(c.deadline) {
			c.end(c.rejectResult())
		}
	case StepOpen:
		switch err := c.eng.Tick(now); {
		case errors.Is(err, ErrHeartbeatTimeout):
			c.result = Result{Code: -1, Kind: EndHeartbeat, Err: err}
			c.stop()
		case err != nil:
			c.result = Result{Code: -1, Kind: EndCloseTimeout, Err: err}
			c.stop()
		}
	}
}

// NextDeadline returns when Tick (or Settle) next has work to do, or zero.
func (c *Conn) NextDeadline() time.Time {
	switch c.step {
	case StepOpen:
		return c.eng.NextDeadline()
	case StepDone:
		return time.Time{}
	}
	return c.deadline
}

// Parse consumes bytes from the start of p and returns at most one event
// (see Engine.Parse: room bounds the data an event may carry). While
// CONNECTING it reads the HTTP head; bytes after it are not consumed (they
// are the first frames). n == 0 with EventNone means nothing more can be done
// with p. A protocol violation returns the *ProtocolError once; the close
// frame it calls for is pending. In a client's last step, input is discarded.
func (c *Conn) Parse(p []byte, room int, now time.Time) (n int, ev Event, err error) {
	switch c.step {
	case StepHead:
		return c.parseHead(p, now)
	case StepOpen:
	case StepAwaitEOF:
		return len(p), ev, nil
	default:
		return 0, ev, nil
	}
	if c.delivered && c.eng.EndsAt(p) {
		return 0, Event{Kind: EventHold}, nil
	}
	n, ev, err = c.eng.Parse(p, room)
	if err != nil {
		var pe *ProtocolError
		if errors.As(err, &pe) && c.protoErr == nil {
			c.protoErr = pe
		}
		return n, ev, err
	}
	switch ev.Kind {
	case EventData:
		c.delivered = c.delivered || ev.Fin
	case EventClose:
		c.recvClose, c.recvCode, c.recvRsn = true, ev.Code, ev.Reason
		if c.state == StateOpen {
			c.state = StateClosing
		}
	}
	return n, ev, nil
}

// Settle ends a turn: drained reports whether every byte the driver was given
// has been written. It applies what the turn's input and output mean: the
// 101 written opens, an error answer written ends, a completed closing
// handshake, a violation or a transport failure starts the end, and the end
// goes from flushing to (for a client) waiting for the server's TCP close.
func (c *Conn) Settle(now time.Time, drained bool) {
	switch c.step {
	case StepHead:
		if c.writeErr != nil {
			c.end(Result{Code: -1, Kind: EndHandshake, Detail: DetailWriting, Err: c.writeErr})
		} else if c.readErr != nil {
			c.end(Result{Code: -1, Kind: EndHandshake, Detail: DetailLost, Err: c.lostError()})
		}
	case StepAnswer, StepReject:
		c.settleAnswer(now, drained)
	case StepOpen:
		c.settleOpen(now, drained)
	case StepFlush, StepAwaitEOF:
		c.settleEnd(now, drained)
	}
}

func (c *Conn) settleAnswer(now time.Time, drained bool) {
	switch {
	case c.step == StepReject && (drained || c.writeErr != nil):
		c.end(c.rejectResult())
	case c.writeErr != nil:
		c.end(Result{Code: -1, Kind: EndHandshake, Detail: DetailWriting, Err: c.writeErr})
	case drained:
		c.open(now)
	}
}

func (c *Conn) settleOpen(now time.Time, drained bool) {
	e := c.eng
	switch {
	case c.protoErr != nil:
		// We queued the close frame for the violation: like Godot, end once
		// it is written, without waiting for an answer.
		c.startEnd(Result{Code: c.protoErr.Code, Reason: c.protoErr.Reason, Kind: EndProtocol, Err: c.protoErr}, now, drained)
	case e.Err() != nil:
		c.end(Result{Code: -1, Kind: EndLost, Detail: DetailKeys, Err: e.Err()})
	case e.CloseReceived() && e.CloseSent():
		c.startEnd(Result{Code: c.recvCode, Reason: c.recvRsn, Kind: EndClean}, now, drained)
	case c.readErr != nil || c.writeErr != nil:
		r := Result{Code: -1, Kind: EndLost, Err: c.lostError()}
		if c.recvClose {
			r.Code, r.Reason = c.recvCode, c.recvRsn
		}
		c.end(r)
	case e.CloseSent() || e.CloseReceived():
		c.state = StateClosing
	}
}

// startEnd begins the end of a connection whose close frames are settled:
// flush what is queued, then close TCP (a server at once; a client first
// waits, bounded, for the server to close, as RFC 6455 section 7.1.1 asks).
func (c *Conn) startEnd(r Result, now time.Time, drained bool) {
	c.result = r
	c.step, c.state = StepFlush, StateClosing
	c.deadline = now.Add(c.closeTimeout)
	c.settleEnd(now, drained)
}

func (c *Conn) settleEnd(now time.Time, drained bool) {
	if c.step == StepFlush {
		switch {
		case c.writeErr != nil:
			c.finish()
			return
		case !drained:
			if !now.Before(c.deadline) {
				c.finish()
			}
			return
		case c.role == RoleServer || c.result.Kind != EndClean:
			c.finish()
			return
		}
		c.step = StepAwaitEOF
		if d := now.Add(rejectLinger); d.Before(c.deadline) {
			c.deadline = d
		}
		return
	}
	if c.readErr != nil || !now.Before(c.deadline) {
		c.finish()
	}
}

// finish ends the connection with the result already settled.
func (c *Conn) finish() { c.end(c.result) }

func (c *Conn) rejectResult() Result {
	return Result{Code: -1, Kind: EndHandshake, Detail: DetailRejected, Err: c.hs.rejected}
}

// parseHead feeds the HTTP head reader and, once the head is complete,
// performs the client's or the server's side of the handshake.
func (c *Conn) parseHead(p []byte, now time.Time) (int, Event, error) {
	n, done, err := c.hs.head.Feed(p)
	switch {
	case err != nil:
		if c.role == RoleServer {
			c.reject(AsHTTPError(err), now)
		} else {
			c.end(Result{Code: -1, Kind: EndHandshake, Err: err})
		}
	case done:
		head := c.hs.head.Head()
		if c.role == RoleServer {
			c.serverHead(head, now)
		} else {
			c.clientHead(head, now)
		}
	}
	return n, Event{}, nil
}

func (c *Conn) clientHead(head []byte, now time.Time) {
	resp, err := ParseResponse(head)
	if err == nil {
		c.hs.info.ResponseHeader = resp.Header
		var ext string
		c.hs.info.Protocol, ext, err = c.hs.cfg.Request.Check(resp)
		if err == nil {
			c.hs.info.Extension, err = ConfirmExtensions(c.hs.cfg.Negotiators, ext)
		}
	}
	if err != nil {
		c.hs.info.Protocol = ""
		c.end(Result{Code: -1, Kind: EndHandshake, Err: err})
		return
	}
	c.open(now)
}

func (c *Conn) serverHead(head []byte, now time.Time) {
	req, err := ParseRequest(head)
	if err != nil {
		c.reject(AsHTTPError(err), now)
		return
	}
	// Keep the request as bytes, not as a map: an idle connection stays
	// small, and its headers are parsed again on demand.
	c.hs.info.RequestHead = append([]byte(nil), head...)
	c.hs.info.Host, c.hs.info.Target = req.Host, req.Target
	c.hs.info.Protocol = SelectProtocol(req.Protocols, c.hs.cfg.Protocols)
	var ext string
	ext, c.hs.info.Extension = AcceptExtensions(c.hs.cfg.Negotiators, req.Extensions)
	c.hs.out = AppendResponse(c.hs.out[:0], req.Key, c.hs.info.Protocol, ext, c.hs.cfg.Header)
	c.hs.head = HeadReader{}
	c.step = StepAnswer
}

// reject answers a bad request with its HTTP error; the connection ends once
// the answer is written, or after rejectLinger at most.
func (c *Conn) reject(he *HTTPError, now time.Time) {
	c.hs.rejected = he
	c.hs.out = AppendErrorResponse(c.hs.out[:0], he.Status, he.Msg, nil)
	c.hs.head = HeadReader{}
	c.step = StepReject
	if d := now.Add(rejectLinger); d.Before(c.deadline) {
		c.deadline = d
	}
}
