package godot

import (
	"encoding/base64"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Parse reads one value in the text form Format writes, which is also the
// form of Godot's var_to_str (Godot 3's var2str): it accepts both versions'
// type names (Quat and Quaternion, PoolIntArray and PackedInt32Array...),
// any spacing and line breaks, ^"path" for NodePath, and
// PackedByteArray("base64"). Numbers with a '.', an exponent, inf or nan are
// floats (float64), others ints (int64). The version only matters for
// RID(), which Godot 3 writes without an id. Errors wrap ErrSyntax and give
// the byte offset.
func Parse(s string, ver Version) (any, error) {
	ps := parser{s: s, v: ver}
	v, err := ps.value(0)
	if err != nil {
		return nil, err
	}
	ps.space()
	if ps.i != len(ps.s) {
		return nil, ps.fail("unexpected text after the value")
	}
	return v, nil
}

type parser struct {
	s string
	i int
	v Version
}

func (ps *parser) fail(msg string) error {
	return &DecodeError{Offset: ps.i, Type: "text", Detail: msg, Err: ErrSyntax}
}

func (ps *parser) space() {
	for ps.i < len(ps.s) && strings.IndexByte(" \t\r\n", ps.s[ps.i]) >= 0 {
		ps.i++
	}
}

// eat skips spaces and consumes c if it is next.
func (ps *parser) eat(c byte) bool {
	ps.space()
	if ps.i < len(ps.s) && ps.s[ps.i] == c {
		ps.i++
		return true
	}
	return false
}

func (ps *parser) expect(c byte) error {
	if !ps.eat(c) {
		return ps.fail("want '" + string(c) + "'")
	}
	return nil
}

func (ps *parser) ident() string {
	ps.space()
	start := ps.i
	for ps.i < len(ps.s) {
		c := ps.s[ps.i]
		if c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || ps.i > start && c >= '0' && c <= '9' {
			ps.i++
			continue
		}
		break
	}
	return ps.s[start:ps.i]
}

func (ps *parser) value(depth int) (any, error) {
	if depth > DefaultMaxDepth {
		return nil, ps.fail("nesting too deep")
	}
	ps.space()
	if ps.i >= len(ps.s) {
		return nil, ps.fail("want a value")
	}
	switch c := ps.s[ps.i]; {
	case c == '"':
		return ps.str()
	case c == '&' || c == '^':
		ps.i++
		s, err := ps.str()
		if c == '&' {
			return StringName(s), err
		}
		return ParseNodePath(s), err
	case c == '[':
		return ps.list(depth)
	case c == '{':
		return ps.dict(depth)
	case c == '-' || c == '+' || c == '.' || c >= '0' && c <= '9':
		return ps.number()
	}
	id := ps.ident()
	switch id {
	case "":
		return nil, ps.fail("want a value")
	case "null":
		return nil, nil
	case "true", "false":
		return id == "true", nil
	case "inf", "nan", "inf_neg":
		ps.i -= len(id)
		return ps.number()
	}
	return ps.construct(id, depth)
}

func (ps *parser) str() (string, error) {
	ps.space()
	if !ps.eat('"') {
		return "", ps.fail("want a string")
	}
	var b strings.Builder
	for ps.i < len(ps.s) {
		c := ps.s[ps.i]
		ps.i++
		switch c {
		case '"':
			return b.String(), nil
		case '\\':
			if err := ps.escape(&b); err != nil {
				return "", err
			}
		default:
			b.WriteByte(c)
		}
	}
	return "", ps.fail("unterminated string")
}

func (ps *parser) escape(b *strings.Builder) error {
	if ps.i >= len(ps.s) {
		return ps.fail("unterminated escape")
	}
	c := ps.s[ps.i]
	ps.i++
	if r, ok := map[byte]string{'n': "\n", 't': "\t", 'r': "\r", 'b': "\b", 'f': "\f", 'a': "\a", 'v': "\v", '"': `"`, '\\': `\`, '\'': "'", '/': "/"}[c]; ok {
		b.WriteString(r)
		return nil
	}
	if c != 'u' && c != 'U' {
		return ps.fail("unknown escape \\" + string(c))
	}
	n := 4
	if c == 'U' {
		n = 6
	}
	if ps.i+n > len(ps.s) {
		return ps.fail("short \\u escape")
	}
	r, err := strconv.ParseUint(ps.s[ps.i:ps.i+n], 16, 32)
	if err != nil || !utf8.ValidRune(rune(r)) || r == 0 {
		return ps.fail("bad \\u escape")
	}
	ps.i += n
	b.WriteRune(rune(r))
	return nil
}

func (ps *parser) number() (any, error) {
	ps.space()
	start := ps.i
	for ps.i < len(ps.s) && strings.IndexByte("+-.0123456789eEinfa_g", ps.s[ps.i]) >= 0 {
		ps.i++
	}
	t := ps.s[start:ps.i]
	switch t {
	case "inf", "+inf":
		return math.Inf(1), nil
	case "-inf", "inf_neg":
		return math.Inf(-1), nil
	case "nan", "-nan":
		return math.NaN(), nil
	}
	if !strings.ContainsAny(t, ".eE") {
		if n, err := strconv.ParseInt(t, 10, 64); err == nil {
			if n == 0 && strings.HasPrefix(t, "-") {
				return math.Copysign(0, -1), nil // keeps a vector's -0
			}
			return n, nil
		}
	}
	f, err := strconv.ParseFloat(t, 64)
	if err != nil {
		ps.i = start
		return nil, ps.fail("bad number " + strconv.Quote(t))
	}
	return f, nil
}

// items parses comma-separated values up to the closing byte.
func (ps *parser) items(end byte, depth int) ([]any, error) {
	items := []any{}
	if ps.eat(end) {
		return items, nil
	}
	for {
		v, err := ps.value(depth + 1)
		if err != nil {
			return nil, err
		}
		items = append(items, v)
		if ps.eat(end) {
			return items, nil
		}
		if err := ps.expect(','); err != nil {
			return nil, err
		}
		if ps.eat(end) { // a trailing comma
			return items, nil
		}
	}
}

func (ps *parser) list(depth int) (any, error) {
	ps.i++
	return ps.items(']', depth)
}

func (ps *parser) dict(depth int) (any, error) {
	ps.i++
	d := NewDictionary()
	if ps.eat('}') {
		return d, nil
	}
	for {
		k, err := ps.value(depth + 1)
		if err != nil {
			return nil, err
		}
		if !ps.eat(':') && !ps.eat('=') {
			return nil, ps.fail("want ':' after a dictionary key")
		}
		v, err := ps.value(depth + 1)
		if err != nil {
			return nil, err
		}
		d.Set(k, v)
		if ps.eat('}') {
			return d, nil
		}
		if err := ps.expect(','); err != nil {
			return nil, err
		}
		if ps.eat('}') {
			return d, nil
		}
	}
}

// ParseNodePath parses a node path in Godot's syntax, e.g. "/root/a:b:c".
func ParseNodePath(s string) NodePath {
	var np NodePath
	path, subs, hasSubs := strings.Cut(s, ":")
	if strings.HasPrefix(path, "/") {
		np.Absolute = true
		path = path[1:]
	}
	if path != "" {
		np.Names = strings.Split(path, "/")
	}
	if hasSubs {
		np.SubNames = strings.Split(subs, ":")
	}
	return np
}

// base64Bytes decodes PackedByteArray("base64") (Godot 4.3's form).
func base64Bytes(s string) ([]byte, error) { return base64.StdEncoding.DecodeString(s) }
