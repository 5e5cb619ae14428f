package wspeer

import (
	"errors"
	"strings"
	"testing"
)

// TestURLBrowserEncoding: path and query are percent-encoded as browsers
// encode them (issue 15 item 9, F9).
func TestURLBrowserEncoding(t *testing.T) {
	tests := []struct{ url, path string }{
		{"ws://h/a b?q=x y", "/a%20b?q=x%20y"},
		{"ws://h/café?q=été", "/caf%C3%A9?q=%C3%A9t%C3%A9"},
		{"ws://h/p?q=\"<'>\"", "/p?q=%22%3C%27%3E%22"},
		{"ws://h/{a}`b'?{c}`", "/%7Ba%7D%60b'?{c}`"},
		{"ws://h/a%2Fb%20c?x=%41", "/a%2Fb%20c?x=%41"},
		{"ws://h?q=a b#frag ment", "/?q=a%20b"},
		{"h/x y", "/x%20y"},
	}
	for _, tt := range tests {
		tg, err := parseURL(tt.url)
		if err != nil {
			t.Errorf("%q: %v", tt.url, err)
			continue
		}
		if tg.path != tt.path {
			t.Errorf("%q: target %q, want %q", tt.url, tg.path, tt.path)
		}
	}
}

// TestURLIDNHost: an internationalized host name is refused with its
// punycode form named (the RFC 3492 sample strings and a common example).
func TestURLIDNHost(t *testing.T) {
	tests := []struct{ url, want string }{
		{"ws://bücher.example/", "xn--bcher-kva.example"},
		{"wss://München.de:8443/x", "xn--mnchen-3ya.de"},
		{"ws://例え.テスト/", "xn--r8jz45g.xn--zckzah"},
	}
	for _, tt := range tests {
		_, err := parseURL(tt.url)
		if !errors.Is(err, ErrInvalidParameter) || !strings.Contains(err.Error(), `"`+tt.want+`"`) {
			t.Errorf("%q: %v; want an error naming %q", tt.url, err, tt.want)
		}
	}
}

// TestURLPasswordRedacted: no error shows the URL's password.
func TestURLPasswordRedacted(t *testing.T) {
	for _, u := range []string{
		"ftp://alice:s3cret@h/", "ws://alice:s3cret@h:99999/", "ws://alice:s3cret@[::1/",
		"ws://alice:s3cret@bücher.example/", "alice:s3cret@h:x", "ws://alice:s3cret@h/%zz",
	} {
		p := NewPeer()
		err := p.ConnectToURL(u, nil)
		if !errors.Is(err, ErrInvalidParameter) {
			t.Errorf("%q: %v", u, err)
			continue
		}
		if strings.Contains(err.Error(), "s3cret") || !strings.Contains(err.Error(), "alice") {
			t.Errorf("%q: error %q shows the password or hides the user", u, err)
		}
	}
	long := "ws://h/" + strings.Repeat("x", 10000) + "%zz"
	if _, err := parseURL(long); err == nil || len(err.Error()) > 600 {
		t.Errorf("long URL: error of %d bytes", len(err.Error()))
	}
}
