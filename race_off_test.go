//go:build !race

package wspeer

// raceEnabled: see race_on_test.go.
const raceEnabled = false
