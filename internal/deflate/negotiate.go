// Package deflate is permessage-deflate (RFC 7692) for the engine in
// internal/proto: the negotiation (Negotiator, a proto.ExtensionNegotiator)
// and the per-connection codec (Codec, a proto.ExtensionCodec).
//
// What this implementation does, whatever the peer offers:
//   - Its own compressor never uses context takeover: each message is
//     compressed on its own, with a pooled compressor, so no connection holds a
//     compressor. A server always answers server_no_context_takeover; a client
//     always offers client_no_context_takeover. Both are allowed by the RFC.
//   - The peer's context takeover is supported when inflating: a connection
//     keeps the last 32 KiB of inflated bytes as the dictionary, and the
//     inflater itself is pooled.
//   - A max_window_bits below 15 asked of our compressor is honoured by
//     compressing with Huffman coding only: without back-references, no
//     distance can exceed any window (the standard library's compressor cannot
//     be limited to a smaller window otherwise).
package deflate

import (
	"errors"
	"fmt"
	"strconv"

	"github.com/wspeer/wspeer/internal/proto"
)

// Name is the extension token of RFC 7692.
const Name = "permessage-deflate"

// ErrBadNegotiation reports a permessage-deflate offer or answer that cannot
// be accepted.
var ErrBadNegotiation = errors.New("websocket: invalid permessage-deflate negotiation")

// Params holds negotiated permessage-deflate parameters, from the point of
// view of the endpoint that uses them: "Own" is this endpoint's compressor,
// "Peer" the remote's.
type Params struct {
	// OwnWindowBits limits this endpoint's compressor's window (8-15); below
	// 15 it compresses with Huffman coding only.
	OwnWindowBits int
	// PeerNoContextTakeover says the peer compresses each message on its own,
	// so no inflate window needs keeping between messages.
	PeerNoContextTakeover bool
	// PeerWindowBits is the window the peer compresses with (8-15).
	PeerWindowBits int
	// Threshold is the smallest message compressed; smaller ones go out as
	// they are (a compressed tiny message is larger than the original).
	Threshold int
	// Level is the compress/flate level (1-9); 0 means flate.BestSpeed.
	Level int
}

// ClientOffer is the offer a client sends: it will not use context takeover
// itself and accepts a limit on its window.
const ClientOffer = Name + "; client_no_context_takeover; client_max_window_bits"

// Negotiator negotiates permessage-deflate in the opening handshake, as a
// client (ClientOffer) or as a server, and gives each connection its Codec.
type Negotiator struct {
	// Threshold is copied into each connection's Params.Threshold.
	Threshold int
	// Level is copied into each connection's Params.Level.
	Level int
}

var _ proto.ExtensionNegotiator = (*Negotiator)(nil)

// Name returns the extension token, "permessage-deflate".
func (n *Negotiator) Name() string { return Name }

// Offer returns ClientOffer.
func (n *Negotiator) Offer() string { return ClientOffer }

// Accept picks, as a server, the first acceptable offer (see Negotiate).
func (n *Negotiator) Accept(offers []proto.Extension) (string, proto.ExtensionCodec, bool) {
	resp, p, ok := Negotiate(offers)
	if !ok {
		return "", nil, false
	}
	p.Threshold, p.Level = n.Threshold, n.Level
	return resp, NewCodec(p), true
}

// Confirm validates, as a client that sent ClientOffer, the server's answer
// (see Confirm).
func (n *Negotiator) Confirm(response proto.Extension) (proto.ExtensionCodec, error) {
	p, err := Confirm(response)
	if err != nil {
		return nil, err
	}
	p.Threshold, p.Level = n.Threshold, n.Level
	return NewCodec(p), nil
}

// deflateParams are the parameters of one offer or response, validated.
type deflateParams struct {
	serverNoTakeover, clientNoTakeover bool
	serverBits, clientBits             int  // 0 when absent
	clientBitsNoValue                  bool // client_max_window_bits without a value (offers only)
}

// parseDeflateParams validates one permessage-deflate element: known
// parameters only, each at most once, window bits 8-15.
func parseDeflateParams(e proto.Extension, offer bool) (deflateParams, error) {
	var d deflateParams
	seen := map[string]bool{}
	for _, p := range e.Params {
		if seen[p.Name] {
			return d, fmt.Errorf("%w: duplicate %s", ErrBadNegotiation, p.Name)
		}
		seen[p.Name] = true
		switch p.Name {
		case "server_no_context_takeover", "client_no_context_takeover":
			if p.HasValue {
				return d, fmt.Errorf("%w: %s takes no value", ErrBadNegotiation, p.Name)
			}
			if p.Name[0] == 's' {
				d.serverNoTakeover = true
			} else {
				d.clientNoTakeover = true
			}
		case "server_max_window_bits", "client_max_window_bits":
			if !p.HasValue {
				if p.Name[0] == 's' || !offer {
					return d, fmt.Errorf("%w: %s needs a value", ErrBadNegotiation, p.Name)
				}
				d.clientBitsNoValue = true
				continue
			}
			bits, err := strconv.Atoi(p.Value)
			if err != nil || bits < 8 || bits > 15 || p.Value[0] == '0' || p.Value[0] == '+' {
				return d, fmt.Errorf("%w: %s=%q", ErrBadNegotiation, p.Name, p.Value)
			}
			if p.Name[0] == 's' {
				d.serverBits = bits
			} else {
				d.clientBits = bits
			}
		default:
			return d, fmt.Errorf("%w: unknown parameter %s", ErrBadNegotiation, p.Name)
		}
	}
	return d, nil
}

// Negotiate picks, as a server, the first acceptable permessage-deflate
// offer (in the client's order; offers with unknown or invalid parameters are
// declined, as RFC 7692 section 5 requires) and returns the response element
// and the server's parameters. ok is false when no offer is acceptable.
func Negotiate(offers []proto.Extension) (response string, d Params, ok bool) {
	for _, e := range offers {
		if e.Name != Name {
			continue
		}
		p, err := parseDeflateParams(e, true)
		if err != nil {
			continue
		}
		d = Params{OwnWindowBits: 15, PeerWindowBits: 15, PeerNoContextTakeover: p.clientNoTakeover}
		response = Name + "; server_no_context_takeover"
		if p.clientNoTakeover {
			response += "; client_no_context_takeover"
		}
		if p.serverBits != 0 {
			// The client limits our window: honour it and say so.
			d.OwnWindowBits = p.serverBits
			response += "; server_max_window_bits=" + strconv.Itoa(p.serverBits)
		}
		if p.clientBits != 0 {
			d.PeerWindowBits = p.clientBits
		}
		return response, d, true
	}
	return "", Params{}, false
}

// Confirm validates, as a client that sent ClientOffer, the server's
// permessage-deflate answer element and returns the client's parameters.
// The answer as a whole (one element, of an offered extension) is checked by
// proto.ConfirmExtensions.
func Confirm(e proto.Extension) (Params, error) {
	if e.Name != Name {
		return Params{}, fmt.Errorf("%w: unexpected extension %q", ErrBadNegotiation, e.Name)
	}
	p, err := parseDeflateParams(e, false)
	if err != nil {
		return Params{}, err
	}
	d := Params{OwnWindowBits: 15, PeerWindowBits: 15, PeerNoContextTakeover: p.serverNoTakeover}
	if p.clientBits != 0 {
		d.OwnWindowBits = p.clientBits // allowed: we offered client_max_window_bits
	}
	if p.serverBits != 0 {
		// RFC 7692 7.1.2.1 lets a server state a smaller window of its own
		// even unasked; inflating needs nothing more than its 32 KiB window.
		d.PeerWindowBits = p.serverBits
	}
	return d, nil
}
