// Package wasmassets holds the web files of `wspeer serve`, each once: the
// Go/WebAssembly chat page (index.html, the Go toolchain's wasm_exec.js and
// main.wasm, the examples/wasmchat client built for GOOS=js) and the files
// both chat pages share (style.css, favicon.svg). The JavaScript page's own
// index.html and app.js live in cmd/wspeer/web; serve serves the shared files
// at / from here (embed cannot reach a parent directory, so they cannot live
// in one place and be embedded by both packages otherwise).
//
// The server mounts the wasm page with
//
//	mux.Handle("/wasm/", http.StripPrefix("/wasm", wasmassets.Handler()))
//
// and the page, at /wasm/, connects to /chat on the same host.
//
// main.wasm and wasm_exec.js are generated and committed, so that
// `go run ./cmd/wspeer serve` serves /wasm/ without a build step. After
// changing examples/wasmchat or the library, or when changing Go toolchain
// (wasm_exec.js must match the compiler that built main.wasm), regenerate
// them from anywhere in the module:
//
//	go generate ./internal/wasmassets
//
// The build is deterministic (-trimpath, no VCS stamp, no build ID, fixed
// flags): the same code and Go version give the same bytes, and scripts/test.sh fails when
// the committed files differ from a fresh build (go run
// ./internal/wasmassets/gen.go -check). internal/wasmtest loads the committed
// files in headless Chromium and checks that the page connects and sends.
package wasmassets

//go:generate go run gen.go

import (
	"embed"
	"net/http"
)

//go:embed index.html style.css favicon.svg wasm_exec.js main.wasm
var files embed.FS

// Handler serves the files from the root of its URL space: mount it under a
// prefix with http.StripPrefix. main.wasm is served as application/wasm,
// which WebAssembly.instantiateStreaming requires.
func Handler() http.Handler {
	return http.FileServerFS(files)
}

// Shared returns the names of the files both chat pages use, which a server
// of the JavaScript page serves from Handler next to its own files.
func Shared() []string {
	return []string{"style.css", "favicon.svg"}
}
