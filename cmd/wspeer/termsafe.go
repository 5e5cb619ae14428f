package main

import (
	"fmt"
	"io"
	"os"
	"unicode/utf8"
)

// isTerminal reports whether f is a terminal (a character device).
func isTerminal(f *os.File) bool {
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// escapeControls returns s with the characters a terminal would act on
// shown as escapes: C0 controls other than newline and tab (ESC, CR, BEL,
// backspace...), DEL and the C1 controls U+0080-U+009F (CSI among them) as
// \xHH or \u00HH, and bytes that are not UTF-8 as \xHH. A server's text
// cannot then move the cursor, change the title or rewrite the screen.
func escapeControls(s []byte) []byte {
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRune(s[i:])
		switch {
		case r == utf8.RuneError && n <= 1:
			out = fmt.Appendf(out, `\x%02x`, s[i])
		case r == '\n' || r == '\t':
			out = append(out, byte(r))
		case r < 0x20 || r == 0x7f:
			out = fmt.Appendf(out, `\x%02x`, r)
		case r >= 0x80 && r <= 0x9f:
			out = fmt.Appendf(out, `\u%04x`, r)
		default:
			out = append(out, s[i:i+n]...)
		}
		i += n
	}
	return out
}

// escWriter escapes what it writes with escapeControls. A UTF-8 sequence
// cut by the end of one Write waits for the next.
type escWriter struct {
	w     io.Writer
	carry []byte
}

// Write escapes p (after any carried bytes) and writes the result.
func (e *escWriter) Write(p []byte) (int, error) {
	b := append(e.carry, p...)
	keep := 0
	for k := 1; k <= 3 && k <= len(b); k++ {
		// An incomplete sequence at the end: a lead byte needing more.
		c := b[len(b)-k]
		if c < 0x80 {
			break
		}
		if c >= 0xc0 {
			if !utf8.FullRune(b[len(b)-k:]) {
				keep = k
			}
			break
		}
	}
	e.carry = append([]byte(nil), b[len(b)-keep:]...)
	if _, err := e.w.Write(escapeControls(b[:len(b)-keep])); err != nil {
		return 0, err
	}
	return len(p), nil
}

// terminalSafe returns w, escaping controls unless raw or w is not a
// terminal: piped output stays byte for byte what the server sent.
func terminalSafe(w *os.File, raw bool) io.Writer {
	if raw || !isTerminal(w) {
		return w
	}
	return &escWriter{w: w}
}

// safeText is s escaped like terminalSafe's writer when escape is true.
func safeText(s string, escape bool) string {
	if !escape {
		return s
	}
	return string(escapeControls([]byte(s)))
}
