// Package interop tests wspeer against other WebSocket implementations, in
// both directions (wspeer server with their client, wspeer client with their
// server): gorilla/websocket, coder/websocket, Node's ws, Python Autobahn,
// headless Chromium and headless Godot 3.2 (Debian godot3-server). It is its own module so that the main module keeps no
// dependency outside the standard library.
//
// Every foreign side runs the same small agent: it echoes each message back
// with the same type, except text commands starting with "cmd:" (see
// scenario.go). Peers whose runtime is missing are skipped, or fail the run
// when CI=true.
package interop
