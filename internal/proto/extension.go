package proto

import (
	"errors"
	"fmt"
	"strings"
)

// Extensions (RFC 6455 section 9) reach the engine through two interfaces:
// an ExtensionNegotiator takes part in the opening handshake and yields, once
// an extension is agreed, the ExtensionCodec the Engine runs for that
// connection. The engine knows no extension by name; permessage-deflate lives
// in its own package (internal/deflate). An Engine runs at most one codec.

// ExtensionCodec is the per-connection data transformation of a negotiated
// extension, such as permessage-deflate. The Engine calls it from Parse and
// AppendMessage only, so it needs no locking, and it keeps the engine's
// guarantees: the decoded size of a message is bounded by MaxMessageSize (the
// engine asks for at most one byte past it), decoded text is validated as
// UTF-8, and decoded bytes are handed out no faster than Parse's maxData.
type ExtensionCodec interface {
	// Rsv returns the reserved bits the extension owns (Rsv1 for
	// permessage-deflate). A data message whose first frame has one of them
	// set is encoded: its payload goes through Feed and Decode.
	Rsv() byte
	// MaxEncodedSize returns how many payload bytes an encoded message may
	// take on the wire when its decoded size is at most limit (limit > 0).
	MaxEncodedSize(limit int64) int64
	// Encode returns the frame payload of an outgoing whole message and the
	// reserved bits to set on its frame: either payload itself and 0 (the
	// message goes out as it is, for example when it is too small to gain
	// from compression), or the encoded message appended to dst. The engine
	// copies the result before it calls Encode again.
	Encode(dst []byte, op Opcode, payload []byte) (frame []byte, rsv byte)
	// Feed takes the next payload bytes of an inbound encoded message,
	// unmasked; last marks the final ones. The codec copies what it keeps.
	// An error fails the connection: with the error's close code when it is
	// a *ProtocolError (whose Reason then fits a close frame: at most 123
	// bytes), otherwise with 1007.
	Feed(p []byte, last bool) error
	// Decode returns the next decoded bytes of the message whose last bytes
	// were fed: at most max (max > 0), valid until the next call. done marks
	// the message's end. Errors are handled as Feed's.
	Decode(max int) (chunk []byte, done bool, err error)
	// Release returns the pooled resources the codec holds. The engine calls
	// it when it fails the connection and from Engine.Release; the codec is
	// not used afterwards. Calling it again does nothing.
	Release()
}

// SharedEncoder is implemented by codecs whose encoding of a message depends
// on their parameters only (no state carried between messages): connections
// whose codecs return the same key may share a message's encoded frame, as
// a broadcast does.
type SharedEncoder interface {
	SharedKey() string
}

// ExtensionNegotiator takes part in the opening handshake for one extension.
type ExtensionNegotiator interface {
	// Name is the extension token, such as "permessage-deflate".
	Name() string
	// Offer returns what a client puts in Sec-WebSocket-Extensions: one or
	// more elements of this extension, in preference order.
	Offer() string
	// Accept chooses, as a server, among the client's offers of this
	// extension (in the client's order; never empty). ok reports an
	// acceptance; response is then the element to answer with and codec the
	// connection's codec (nil for an extension that changes no frame).
	Accept(offers []Extension) (response string, codec ExtensionCodec, ok bool)
	// Confirm validates, as a client that sent Offer, the server's answer
	// element for this extension and returns the connection's codec.
	Confirm(response Extension) (ExtensionCodec, error)
}

// OfferExtensions joins the negotiators' offers into one
// Sec-WebSocket-Extensions value ("" when there are none).
func OfferExtensions(negotiators []ExtensionNegotiator) string {
	var offers []string
	for _, n := range negotiators {
		if o := n.Offer(); o != "" {
			offers = append(offers, o)
		}
	}
	return strings.Join(offers, ", ")
}

// AcceptExtensions chooses, as a server, the extension to use from the
// client's parsed offers. The negotiators are asked in order (the server's
// preference), each with the offers of its own name, and the first that
// accepts is used: an Engine runs one codec. It returns the
// Sec-WebSocket-Extensions answer ("" when nothing was accepted) and the codec
// (nil when none).
func AcceptExtensions(negotiators []ExtensionNegotiator, offers []Extension) (response string, codec ExtensionCodec) {
	for _, n := range negotiators {
		var own []Extension
		for _, o := range offers {
			if o.Name == n.Name() {
				own = append(own, o)
			}
		}
		if len(own) == 0 {
			continue
		}
		if resp, c, ok := n.Accept(own); ok {
			return resp, c
		}
	}
	return "", nil
}

// ConfirmExtensions validates, as a client, the server's
// Sec-WebSocket-Extensions answer (raw value, as ClientRequest.Check returns
// it; "" when the server accepted nothing) against the negotiators whose
// offers were sent, and returns the codec to run (nil when none). Each answer
// element must name one of the negotiators, at most once (RFC 7692 section
// 5.1 forbids answering twice), and at most one may come with a codec.
// Failures wrap ErrBadResponse, or are the negotiator's own.
func ConfirmExtensions(negotiators []ExtensionNegotiator, response string) (ExtensionCodec, error) {
	if response == "" {
		return nil, nil
	}
	elems, err := ParseExtensions([]string{response})
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadResponse, err)
	}
	var codec ExtensionCodec
	fail := func(err error) (ExtensionCodec, error) {
		if codec != nil {
			codec.Release()
		}
		return nil, err
	}
	for i, e := range elems {
		if hsOffered(elems[:i], e.Name) {
			return fail(fmt.Errorf("%w: extension %s accepted twice", ErrBadResponse, hsQuote(e.Name)))
		}
		var neg ExtensionNegotiator
		for _, n := range negotiators {
			if n.Name() == e.Name {
				neg = n
				break
			}
		}
		if neg == nil {
			return fail(fmt.Errorf("%w: extension %s was not offered", ErrBadResponse, hsQuote(e.Name)))
		}
		c, err := neg.Confirm(e)
		if err != nil {
			return fail(err)
		}
		if c != nil && codec != nil {
			c.Release()
			return fail(fmt.Errorf("%w: more than one extension transforms frames", ErrBadResponse))
		}
		if c != nil {
			codec = c
		}
	}
	return codec, nil
}

// The engine's side of an extension: Parse hands the payload of an encoded
// message to gather, then delivers it through decodeEvent.

// gather hands a chunk of an encoded message to the extension; at the
// message's end, decoding starts.
func (e *Engine) gather(chunk []byte) error {
	if e.hdr.Masked {
		e.maskPos = Mask(e.hdr.Mask, e.maskPos, chunk)
	}
	e.remaining -= int64(len(chunk))
	e.msgSize += int64(len(chunk))
	if e.remaining == 0 {
		e.inFrame = false
	}
	last := e.remaining == 0 && e.hdr.Fin
	if last {
		e.msgSize = 0 // from here on it counts decoded bytes
		e.decoding = true
	}
	if err := e.cfg.Extension.Feed(chunk, last); err != nil {
		return e.fail(extensionError(err, "cannot decode message"))
	}
	return nil
}

// extensionError is the protocol error an extension's failure calls for: its
// own when it gives one, otherwise 1007 with reason.
func extensionError(err error, reason string) *ProtocolError {
	if pe := (*ProtocolError)(nil); errors.As(err, &pe) {
		return pe
	}
	return protocolError(CloseInvalidPayload, reason)
}

// decodeEvent delivers the next decoded chunk of an encoded message.
func (e *Engine) decodeEvent(maxData int) (Event, error) {
	atLimit := e.cfg.MaxMessageSize > 0 && e.msgSize >= e.cfg.MaxMessageSize
	if maxData == 0 && !atLimit {
		return Event{}, nil // backpressure
	}
	if atLimit {
		// The message fills the whole budget: one more byte, or its end,
		// decides whether it is too big, whatever room the caller has.
		maxData = 1
	}
	if maxData < 0 {
		maxData = decodeStep
	}
	if e.cfg.MaxMessageSize > 0 {
		// Decode one byte past the limit at most: enough to know it is exceeded.
		maxData = int(min(int64(maxData), e.cfg.MaxMessageSize-e.msgSize+1))
	}
	chunk, done, err := e.cfg.Extension.Decode(maxData)
	if err != nil {
		return Event{}, e.fail(extensionError(err, "invalid encoded data"))
	}
	if len(chunk) > maxData {
		// A codec that ignores the bound would break the caller's budget.
		return Event{}, e.fail(protocolError(CloseInternalError, "extension decoded more than asked"))
	}
	e.msgSize += int64(len(chunk))
	if e.cfg.MaxMessageSize > 0 && e.msgSize > e.cfg.MaxMessageSize {
		return Event{}, e.fail(protocolError(CloseMessageTooBig, "message too big after decoding"))
	}
	if e.msgOp == OpText && !e.utf8.Write(chunk) {
		return Event{}, e.fail(protocolError(CloseInvalidPayload, "invalid UTF-8 in text message"))
	}
	ev := Event{Kind: EventData, Opcode: e.msgOp, Rsv: e.msgRsv, Data: chunk}
	if done {
		if e.msgOp == OpText && !e.utf8.Complete() {
			return Event{}, e.fail(protocolError(CloseInvalidPayload, "text message ends inside a UTF-8 sequence"))
		}
		ev.Fin = true
		e.msgOp = 0
		e.decoding = false
		e.encoded = false
	}
	return ev, nil
}
