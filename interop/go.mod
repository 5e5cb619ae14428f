module github.com/wspeer/wspeer/interop

go 1.26

require (
	github.com/coder/websocket v1.8.15
	github.com/gorilla/websocket v1.5.3
	github.com/wspeer/wspeer v0.0.0
)

replace github.com/wspeer/wspeer => ../
