package proto

import (
	"fmt"
	"net/http"
	"strings"
)

// ParseH2Request validates a WebSocket request made over HTTP/2 (RFC 8441
// section 4): an extended CONNECT whose :protocol pseudo-header is
// "websocket", with :path (target) and :authority (host) present and
// Sec-WebSocket-Version 13. There is no key on HTTP/2 (section 5): Key stays
// empty. hdr holds the regular header fields and, as net/http delivers it,
// ":protocol". Every failure is an *HTTPError with status 400 wrapping
// ErrBadRequest (a version other than 13 too: the 426 of RFC 6455 asks for an
// Upgrade header, which HTTP/2 forbids). Subprotocols and extensions are read
// as ParseRequest reads them.
func ParseH2Request(method, target, host string, hdr http.Header) (*Request, error) {
	if method != http.MethodConnect {
		return nil, hsBadRequest("WebSocket over HTTP/2 uses CONNECT", "method "+hsQuote(method))
	}
	if ps := hdr.Values(":protocol"); len(ps) != 1 || !strings.EqualFold(ps[0], "websocket") {
		return nil, hsBadRequest("CONNECT without :protocol websocket", hsQuote(strings.Join(ps, ",")))
	}
	if target == "" || target[0] != '/' || !hsVisibleASCII(target) {
		return nil, hsBadRequest("missing or invalid :path", hsQuote(target))
	}
	if !hsValidHost(host) {
		return nil, hsBadRequest("missing or invalid :authority", "")
	}
	if vs := hdr.Values("Sec-WebSocket-Version"); len(vs) != 1 || vs[0] != "13" {
		return nil, hsBadRequest("missing or unsupported Sec-WebSocket-Version: this server speaks 13", "")
	}
	r := &Request{Method: method, Target: target, Proto: "HTTP/2.0", Host: host, Header: hdr}
	r.Protocols = hsListElems(hdr.Values("Sec-WebSocket-Protocol"))
	if es := hdr.Values("Sec-WebSocket-Extensions"); len(es) > 0 {
		var err error
		if r.Extensions, err = ParseExtensions(es); err != nil {
			return nil, &HTTPError{Status: http.StatusBadRequest, Msg: "malformed Sec-WebSocket-Extensions",
				Detail: err.Error(), Err: fmt.Errorf("%w: %w", ErrBadRequest, err)}
		}
	}
	return r, nil
}

// CheckH2 validates, as a client, the header of a 2xx answer to an extended
// CONNECT (RFC 8441): the subprotocol and the extensions, as Check does for a
// 101 response; there is no Sec-WebSocket-Accept on HTTP/2.
func (r *ClientRequest) CheckH2(header http.Header) (protocol, extensions string, err error) {
	return r.checkSelection(header)
}
