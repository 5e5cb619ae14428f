// Package xconnect turns on net/http's server side of HTTP/2 extended
// CONNECT (RFC 8441), which WebSocket over HTTP/2 needs, for the program
// that imports it:
//
//	import _ "github.com/wspeer/wspeer/xconnect"
//
// Go 1.24 to 1.26 implement it behind GODEBUG=http2xconnect=1, read from the
// environment once, when net/http is initialized; a //go:debug directive
// does not reach that setting. This package's init runs before net/http's
// (Go initializes the packages whose imports are ready in import-path order,
// and this one imports only os and strings) and adds http2xconnect=1 to the
// GODEBUG environment variable, unless GODEBUG already says http2xconnect=
// something: the user's choice wins. Child processes inherit the variable.
//
// Setting GODEBUG=http2xconnect=1 in the environment instead does the same.
// Once net/http offers a setting for it (a proposed
// http.HTTP2Config.EnableConnectProtocol), set that on the server and drop
// this import.
package xconnect

import (
	"os"
	"strings"
)

// Setting is the GODEBUG setting this package adds.
const Setting = "http2xconnect=1"

func init() {
	v := os.Getenv("GODEBUG")
	if strings.Contains(v, "http2xconnect=") {
		return
	}
	if v != "" {
		v += ","
	}
	_ = os.Setenv("GODEBUG", v+Setting)
}
