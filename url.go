package wspeer

import (
	"encoding/base64"
	"fmt"
	"net/url"
	"strconv"
	"strings"
)

// target is a parsed ws:// or wss:// URL.
type target struct {
	secure bool
	host   string // without brackets; an IPv6 zone is kept for the dial
	port   int
	path   string // request-target: path and query, percent-encoded
	auth   string // Authorization header value from userinfo, or ""
	url    string // the URL without its fragment, scheme in lower case: what a browser opens
}

// parseURL parses a client URL the way a browser would, refusing what cannot
// be a WebSocket endpoint. Like Godot, a URL without a scheme means ws://.
// Path and query are percent-encoded as browsers do (spaces, quotes, angle
// brackets, controls and non-ASCII bytes); an internationalized host name is
// refused with its ASCII (punycode) form named. Errors show the URL with its
// password redacted and its length bounded.
func parseURL(raw string) (*target, error) {
	bad := func(why string) (*target, error) {
		return nil, fmt.Errorf("%w: URL %s: %s", ErrInvalidParameter, quoteURL(raw), why)
	}
	if raw == "" {
		return bad("empty")
	}
	s := raw
	if !strings.Contains(s, "://") {
		s = "ws://" + s
	}
	u, err := url.Parse(browserEncode(s))
	if err != nil {
		return bad(redactErr(err))
	}
	t := &target{}
	switch strings.ToLower(u.Scheme) {
	case "ws":
		t.port = 80
	case "wss":
		t.secure, t.port = true, 443
	default:
		return bad("scheme must be ws or wss")
	}
	if u.Opaque != "" {
		return bad("no authority")
	}
	t.host = u.Hostname()
	if t.host == "" {
		return bad("empty host")
	}
	if strings.HasSuffix(u.Host, ":") {
		return bad("empty port")
	}
	if ps := u.Port(); ps != "" {
		n, err := strconv.Atoi(ps)
		if err != nil || n < 1 || n > 65535 {
			return bad("port out of range")
		}
		t.port = n
	}
	if strings.ContainsAny(t.host, " \t\r\n/\\") {
		return bad("invalid host")
	}
	if ascii, ok := asciiHost(t.host); !ok {
		return bad("internationalized host name: use its ASCII form " + strconv.Quote(ascii))
	}
	t.path = u.EscapedPath()
	if t.path == "" {
		t.path = "/"
	}
	if u.RawQuery != "" || u.ForceQuery {
		t.path += "?" + u.RawQuery
	}
	u.Scheme = strings.ToLower(u.Scheme)
	u.Fragment, u.RawFragment = "", ""
	t.url = u.String()
	if u.User != nil {
		pass, _ := u.User.Password()
		t.auth = "Basic " + base64.StdEncoding.EncodeToString([]byte(u.User.Username()+":"+pass))
	}
	return t, nil
}

// browserEncode percent-encodes the path and query of a URL as the WHATWG
// URL standard does for special schemes: in the path, controls, space, '"',
// '#' (none is left there), '<', '>', '`', '{', '}' and non-ASCII bytes; in the
// query the same without '`', '{', '}' but with '\”. Existing %XX escapes and
// everything else stay as they are. The fragment, which a WebSocket URL
// never sends, is left alone.
func browserEncode(s string) string {
	_, rest, _ := strings.Cut(s, "://")
	start := len(s) - len(rest) + strings.IndexAny(rest+"/", "/?#")
	if start >= len(s) {
		return s
	}
	end := len(s)
	if i := strings.IndexByte(s[start:], '#'); i >= 0 {
		end = start + i
	}
	var b strings.Builder
	b.WriteString(s[:start])
	inQuery := false
	for i := start; i < end; i++ {
		c := s[i]
		if c == '?' && !inQuery {
			inQuery = true
			b.WriteByte(c)
			continue
		}
		esc := c <= ' ' || c >= 0x7f || strings.IndexByte(`"<>`, c) >= 0
		if inQuery {
			esc = esc || c == '\''
		} else {
			esc = esc || strings.IndexByte("`{}", c) >= 0
		}
		if esc {
			fmt.Fprintf(&b, "%%%02X", c)
		} else {
			b.WriteByte(c)
		}
	}
	b.WriteString(s[end:])
	return b.String()
}

// quoteURL quotes a URL for an error message: its password replaced with
// "xxxxx", as url.URL.Redacted does, and at most 256 bytes shown.
func quoteURL(raw string) string {
	s := redactURL(raw)
	if len(s) > 256 {
		return strconv.Quote(s[:256]) + "..."
	}
	return strconv.Quote(s)
}

// redactURL replaces the password of a URL's userinfo with "xxxxx", even in
// a URL that does not parse.
func redactURL(raw string) string {
	i := strings.Index(raw, "://")
	authStart := 0
	if i >= 0 {
		authStart = i + 3
	}
	authEnd := len(raw)
	if j := strings.IndexAny(raw[authStart:], "/?#"); j >= 0 {
		authEnd = authStart + j
	}
	at := strings.LastIndexByte(raw[authStart:authEnd], '@')
	if at < 0 {
		return raw
	}
	user := raw[authStart : authStart+at]
	name, _, hasPass := strings.Cut(user, ":")
	if !hasPass {
		return raw
	}
	return raw[:authStart] + name + ":xxxxx" + raw[authStart+at:]
}

// redactErr is a url.Parse error without the URL it quotes (which may hold
// a password): its cause only.
func redactErr(err error) string {
	if ue, ok := err.(*url.Error); ok {
		return ue.Err.Error()
	}
	return "malformed"
}
