// Package wasmtest runs the browser build of wspeer (GOOS=js GOARCH=wasm) in
// headless Chromium against the native build. Its test builds the root
// package's tests for js/wasm, serves them with Go's wasm_exec.js on a
// loopback HTTP server next to an in-process wspeer echo server, starts
// Chromium on the page and checks what the tests and the server report.
//
// Run it with go test ./internal/wasmtest; it skips without Chromium unless
// CI=true, where a missing browser fails. WASMTEST_RUN passes a -test.run
// pattern to the browser tests.
package wasmtest
