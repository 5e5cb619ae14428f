package proto

import (
	"bufio"
	"bytes"
	"errors"
	"net/http"
	"reflect"
	"strings"
	"testing"
)

// Fuzz targets of the handshake parsers: none may panic, errors must match their
// sentinels, and whatever is accepted must be self-consistent.

func FuzzParseRequest(f *testing.F) {
	f.Add(hsHead(hsRFCRequest...))
	f.Add(hsAdd("Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits; x=\"1\""))
	f.Add([]byte(strings.Join(hsRFCRequest, "\n") + "\n\n"))
	f.Add([]byte("GET /\r\n\r\n"))
	f.Add([]byte("GET\r\n\r\n"))
	f.Add([]byte(""))
	f.Add([]byte("POST / HTTP/1.0\r\nHost: a\r\n\r\n"))
	f.Add([]byte("GET / HTTP/1.1\r\nHost: a\r\n b\r\n\r\n"))
	f.Add([]byte("\x16\x03\x01\x00\xff\r\n\r\n"))
	f.Fuzz(func(t *testing.T, head []byte) {
		r, err := ParseRequest(head)
		if err != nil {
			var he *HTTPError
			if r != nil || !errors.As(err, &he) || !errors.Is(err, ErrBadRequest) {
				t.Fatalf("error %v (request %+v)", err, r)
			}
			switch he.Status {
			case 400, 405, 426, 505:
			default:
				t.Fatalf("status %d", he.Status)
			}
			resp := AppendErrorResponse(nil, he.Status, he.Msg, nil)
			if _, err := http.ReadResponse(bufio.NewReader(bytes.NewReader(resp)), nil); err != nil {
				t.Fatalf("error response unreadable: %v", err)
			}
			return
		}
		if r.Method != "GET" || !hsValidKey(r.Key) || r.Host == "" {
			t.Fatalf("accepted %+v", r)
		}
		// Whatever we accept, answering it yields a response our client accepts.
		proto := SelectProtocol(r.Protocols, r.Protocols)
		resp, err := ParseResponse(AppendResponse(nil, r.Key, proto, "", nil))
		if err != nil {
			t.Fatal(err)
		}
		if p, _, err := (&ClientRequest{Key: r.Key, Protocols: r.Protocols}).Check(resp); err != nil || p != proto {
			t.Fatalf("round trip: %q, %v", p, err)
		}
	})
}

func FuzzParseResponse(f *testing.F) {
	f.Add([]byte("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\nSec-WebSocket-Protocol: chat\r\n" +
		"Sec-WebSocket-Extensions: permessage-deflate; server_max_window_bits=\"10\"\r\n\r\n"))
	f.Add([]byte("HTTP/1.0 404\n\n"))
	f.Add([]byte("HTTP/1.1 101 OK\r\nA: b\r\n c\r\n\r\n"))
	f.Add([]byte("HTTP/1.1 101\r\nConnection: keep-alive, upgrade\r\nUpgrade: WebSocket\r\n\r\n"))
	f.Add([]byte("\x00\xff\r\n\r\n"))
	f.Add([]byte(""))
	req := &ClientRequest{Host: "h", Key: hsRFCKey, Protocols: []string{"chat"}, Extensions: "permessage-deflate"}
	f.Fuzz(func(t *testing.T, head []byte) {
		resp, err := ParseResponse(head)
		if err != nil {
			if resp != nil || !errors.Is(err, ErrBadResponse) {
				t.Fatalf("error %v with response %+v", err, resp)
			}
			return
		}
		proto, _, err := req.Check(resp)
		if err == nil && proto != "" && proto != "chat" {
			t.Fatalf("accepted unoffered protocol %q", proto)
		}
		if err != nil && !errors.Is(err, ErrBadResponse) {
			t.Fatalf("Check error %v does not match ErrBadResponse", err)
		}
	})
}

func FuzzHeadReader(f *testing.F) {
	f.Add([]byte("GET / HTTP/1.1\r\nHost: a\r\n\r\n\x81\x00"), uint16(10), []byte{3, 1, 7})
	f.Add([]byte("A\n\nB"), uint16(0), []byte{1})
	f.Add([]byte("A\r\r\n\r\n"), uint16(4), []byte{0, 2})
	f.Add(bytes.Repeat([]byte("a\r"), 40), uint16(50), []byte{9})
	f.Fuzz(func(t *testing.T, in []byte, max uint16, cuts []byte) {
		one := HeadReader{Max: int(max)}
		n1, done1, err1 := one.Feed(in)

		many := HeadReader{Max: int(max)}
		var n2 int
		var done2 bool
		var err2 error
		rest := in
		for i := 0; ; i++ {
			size := len(rest)
			if i < len(cuts) {
				size = min(int(cuts[i]), len(rest))
			}
			n, done, err := many.Feed(rest[:size])
			n2 += n
			rest = rest[n:]
			done2, err2 = done, err
			if done || err != nil || len(rest) == 0 {
				break
			}
			if n != size {
				t.Fatalf("consumed %d of %d without done or error", n, size)
			}
		}
		if n1 != n2 || done1 != done2 || err1 != err2 || !bytes.Equal(one.Head(), many.Head()) {
			t.Fatalf("one Feed: %d %v %v %q; chunked: %d %v %v %q", n1, done1, err1, one.Head(), n2, done2, err2, many.Head())
		}
		limit := int(max)
		if limit == 0 {
			limit = DefaultMaxHandshakeSize
		}
		if n1 > limit || len(one.buf) > limit {
			t.Fatalf("held %d bytes, Max %d", len(one.buf), limit)
		}
		if done1 && !bytes.Equal(one.Head(), in[:n1]) {
			t.Fatalf("head %q is not the consumed prefix", one.Head())
		}
	})
}

func FuzzParseExtensions(f *testing.F) {
	f.Add("permessage-deflate; client_max_window_bits; server_max_window_bits=10, x-webkit-deflate-frame", "")
	f.Add(`a; b="c", d`, "e;f")
	f.Add(`a;b="\"`, ",,")
	f.Add("a;;", ";=")
	f.Add("", "")
	f.Fuzz(func(t *testing.T, a, b string) {
		exts, err := ParseExtensions([]string{a, b})
		if err != nil {
			if !errors.Is(err, ErrBadExtension) || exts != nil {
				t.Fatalf("error %v with %+v", err, exts)
			}
			return
		}
		// Parsed values are tokens, so formatting and parsing again is the identity.
		s := FormatExtensions(exts)
		again, err := ParseExtensions([]string{s})
		if err != nil || !reflect.DeepEqual(again, exts) {
			t.Fatalf("round trip of %q via %q: %+v, %v", []string{a, b}, s, again, err)
		}
	})
}
