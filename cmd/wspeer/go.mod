module github.com/wspeer/wspeer/cmd/wspeer

go 1.26

require (
	github.com/wspeer/wspeer v0.0.0
	github.com/wspeer/wspeer/natsbackplane v0.0.0
)

replace (
	github.com/wspeer/wspeer => ../..
	github.com/wspeer/wspeer/natsbackplane => ../../natsbackplane
)
