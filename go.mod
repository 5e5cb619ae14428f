module github.com/wspeer/wspeer

go 1.26
