package proto

import (
	"errors"
	"net/http"
	"testing"
)

// TestParseH2Request checks the RFC 8441 section 4 grammar: CONNECT with
// :protocol websocket, :path, :authority and Sec-WebSocket-Version 13; no key.
func TestParseH2Request(t *testing.T) {
	good := func() http.Header {
		return http.Header{":protocol": {"websocket"}, "Sec-Websocket-Version": {"13"},
			"Sec-Websocket-Protocol": {"a, b"}, "Sec-Websocket-Extensions": {"permessage-deflate; client_max_window_bits"}}
	}
	r, err := ParseH2Request("CONNECT", "/chat?x=1", "example.com:8443", good())
	if err != nil {
		t.Fatal(err)
	}
	if r.Target != "/chat?x=1" || r.Host != "example.com:8443" || r.Key != "" || r.Proto != "HTTP/2.0" ||
		len(r.Protocols) != 2 || r.Protocols[1] != "b" || len(r.Extensions) != 1 || r.Extensions[0].Name != "permessage-deflate" {
		t.Fatalf("parsed %+v", r)
	}
	bad := []struct {
		name, method, target, host string
		edit                       func(http.Header)
	}{
		{"GET", "GET", "/", "h", nil},
		{"no :protocol", "CONNECT", "/", "h", func(h http.Header) { h.Del(":protocol") }},
		{"wrong :protocol", "CONNECT", "/", "h", func(h http.Header) { h.Set(":protocol", "websockets") }},
		{"two :protocol", "CONNECT", "/", "h", func(h http.Header) { h.Add(":protocol", "websocket") }},
		{"no version", "CONNECT", "/", "h", func(h http.Header) { h.Del("Sec-Websocket-Version") }},
		{"version 8", "CONNECT", "/", "h", func(h http.Header) { h.Set("Sec-Websocket-Version", "8") }},
		{"no path", "CONNECT", "", "h", nil},
		{"authority form", "CONNECT", "h:443", "h", nil},
		{"no authority", "CONNECT", "/", "", nil},
		{"bad extensions", "CONNECT", "/", "h", func(h http.Header) { h.Set("Sec-Websocket-Extensions", ";;") }},
	}
	for _, c := range bad {
		h := good()
		if c.edit != nil {
			c.edit(h)
		}
		_, err := ParseH2Request(c.method, c.target, c.host, h)
		var he *HTTPError
		if !errors.As(err, &he) || he.Status != http.StatusBadRequest || !errors.Is(err, ErrBadRequest) {
			t.Errorf("%s: %v, want a 400 HTTPError", c.name, err)
		}
	}
}

// TestCheckH2 checks the client's view of a 200 answer: a subprotocol and an
// extension it offered pass; ones it did not offer fail.
func TestCheckH2(t *testing.T) {
	r := &ClientRequest{Protocols: []string{"a", "b"}, Extensions: "permessage-deflate"}
	p, e, err := r.CheckH2(http.Header{"Sec-Websocket-Protocol": {"b"}, "Sec-Websocket-Extensions": {"permessage-deflate"}})
	if err != nil || p != "b" || e != "permessage-deflate" {
		t.Fatalf("%q %q %v", p, e, err)
	}
	for _, h := range []http.Header{{"Sec-Websocket-Protocol": {"c"}}, {"Sec-Websocket-Extensions": {"x-other"}}} {
		if _, _, err := r.CheckH2(h); !errors.Is(err, ErrBadResponse) {
			t.Errorf("%v: %v, want ErrBadResponse", h, err)
		}
	}
}
