package interop

import (
	"fmt"
	"os/exec"
	"testing"
)

// debianPython is Debian's interpreter, which sees python3-autobahn and
// python3-twisted (a pyenv python earlier on PATH does not).
const debianPython = "/usr/bin/python3"

// autobahnAvailable reports why Autobahn cannot run, or nil.
func autobahnAvailable() error {
	out, err := exec.Command(debianPython, "-c", "import autobahn, twisted").CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s cannot import autobahn and twisted (apt-get install python3-autobahn python3-twisted): %v %s", debianPython, err, out)
	}
	return nil
}

// TestAutobahn runs the scenarios against Python Autobahn (Twisted), client
// and server: without compression, with its permessage-deflate offer declined
// by wspeer, and with permessage-deflate negotiated.
func TestAutobahn(t *testing.T) {
	requirePeer(t, autobahnAvailable(), "Python Autobahn")
	run := func(t *testing.T, args ...string) *proc {
		return startProc(t, debianPython, append([]string{"-u", "python/peer.py"}, args...)...)
	}
	runScript(t, run, []variant{
		{"plain", false, false},
		{"offer-declined", true, false},
		{"deflate", true, true},
	})
}
