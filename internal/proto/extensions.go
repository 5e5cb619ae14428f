package proto

import (
	"fmt"
	"strings"
)

// Extension is one offer or answer of Sec-WebSocket-Extensions (RFC 6455 section 9.1
// grammar), such as "permessage-deflate; client_max_window_bits".
type Extension struct {
	Name   string
	Params []ExtensionParam
}

// ExtensionParam is one parameter of an Extension. Quoted-string values are unquoted,
// so "x=\"10\"" and "x=10" parse the same; HasValue tells "x" from "x=" forms apart
// ("x=" alone is a syntax error).
type ExtensionParam struct {
	Name, Value string
	HasValue    bool
}

// ParseExtensions parses all values of the header (several header lines, each a comma
// list). Empty list elements are skipped, as RFC 9110 section 5.6.1 asks of recipients.
// A syntax error is returned (wrapping ErrBadExtension), not ignored: guessing what a
// malformed offer meant could enable an extension with parameters the peer did not
// intend. Quoted values must unquote to a token, as RFC 6455 section 9.1 requires.
func ParseExtensions(values []string) ([]Extension, error) {
	var out []Extension
	for _, v := range values {
		p := extParser{s: v}
		for {
			p.skipOWS()
			if p.eof() {
				break
			}
			if p.peek() == ',' {
				p.i++
				continue
			}
			e, err := p.extension()
			if err != nil {
				return nil, err
			}
			out = append(out, e)
			p.skipOWS()
			if p.eof() {
				break
			}
			if p.peek() != ',' {
				return nil, p.errorf("expected ',' or ';'")
			}
			p.i++
		}
	}
	return out, nil
}

// String formats e back into header syntax, quoting any value that is not a token.
func (e Extension) String() string {
	var b strings.Builder
	b.WriteString(e.Name)
	for _, p := range e.Params {
		b.WriteString("; ")
		b.WriteString(p.Name)
		if !p.HasValue {
			continue
		}
		b.WriteByte('=')
		if hsIsToken(p.Value) {
			b.WriteString(p.Value)
			continue
		}
		b.WriteByte('"')
		for i := 0; i < len(p.Value); i++ {
			if c := p.Value[i]; c == '"' || c == '\\' {
				b.WriteByte('\\')
			}
			b.WriteByte(p.Value[i])
		}
		b.WriteByte('"')
	}
	return b.String()
}

// FormatExtensions joins extensions into one Sec-WebSocket-Extensions value.
func FormatExtensions(exts []Extension) string {
	s := make([]string, len(exts))
	for i, e := range exts {
		s[i] = e.String()
	}
	return strings.Join(s, ", ")
}

// extParser is a cursor over one header value.
type extParser struct {
	s string
	i int
}

func (p *extParser) eof() bool  { return p.i >= len(p.s) }
func (p *extParser) peek() byte { return p.s[p.i] }

func (p *extParser) skipOWS() {
	for !p.eof() && (p.peek() == ' ' || p.peek() == '\t') {
		p.i++
	}
}

func (p *extParser) errorf(format string, args ...any) error {
	// Only a window of the value around the offset is quoted: the value may
	// hold kilobytes of whatever a peer sent, which would only flood logs.
	from := max(0, p.i-16)
	return fmt.Errorf("%w: %s at offset %d of %d bytes, near %s", ErrBadExtension, fmt.Sprintf(format, args...), p.i, len(p.s), hsQuote(p.s[from:]))
}

func (p *extParser) token() string {
	start := p.i
	for !p.eof() && hsTchar[p.peek()] {
		p.i++
	}
	return p.s[start:p.i]
}

// extension parses extension-token *( OWS ";" OWS extension-param ).
func (p *extParser) extension() (Extension, error) {
	e := Extension{Name: p.token()}
	if e.Name == "" {
		return e, p.errorf("expected extension name")
	}
	for {
		p.skipOWS()
		if p.eof() || p.peek() != ';' {
			return e, nil
		}
		p.i++
		p.skipOWS()
		param := ExtensionParam{Name: p.token()}
		if param.Name == "" {
			return e, p.errorf("expected parameter name")
		}
		p.skipOWS()
		if !p.eof() && p.peek() == '=' {
			p.i++
			p.skipOWS()
			v, err := p.value()
			if err != nil {
				return e, err
			}
			param.Value, param.HasValue = v, true
		}
		e.Params = append(e.Params, param)
	}
}

// value parses token / quoted-string; the unquoted value must be a token.
func (p *extParser) value() (string, error) {
	if p.eof() || p.peek() != '"' {
		if v := p.token(); v != "" {
			return v, nil
		}
		return "", p.errorf("expected parameter value")
	}
	p.i++
	var b strings.Builder
	for {
		if p.eof() {
			return "", p.errorf("unterminated quoted string")
		}
		c := p.peek()
		p.i++
		if c == '"' {
			break
		}
		if c == '\\' {
			if p.eof() {
				return "", p.errorf("unterminated quoted string")
			}
			c = p.peek()
			p.i++
		}
		b.WriteByte(c)
	}
	if v := b.String(); hsIsToken(v) {
		return v, nil
	}
	return "", p.errorf("quoted value is not a token")
}

// hsTchar marks the token characters of RFC 9110 section 5.6.2.
var hsTchar = func() (t [256]bool) {
	for c := '0'; c <= '9'; c++ {
		t[c] = true
	}
	for c := 'a'; c <= 'z'; c++ {
		t[c], t[c-'a'+'A'] = true, true
	}
	for _, c := range "!#$%&'*+-.^_`|~" {
		t[c] = true
	}
	return t
}()

func hsIsToken(s string) bool {
	for i := 0; i < len(s); i++ {
		if !hsTchar[s[i]] {
			return false
		}
	}
	return s != ""
}

// hsValidValue allows any byte in a field value except control characters other than
// HTAB; obs-text (non-ASCII) is allowed as RFC 9110 section 5.5 does.
func hsValidValue(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < ' ' && c != '\t' || c == 0x7f {
			return false
		}
	}
	return true
}

// hsVisibleASCII reports whether s is made only of VCHAR (0x21-0x7e).
func hsVisibleASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] >= 0x7f {
			return false
		}
	}
	return true
}

func hsDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}
