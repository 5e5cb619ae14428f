// Package wasmassets serves the Go/WebAssembly chat page of `wspeer serve`:
// index.html, style.css, the Go toolchain's wasm_exec.js and main.wasm, the
// prebuilt examples/wasmchat client. Nothing is built at run time; the files
// are committed and embedded.
//
// The server mounts it with
//
//	mux.Handle("/wasm/", http.StripPrefix("/wasm", wasmassets.Handler()))
//
// and the page, at /wasm/, connects to /chat on the same host.
//
// After changing examples/wasmchat or the wspeer browser build, or when
// changing Go toolchain (wasm_exec.js must match the compiler that built
// main.wasm), rebuild from the repository root:
//
//	GOOS=js GOARCH=wasm go build -trimpath -ldflags="-s -w" -o internal/wasmassets/main.wasm ./examples/wasmchat
//	cp "$(go env GOROOT)/lib/wasm/wasm_exec.js" internal/wasmassets/
//
// internal/wasmtest loads the committed files in headless Chromium and checks
// that the page connects and sends.
package wasmassets

import (
	"embed"
	"net/http"
)

//go:embed index.html style.css wasm_exec.js main.wasm
var files embed.FS

// Handler serves the page's files from the root of its URL space: mount it
// under a prefix with http.StripPrefix. main.wasm is served as
// application/wasm, which WebAssembly.instantiateStreaming requires.
func Handler() http.Handler {
	return http.FileServerFS(files)
}
