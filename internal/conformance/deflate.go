package conformance

import (
	"bytes"
	"compress/flate"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// The suite's own permessage-deflate (RFC 7692): negotiation from both sides,
// a compressor and an inflater per connection, and a check of the distances
// the peer's compressor used against the window it agreed to. Compression is
// compress/flate's; nothing here uses the library under test.

const extDeflate = "permessage-deflate"

// DeflateOffer is one permessage-deflate offer of a client, with Autobahn's
// parameters: the client accepts the server asking it for no context
// takeover (client_no_context_takeover) and for a smaller window
// (client_max_window_bits without value), and may ask the server for no
// context takeover and a window of RequestMaxWindowBits (0: none).
type DeflateOffer struct {
	AcceptNoContextTakeover  bool
	AcceptMaxWindowBits      bool
	ClientMaxWindowBits      int // the value of client_max_window_bits (0: none)
	RequestNoContextTakeover bool
	RequestMaxWindowBits     int
}

// defaultOffer is Autobahn's PerMessageDeflateOffer().
func defaultOffer() DeflateOffer {
	return DeflateOffer{AcceptNoContextTakeover: true, AcceptMaxWindowBits: true}
}

func (o DeflateOffer) String() string {
	s := extDeflate
	if o.AcceptNoContextTakeover {
		s += "; client_no_context_takeover"
	}
	if o.ClientMaxWindowBits != 0 {
		s += "; client_max_window_bits=" + strconv.Itoa(o.ClientMaxWindowBits)
	} else if o.AcceptMaxWindowBits {
		s += "; client_max_window_bits"
	}
	if o.RequestNoContextTakeover {
		s += "; server_no_context_takeover"
	}
	if o.RequestMaxWindowBits != 0 {
		s += "; server_max_window_bits=" + strconv.Itoa(o.RequestMaxWindowBits)
	}
	return s
}

// DeflateResponse is a server's permessage-deflate response (0 bits: absent).
type DeflateResponse struct {
	ServerNoContextTakeover, ClientNoContextTakeover bool
	ServerMaxWindowBits, ClientMaxWindowBits         int
}

func (r DeflateResponse) String() string {
	s := extDeflate
	if r.ServerNoContextTakeover {
		s += "; server_no_context_takeover"
	}
	if r.ServerMaxWindowBits != 0 {
		s += "; server_max_window_bits=" + strconv.Itoa(r.ServerMaxWindowBits)
	}
	if r.ClientNoContextTakeover {
		s += "; client_no_context_takeover"
	}
	if r.ClientMaxWindowBits != 0 {
		s += "; client_max_window_bits=" + strconv.Itoa(r.ClientMaxWindowBits)
	}
	return s
}

// DeflateAccept decides, as Autobahn's fuzzingserver does for a case, which
// of the client's offers to accept and how; ok false declines them all.
type DeflateAccept func(offers []DeflateOffer) (r DeflateResponse, ok bool)

// Compression is a case's permessage-deflate setup: the offers the suite
// makes in the client role and how it answers offers in the server role.
type Compression struct {
	Offers []DeflateOffer
	Accept DeflateAccept
}

// extElement is one element of a Sec-WebSocket-Extensions list.
type extElement struct {
	name   string
	params []extParam
}

type extParam struct {
	name, value string
	hasValue    bool
}

// parseExtensionList splits header values into elements: comma-separated
// elements, semicolon-separated parameters, values as tokens or quoted
// strings.
func parseExtensionList(values []string) ([]extElement, error) {
	var out []extElement
	for _, v := range values {
		for _, el := range splitOutsideQuotes(v, ',') {
			if strings.TrimSpace(el) == "" {
				continue
			}
			parts := splitOutsideQuotes(el, ';')
			e := extElement{name: strings.TrimSpace(parts[0])}
			if !isToken(e.name) {
				return nil, fmt.Errorf("bad extension name %q", e.name)
			}
			for _, p := range parts[1:] {
				name, value, has := strings.Cut(p, "=")
				name, value = strings.TrimSpace(name), strings.TrimSpace(value)
				if !isToken(name) {
					return nil, fmt.Errorf("bad parameter name %q", name)
				}
				if has {
					if len(value) >= 2 && value[0] == '"' && value[len(value)-1] == '"' {
						value = strings.ReplaceAll(value[1:len(value)-1], `\`, "")
					}
					if !isToken(value) {
						return nil, fmt.Errorf("bad value %q of parameter %s", value, name)
					}
				}
				e.params = append(e.params, extParam{name, value, has})
			}
			out = append(out, e)
		}
	}
	return out, nil
}

func splitOutsideQuotes(s string, sep byte) []string {
	var out []string
	quoted, start := false, 0
	for i := 0; i < len(s); i++ {
		switch {
		case s[i] == '\\' && quoted:
			i++
		case s[i] == '"':
			quoted = !quoted
		case s[i] == sep && !quoted:
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	return append(out, s[start:])
}

func isToken(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte(`()<>@,;:\"/[]?={}`, c) >= 0 {
			return false
		}
	}
	return s != ""
}

// windowBits parses a max_window_bits value: 8-15 without leading zero.
func windowBits(v string) (int, bool) {
	if len(v) == 0 || len(v) > 2 || v[0] == '0' {
		return 0, false
	}
	n, err := strconv.Atoi(v)
	return n, err == nil && n >= 8 && n <= 15
}

// deflateParams are the validated parameters of one element.
type deflateParams struct {
	serverNoCtx, clientNoCtx bool
	serverBits, clientBits   int
	clientBitsNoValue        bool
}

// parseDeflateElement validates an offer (offer true) or response element:
// known parameters, each at most once, the right value forms.
func parseDeflateElement(e extElement, offer bool) (deflateParams, error) {
	var d deflateParams
	seen := map[string]bool{}
	for _, p := range e.params {
		if seen[p.name] {
			return d, fmt.Errorf("parameter %s given twice", p.name)
		}
		seen[p.name] = true
		switch p.name {
		case "server_no_context_takeover", "client_no_context_takeover":
			if p.hasValue {
				return d, fmt.Errorf("parameter %s has a value", p.name)
			}
			if p.name[0] == 's' {
				d.serverNoCtx = true
			} else {
				d.clientNoCtx = true
			}
		case "server_max_window_bits", "client_max_window_bits":
			if !p.hasValue {
				if p.name[0] == 's' || !offer {
					return d, fmt.Errorf("parameter %s lacks a value", p.name)
				}
				d.clientBitsNoValue = true
				continue
			}
			n, ok := windowBits(p.value)
			if !ok {
				return d, fmt.Errorf("invalid %s=%s", p.name, p.value)
			}
			if p.name[0] == 's' {
				d.serverBits = n
			} else {
				d.clientBits = n
			}
		default:
			return d, fmt.Errorf("unknown parameter %s", p.name)
		}
	}
	return d, nil
}

// parseOffers returns the client's permessage-deflate offers in its order
// (other extensions are ignored); an invalid offer is an error, as for
// Autobahn's fuzzingserver.
func parseOffers(values []string) ([]DeflateOffer, error) {
	els, err := parseExtensionList(values)
	if err != nil {
		return nil, err
	}
	var out []DeflateOffer
	for _, e := range els {
		if e.name != extDeflate {
			continue
		}
		d, err := parseDeflateElement(e, true)
		if err != nil {
			return nil, fmt.Errorf("permessage-deflate offer: %v", err)
		}
		out = append(out, DeflateOffer{
			AcceptNoContextTakeover:  d.clientNoCtx,
			AcceptMaxWindowBits:      d.clientBitsNoValue || d.clientBits != 0,
			ClientMaxWindowBits:      d.clientBits,
			RequestNoContextTakeover: d.serverNoCtx,
			RequestMaxWindowBits:     d.serverBits,
		})
	}
	return out, nil
}

// checkResponse validates, as the client that sent offers, the server's
// Sec-WebSocket-Extensions values against RFC 7692: one permessage-deflate
// element whose parameters answer at least one of the offers. ok false: the
// server declined (no extension).
func checkResponse(values []string, offers []DeflateOffer) (r DeflateResponse, ok bool, err error) {
	els, err := parseExtensionList(values)
	if err != nil {
		return r, false, err
	}
	switch {
	case len(els) == 0:
		return r, false, nil
	case len(els) > 1:
		return r, false, fmt.Errorf("%d extensions in the response, one was offered", len(els))
	case els[0].name != extDeflate:
		return r, false, fmt.Errorf("extension %s was not offered", els[0].name)
	}
	d, err := parseDeflateElement(els[0], false)
	if err != nil {
		return r, false, err
	}
	r = DeflateResponse{
		ServerNoContextTakeover: d.serverNoCtx, ClientNoContextTakeover: d.clientNoCtx,
		ServerMaxWindowBits: d.serverBits, ClientMaxWindowBits: d.clientBits,
	}
	var why []string
	for _, o := range offers {
		// 7.1.1.1: an offer of server_no_context_takeover is accepted only by
		// repeating it. 7.1.2.1: an offer of server_max_window_bits is
		// accepted by answering it with the same or a smaller value (the
		// server may state its window unasked). 7.1.2.2: client_max_window_bits
		// may only answer an offer of it, with at most the offered value.
		switch {
		case o.RequestNoContextTakeover && !r.ServerNoContextTakeover:
			why = append(why, "server_no_context_takeover offered but not in the response")
		case o.RequestMaxWindowBits != 0 && (r.ServerMaxWindowBits == 0 || r.ServerMaxWindowBits > o.RequestMaxWindowBits):
			why = append(why, fmt.Sprintf("server_max_window_bits=%d offered, answered with %d", o.RequestMaxWindowBits, r.ServerMaxWindowBits))
		case r.ClientMaxWindowBits != 0 && !o.AcceptMaxWindowBits:
			why = append(why, "client_max_window_bits in the response but not offered")
		case r.ClientMaxWindowBits != 0 && o.ClientMaxWindowBits != 0 && r.ClientMaxWindowBits > o.ClientMaxWindowBits:
			why = append(why, fmt.Sprintf("client_max_window_bits=%d offered, answered with %d", o.ClientMaxWindowBits, r.ClientMaxWindowBits))
		default:
			return r, true, nil
		}
	}
	return r, false, fmt.Errorf("response %q answers no offer: %s", strings.Join(values, ", "), strings.Join(why, "; "))
}

// Autobahn's fuzzingserver answers (case12_x_x.py accept1-accept7): the
// first offer that allows what the server asks is accepted, repeating what
// the offer asks of the server.

func acceptOffer(o DeflateOffer, clientNoCtx bool, clientBits int) DeflateResponse {
	return DeflateResponse{
		ServerNoContextTakeover: o.RequestNoContextTakeover,
		ServerMaxWindowBits:     o.RequestMaxWindowBits,
		ClientNoContextTakeover: clientNoCtx,
		ClientMaxWindowBits:     clientBits,
	}
}

// acceptWith returns the accept function asking the client for no context
// takeover (noCtx) and a window of bits (0: no request).
func acceptWith(noCtx bool, bits int) DeflateAccept {
	return func(offers []DeflateOffer) (DeflateResponse, bool) {
		for _, o := range offers {
			// Autobahn takes client_no_context_takeover as always acceptable.
			if bits == 0 || o.AcceptMaxWindowBits {
				return acceptOffer(o, noCtx, bits), true
			}
		}
		return DeflateResponse{}, false
	}
}

// acceptFirstOf tries accept functions in order (Autobahn's accept7).
func acceptFirstOf(fs ...DeflateAccept) DeflateAccept {
	return func(offers []DeflateOffer) (DeflateResponse, bool) {
		for _, f := range fs {
			if r, ok := f(offers); ok {
				return r, true
			}
		}
		return DeflateResponse{}, false
	}
}

// deflateConn is the negotiated compression state of a connection, from the
// suite's side: "own" is the suite's compressor, "peer" the remote's.
type deflateConn struct {
	ownNoCtx   bool
	ownBits    int
	peerNoCtx  bool
	peerBits   int
	negotiated string // the response, for details

	fw   *flate.Writer // the suite's compressor (kept across messages with context takeover)
	zbuf bytes.Buffer
	hist []byte // last 32 KiB inflated, with the peer's context takeover
}

func newDeflateConn(r DeflateResponse, server bool) *deflateConn {
	d := &deflateConn{negotiated: r.String()}
	bits := func(n int) int {
		if n == 0 {
			return 15
		}
		return n
	}
	if server {
		d.ownNoCtx, d.ownBits = r.ServerNoContextTakeover, bits(r.ServerMaxWindowBits)
		d.peerNoCtx, d.peerBits = r.ClientNoContextTakeover, bits(r.ClientMaxWindowBits)
	} else {
		d.ownNoCtx, d.ownBits = r.ClientNoContextTakeover, bits(r.ClientMaxWindowBits)
		d.peerNoCtx, d.peerBits = r.ServerNoContextTakeover, bits(r.ServerMaxWindowBits)
	}
	return d
}

// compressLevel is Autobahn's (zlib's Z_DEFAULT_COMPRESSION).
const compressLevel = flate.BestSpeed

// compress returns msg compressed as one permessage-deflate message: with
// context takeover, one compressor for the connection flushed after each
// message; without, a fresh one per message; with a window below 15 bits,
// Huffman coding only (no back-references, so no distance exceeds it).
func (d *deflateConn) compress(msg []byte) []byte {
	level := compressLevel
	if d.ownBits < 15 {
		level = flate.HuffmanOnly
	}
	d.zbuf.Reset()
	if d.fw == nil {
		d.fw, _ = flate.NewWriter(&d.zbuf, level) // a valid level: no error
	} else if d.ownNoCtx {
		d.fw.Reset(&d.zbuf)
	}
	d.fw.Write(msg)
	d.fw.Flush()
	out := bytes.Clone(d.zbuf.Bytes())
	// A sync flush ends with an empty stored block 00 00 ff ff: stripped.
	return bytes.TrimSuffix(out, []byte{0, 0, 0xff, 0xff})
}

// inflateTail restores the stripped sync-flush block and adds a final empty
// stored block, so that the stream ends cleanly.
var inflateTail = []byte{0, 0, 0xff, 0xff, 1, 0, 0, 0xff, 0xff}

// inflate decompresses one message of the peer, checking that its
// back-references stay within the window the peer agreed to.
func (d *deflateConn) inflate(z []byte, limit int) ([]byte, error) {
	var dict []byte
	if !d.peerNoCtx {
		dict = d.hist
	}
	in := append(bytes.Clone(z), inflateTail...)
	if d.peerBits < 15 {
		if err := checkDistances(in, len(dict), 1<<d.peerBits); err != nil {
			return nil, err
		}
	}
	r := flate.NewReaderDict(bytes.NewReader(in), dict)
	out, err := io.ReadAll(io.LimitReader(r, int64(limit)+1))
	if err != nil {
		return nil, fmt.Errorf("inflating: %v", err)
	}
	if len(out) > limit {
		return nil, errors.New("inflated message exceeds the suite's limit")
	}
	if !d.peerNoCtx {
		d.hist = append(d.hist, out...)
		if n := len(d.hist); n > 1<<15 {
			d.hist = append(d.hist[:0:0], d.hist[n-1<<15:]...)
		}
	}
	return out, nil
}
