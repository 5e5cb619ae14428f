package wspeer

import (
	"strings"
	"unicode/utf8"
)

// asciiHost returns host in ASCII form, each non-ASCII label lower-cased and
// punycode-encoded with the "xn--" prefix (RFC 3492; the full IDNA mapping
// of UTS 46 is not applied), and whether host was ASCII already. It names
// the form to use in the error for an internationalized host, which wspeer
// does not convert silently.
func asciiHost(host string) (string, bool) {
	ascii := true
	for i := 0; i < len(host); i++ {
		if host[i] >= utf8.RuneSelf {
			ascii = false
			break
		}
	}
	if ascii {
		return host, true
	}
	labels := strings.Split(strings.ToLower(host), ".")
	for i, l := range labels {
		if enc, ok := punycode(l); ok {
			labels[i] = enc
		}
	}
	return strings.Join(labels, "."), false
}

// punycode encodes one label (RFC 3492 section 6.3); ok is false for an
// ASCII label, returned unchanged, or for invalid UTF-8.
func punycode(label string) (string, bool) {
	const (
		base, tmin, tmax   = 36, 1, 26
		skew, damp         = 38, 700
		initialN, initialB = 128, 72
	)
	runes := []rune(label)
	if len(runes) > 63 {
		return label, false // longer than any DNS label; the encoding is quadratic
	}
	var out []byte
	for _, r := range runes {
		if r == utf8.RuneError {
			return label, false
		}
		if r < 0x80 {
			out = append(out, byte(r))
		}
	}
	b := len(out)
	if b == len(runes) {
		return label, false
	}
	if b > 0 {
		out = append(out, '-')
	}
	digit := func(d int) byte {
		if d < 26 {
			return byte('a' + d)
		}
		return byte('0' + d - 26)
	}
	adapt := func(delta, points int, first bool) int {
		if first {
			delta /= damp
		} else {
			delta /= 2
		}
		delta += delta / points
		k := 0
		for delta > ((base-tmin)*tmax)/2 {
			delta /= base - tmin
			k += base
		}
		return k + (base-tmin+1)*delta/(delta+skew)
	}
	n, delta, bias, h := initialN, 0, initialB, b
	for h < len(runes) {
		m := int(^uint(0) >> 1)
		for _, r := range runes {
			if int(r) >= n && int(r) < m {
				m = int(r)
			}
		}
		delta += (m - n) * (h + 1)
		n = m
		for _, r := range runes {
			if int(r) < n {
				delta++
			}
			if int(r) != n {
				continue
			}
			q := delta
			for k := base; ; k += base {
				t := min(max(k-bias, tmin), tmax)
				if q < t {
					break
				}
				out = append(out, digit(t+(q-t)%(base-t)))
				q = (q - t) / (base - t)
			}
			out = append(out, digit(q))
			bias = adapt(delta, h+1, h == b)
			delta = 0
			h++
		}
		delta++
		n++
	}
	return "xn--" + string(out), true
}
