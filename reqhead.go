//go:build !js

package wspeer

import (
	"bytes"
	"slices"
	"strings"
)

// handshakeHeaders are the request headers a kept head always has, so that
// it still parses as a WebSocket request for RequestHeader.
var handshakeHeaders = [...]string{"host", "upgrade", "connection", "sec-websocket-key", "sec-websocket-version"}

// keptHead returns the part of a request head a peer keeps under
// KeepRequestHeaders: all of it for a nil list (head itself, already a copy
// of its own), else a new, exactly sized head with the request line, the
// handshake's own headers and the listed ones. A folded continuation line
// goes with the header it continues.
func keptHead(head []byte, keep []string) []byte {
	if keep == nil || head == nil {
		return head
	}
	line, rest, _ := bytes.Cut(head, []byte("\n"))
	out := make([]byte, 0, 256)
	out = append(out, line...)
	out = append(out, '\n')
	kept := false
	for len(rest) > 0 {
		line, rest, _ = bytes.Cut(rest, []byte("\n"))
		if len(bytes.TrimSuffix(line, []byte("\r"))) == 0 {
			break
		}
		if line[0] != ' ' && line[0] != '\t' {
			name, _, _ := bytes.Cut(line, []byte(":"))
			n := strings.ToLower(string(name))
			kept = slices.Contains(handshakeHeaders[:], n) || slices.ContainsFunc(keep, func(k string) bool { return strings.EqualFold(k, n) })
		}
		if kept {
			out = append(out, line...)
			out = append(out, '\n')
		}
	}
	out = append(out, "\r\n"...)
	return slices.Clip(out)
}
