package interop

import (
	"fmt"
	"os"
	"os/exec"
	"testing"
)

// nodeAvailable reports why Node's ws cannot run, or nil.
func nodeAvailable() error {
	if _, err := exec.LookPath("node"); err != nil {
		return err
	}
	if _, err := os.Stat("node_modules/ws/package.json"); err != nil {
		return fmt.Errorf("ws is not installed (run npm ci in interop/): %w", err)
	}
	return nil
}

// TestNodeWS runs the scenarios against Node's ws (version pinned in
// package.json) with its permessage-deflate offer on and off, against wspeer
// with compression off (it must decline ws's offer and work uncompressed) and
// on (negotiated only when both sides want it).
func TestNodeWS(t *testing.T) {
	requirePeer(t, nodeAvailable(), "Node.js with ws")
	run := func(t *testing.T, args ...string) *proc {
		return startProc(t, "node", append([]string{"node/peer.js"}, args...)...)
	}
	runScript(t, run, []variant{
		{"ws-deflate-on/wspeer-plain", true, false},
		{"ws-deflate-off/wspeer-plain", false, false},
		{"ws-deflate-on/wspeer-deflate", true, true},
		{"ws-deflate-off/wspeer-deflate", false, true},
	})
}

// runScript runs both directions of every variant of a scripted peer.
func runScript(t *testing.T, run func(t *testing.T, args ...string) *proc, variants []variant) {
	for _, v := range variants {
		server, client := scriptSides(v, run)
		t.Run(v.name+"/OurServer", func(t *testing.T) { runSide(t, server) })
		t.Run(v.name+"/OurClient", func(t *testing.T) { runSide(t, client) })
	}
}
