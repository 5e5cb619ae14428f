package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"io"
	"net/http"
	"strings"
	"time"
	"unicode"

	"github.com/wspeer/wspeer/internal/proto"
)

// refusalLimit bounds how much of a refusal's body connect reads and shows.
const (
	refusalLimit = 4 << 10
	refusalShown = 200
)

// refusal returns the server's reason for refusing the opening handshake:
// the start of its answer's body ("origin not allowed", "token required"),
// or where a redirect points. It is "" for other failures.
//
// The library reports the refused status and headers but not the body, so
// connect asks once more with a plain HTTP request carrying the same headers
// and reads the body of that answer.
func refusal(s *session, cerr error) string {
	var se *proto.StatusError
	if !errors.As(cerr, &se) {
		return ""
	}
	if loc := se.Header.Get("Location"); loc != "" && se.Status/100 == 3 {
		return "redirected to " + loc
	}
	if se.Status < 400 {
		return ""
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return refusalBody(ctx, s.url, s.p.HandshakeHeaders, s.o.protocols.stringList, *s.o.insecure)
}

// refusalBody repeats the upgrade request over net/http and returns its
// answer's body as one printable line, or "" when there is none.
func refusalBody(ctx context.Context, wsURL string, header http.Header, protocols []string, insecure bool) string {
	httpURL := "http" + strings.TrimPrefix(wsURL, "ws")
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, httpURL, nil)
	if err != nil {
		return ""
	}
	for name, values := range header {
		req.Header[name] = values
	}
	var key [16]byte
	rand.Read(key[:])
	req.Header.Set("Upgrade", "websocket")
	req.Header.Set("Connection", "Upgrade")
	req.Header.Set("Sec-WebSocket-Version", "13")
	req.Header.Set("Sec-WebSocket-Key", base64.StdEncoding.EncodeToString(key[:]))
	if len(protocols) > 0 {
		req.Header.Set("Sec-WebSocket-Protocol", strings.Join(protocols, ", "))
	}
	client := &http.Client{
		Transport: &http.Transport{Proxy: http.ProxyFromEnvironment, TLSClientConfig: clientTLS(insecure)},
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
	defer client.CloseIdleConnections()
	resp, err := client.Do(req)
	if err != nil {
		return ""
	}
	defer resp.Body.Close()
	if resp.StatusCode < 400 {
		return "" // accepted this time (or redirected): no refusal to show
	}
	body, _ := io.ReadAll(io.LimitReader(resp.Body, refusalLimit))
	return oneLine(string(body))
}

// oneLine makes untrusted text printable on one terminal line: control
// characters become spaces, runs of spaces one space, and it is cut at
// refusalShown runes.
func oneLine(s string) string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || r == unicode.ReplacementChar {
			return ' '
		}
		return r
	}, s)
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > refusalShown {
		s = string(r[:refusalShown]) + "..."
	}
	return s
}
