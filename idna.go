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

// The parameters of punycode (RFC 3492 section 5).
const (
	pcBase, pcTmin, pcTmax = 36, 1, 26
	pcSkew, pcDamp         = 38, 700
	pcInitialN, pcInitialB = 128, 72
)

// pcDigit is the basic code point of a digit value (0-35).
func pcDigit(d int) byte {
	if d < 26 {
		return byte('a' + d)
	}
	return byte('0' + d - 26)
}

// pcAdapt is the bias adaptation function (RFC 3492 section 6.1).
func pcAdapt(delta, points int, first bool) int {
	if first {
		delta /= pcDamp
	} else {
		delta /= 2
	}
	delta += delta / points
	k := 0
	for delta > ((pcBase-pcTmin)*pcTmax)/2 {
		delta /= pcBase - pcTmin
		k += pcBase
	}
	return k + (pcBase-pcTmin+1)*delta/(delta+pcSkew)
}

// punycode encodes one label (RFC 3492 section 6.3); ok is false for an
// ASCII label, returned unchanged, or for invalid UTF-8.
func punycode(label string) (string, bool) {
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
	n, delta, bias, h := pcInitialN, 0, pcInitialB, b
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
			for k := pcBase; ; k += pcBase {
				t := min(max(k-bias, pcTmin), pcTmax)
				if q < t {
					break
				}
				out = append(out, pcDigit(t+(q-t)%(pcBase-t)))
				q = (q - t) / (pcBase - t)
			}
			out = append(out, pcDigit(q))
			bias = pcAdapt(delta, h+1, h == b)
			delta = 0
			h++
		}
		delta++
		n++
	}
	return "xn--" + string(out), true
}
