package interop

import (
	"fmt"
	"strings"
)

// The agent protocol. wspeer drives; the foreign side answers.
//
//	cmd:hello      reply text JSON {"protocol": p, "extensions": e, "pings": n}
//	               (n = pings received so far, -1 when the library cannot tell)
//	cmd:ping       send a ping "hi"; reply text "pong:ok" when its pong arrives
//	               ("pong:unsupported" where the API has no ping: browsers)
//	cmd:burst:N    send N text messages burst-0000, burst-0001... at once
//	cmd:close      close with CloseCode and CloseReason
//	anything else  echo back with the same type
//
// When the connection ends, the foreign side reports the close code and reason
// it received (a JSON line {"event":"close","code":c,"reason":r} for scripts).
const (
	CmdHello = "cmd:hello"
	CmdPing  = "cmd:ping"
	CmdBurst = "cmd:burst:"
	CmdClose = "cmd:close"

	PongOK          = "pong:ok"
	PongUnsupported = "pong:unsupported"

	CloseCode   = 4000
	CloseReason = "bye ✓" // multi-byte on purpose

	BurstCount = 1000
	Budget     = 64 << 20 // budgets on every side: the largest message is 16 MiB
)

// Subprotocols. A client offers ClientProtocols; a server supports
// ServerProtocols. wspeer as a server honours the client's order, so it
// selects WantProtocol; foreign servers may prefer their own order, so our
// client offers only one protocol they support.
var (
	ClientProtocols    = []string{"x-unknown", "echo.v2", "echo.v1"}
	OurClientProtocols = []string{"x-unknown", "echo.v2"}
	ServerProtocols    = []string{"echo.v1", "echo.v2"}
)

// WantProtocol is the subprotocol every scenario must negotiate.
const WantProtocol = "echo.v2"

// Scenario is one message sent to the foreign side and expected back.
type Scenario struct {
	Name string
	Text bool
	Data []byte
}

// Scenarios returns the messages every peer echoes, in order: text (ASCII,
// multi-byte, emoji), binary with all 256 byte values, then each size of
// interest around the frame length encodings, up to 16 MiB.
func Scenarios() []Scenario {
	all := make([]byte, 256)
	for i := range all {
		all[i] = byte(i)
	}
	s := []Scenario{
		{"text/ascii", true, []byte("Hello, WebSocket! 0123456789 ~!@#$%^&*()")},
		{"text/multibyte", true, []byte("héllo wörld — ñandú, Ελληνικά, русский, 日本語, 한국어")},
		{"text/emoji", true, []byte("😀🎉👍🏽 👨‍👩‍👧‍👦 🇫🇷 ✓")},
		{"text/empty", true, []byte{}},
		{"binary/all-bytes", false, all},
	}
	for _, n := range []int{0, 125, 126, 65535, 65536, 1 << 20, 16 << 20} {
		s = append(s, Scenario{fmt.Sprintf("binary/%d", n), false, pattern(n)})
	}
	for _, n := range []int{125, 126, 65536, 1 << 20} {
		s = append(s, Scenario{fmt.Sprintf("text/%d", n), true, textPattern(n)})
	}
	return s
}

// pattern returns n bytes cycling through all byte values with a period
// prime to every frame size, so that a shifted or dropped byte is caught.
func pattern(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7 + i/251)
	}
	return b
}

// textPattern returns n bytes of valid UTF-8 mixing 1-, 2-, 3- and 4-byte
// characters (padded with ASCII to exactly n bytes).
func textPattern(n int) []byte {
	const unit = "aé€😀" // 1+2+3+4 bytes
	var sb strings.Builder
	sb.Grow(n)
	for sb.Len()+len(unit) <= n {
		sb.WriteString(unit)
	}
	for sb.Len() < n {
		sb.WriteByte('z')
	}
	return []byte(sb.String())
}

// BurstMessage is the i-th message of a burst.
func BurstMessage(i int) string { return fmt.Sprintf("burst-%04d", i) }
