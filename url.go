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
	host   string // without brackets
	port   int
	path   string // request-target: path and query
	auth   string // Authorization header value from userinfo, or ""
	url    string // the URL without its fragment, scheme in lower case: what a browser opens
}

// parseURL parses a client URL the way a browser would, refusing what cannot
// be a WebSocket endpoint. Like Godot, a URL without a scheme means ws://.
func parseURL(raw string) (*target, error) {
	bad := func(why string) (*target, error) {
		return nil, fmt.Errorf("%w: URL %q: %s", ErrInvalidParameter, raw, why)
	}
	if raw == "" {
		return bad("empty")
	}
	s := raw
	if !strings.Contains(s, "://") {
		s = "ws://" + s
	}
	u, err := url.Parse(s)
	if err != nil {
		return bad(err.Error())
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
