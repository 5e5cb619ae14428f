module github.com/wspeer/wspeer/h2client

go 1.26.0

require github.com/wspeer/wspeer v0.0.0

require (
	golang.org/x/net v0.63.0
	golang.org/x/text v0.44.0 // indirect
)

replace github.com/wspeer/wspeer => ../
