package main

import (
	"bufio"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/wspeer/wspeer"
)

// hexLimit is how many bytes of a binary message connect prints as hex.
const hexLimit = 256

// Exit statuses of connect beyond exitOK, exitFailure and exitUsage.
const (
	// exitCloseCode: the server closed cleanly, but with a code other than
	// 1000 (or no code).
	exitCloseCode = 3
)

// defaultLinger is how long connect waits, after the end of stdin, for the
// server to stay quiet before it closes: replies to the last lines still
// arrive, also from servers that drop them once they see a close.
const defaultLinger = time.Second

const connectHelp = `An interactive client in the style of websocat. Each line read from stdin is
sent as one message (text, or binary with -binary; the newline is not sent),
and each message received is printed to stdout: a text message as is, on its
own line; a binary message as "[binary N bytes] HEX" with the hex of its first
256 bytes ("..." marks the rest). On a terminal, control characters in text
and in the close reason (ESC, CR, C1 controls...) are shown as \xHH or
\u00HH escapes, so that a server cannot drive the terminal; piped output,
or any output with -raw, is the server's text byte for byte. "connected to URL" goes to stderr when the
connection opens, with the subprotocol and whether permessage-deflate was
negotiated. A URL without a scheme gets ws://, with a note on stderr.

At the end of stdin, connect waits until nothing has arrived for -linger (and
everything it sent has been written), then closes with 1000: replies to the
last lines are not lost. The first SIGINT/SIGTERM closes at once. A line that
is not UTF-8 (without -binary) is reported and skipped; a line longer than
-max-message is reported, the connection is closed with 1009 and the exit
status is 1.

With -echo, stdin is not read: every message received is sent straight back
with its type instead of being printed (a test client).

When the connection ends, the last line on stderr is "closed CODE REASON"
(CODE -1: no closing handshake). When the server refuses the opening
handshake, its HTTP status and the text of its answer are printed.
Exit status: 0 after a clean closing handshake that connect started (end of
stdin, signal) or that the server started with 1000 or no code; 3 when the
server closed cleanly with another code (1001 going away, 1008, 4000...);
1 when there was no closing handshake (connect, TLS or handshake failure,
connection lost, timeout) or an input line was too long; 2 for a bad command
line.`

// connectOptions are connect's flags.
type connectOptions struct {
	headers    stringList
	protocols  protocolList
	insecure   *bool
	binary     *bool
	ping       *time.Duration
	linger     *time.Duration
	echo       *bool
	maxMessage byteSize
	compress   *bool
	raw        *bool
	gv         *godotVar
	h2         *h2Dialer // -http2 (connect_h2.go)
}

func runConnect(args []string) int {
	fs := newFlagSet("connect", "URL", connectHelp,
		"echo hello | wspeer connect ws://127.0.0.1:8080/echo -protocol chat -H 'Authorization: Bearer x'")
	var o connectOptions
	fs.Var(&o.headers, "H", "an extra request header `'Name: value'` (repeatable)")
	fs.Var(&o.protocols, "protocol", "a subprotocol `name` to offer, in order of preference (repeatable)")
	o.insecure = fs.Bool("insecure", false, "do not verify the server's TLS certificate (wss://)")
	o.binary = fs.Bool("binary", false, "send stdin lines as binary messages")
	o.ping = fs.Duration("ping", 0, "send a ping at this interval and fail without a pong (0: off)")
	o.linger = fs.Duration("linger", defaultLinger, "after the end of stdin, close once the server has been quiet this long (0: at once)")
	o.echo = fs.Bool("echo", false, "send every message received back with its type instead of printing it")
	o.maxMessage = byteSize(defaultMaxMessage)
	fs.Var(&o.maxMessage, "max-message", "inbound and outbound buffer `size` (largest message, longest line)")
	o.compress = fs.Bool("compress", false, "offer permessage-deflate compression (RFC 7692)")
	o.raw = fs.Bool("raw", false, "print received text and close reasons as is, even to a terminal")
	http2 := fs.Bool("http2", false, "wss:// over HTTP/2 (RFC 8441) when the server offers it, else HTTP/1.1")
	o.gv = addGodotVarFlag(fs.FlagSet, "each one received prints in var_to_str text form, and each stdin line in that form is sent with put_var")
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	if *http2 {
		o.h2 = &h2Dialer{}
	}
	if err := o.gv.check(); err != nil {
		code, _ := fs.usageError("%v", err)
		return code
	}
	if *o.ping < 0 || *o.linger < 0 {
		code, _ := fs.usageError("-ping and -linger must not be negative")
		return code
	}
	p, err := o.newPeer()
	if err != nil {
		code, _ := fs.usageError("%v", err)
		return code
	}
	url := withScheme(fs, fs.Arg(0))
	if err := p.ConnectToURL(url, clientTLS(*o.insecure)); err != nil {
		if errors.Is(err, wspeer.ErrInvalidParameter) {
			return fs.fail(exitUsage, "%v", err)
		}
		return fs.fail(exitFailure, "%v", err)
	}
	s := &session{fs: fs, o: &o, p: p, url: url, opened: make(chan struct{}), done: make(chan struct{})}
	return s.run()
}

// newPeer returns a client peer with the flags' budgets and headers.
func (o *connectOptions) newPeer() (*wspeer.Peer, error) {
	p := wspeer.NewPeer()
	p.InboundBufferSize = int(o.maxMessage)
	p.OutboundBufferSize = int(o.maxMessage)
	p.MaxQueuedPackets = defaultMaxPackets
	p.SupportedProtocols = o.protocols.stringList
	p.HeartbeatInterval = *o.ping
	p.Compression = *o.compress
	p.Variant = o.gv.options()
	if o.h2 != nil {
		p.StreamDialer = o.h2
	}
	for _, h := range o.headers {
		name, value, ok := strings.Cut(h, ":")
		if !ok || strings.TrimSpace(name) == "" {
			return nil, fmt.Errorf("-H %q: want 'Name: value'", h)
		}
		if p.HandshakeHeaders == nil {
			p.HandshakeHeaders = http.Header{}
		}
		p.HandshakeHeaders.Add(strings.TrimSpace(name), strings.TrimSpace(value))
	}
	return p, nil
}

// withScheme returns raw with ws:// in front when it has no scheme, saying
// so on stderr (the library would assume ws:// silently).
func withScheme(fs *cmdFlags, raw string) string {
	if raw == "" || strings.Contains(raw, "://") {
		return raw
	}
	fmt.Fprintf(os.Stderr, "wspeer %s: %q has no scheme, using ws://%s\n", fs.name, raw, raw)
	return "ws://" + raw
}

// session is one run of connect: the connection loop in run's goroutine, and
// stdin's lines sent from another.
type session struct {
	fs     *cmdFlags
	o      *connectOptions
	p      *wspeer.Peer
	url    string
	opened chan struct{} // closed once the connection is open
	done   chan struct{} // closed once the connection loop has ended

	lastRecv    atomic.Int64 // UnixNano of the last message received
	weClosed    atomic.Bool  // the close came from connect, not the server
	inputFailed atomic.Bool  // a line could not be sent: exit status 1
}

// close starts the closing handshake on connect's behalf.
func (s *session) close(code int, reason string) {
	s.weClosed.Store(true)
	s.p.Close(code, reason)
}

func (s *session) run() int {
	ctx, stop := signalContext()
	defer stop()
	var wg sync.WaitGroup
	defer wg.Wait()
	wg.Add(1)
	go func() {
		defer wg.Done()
		select {
		case <-ctx.Done():
			s.close(1000, "interrupted")
		case <-s.done:
		}
	}()
	if !*s.o.echo {
		go s.sendLines(os.Stdin) // not waited for: it may be blocked reading stdin
	}
	out := bufio.NewWriterSize(terminalSafe(os.Stdout, *s.o.raw), 64<<10)
	var e echoer
	wasOpen := false
	// The peer's own timeouts (dial, handshake, heartbeat, close) bound this
	// loop, so it needs no context of its own.
	for s.p.Wait(context.Background()) == nil {
		s.p.Poll()
		if !wasOpen && s.p.ReadyState() == wspeer.StateOpen {
			wasOpen = true
			fmt.Fprintln(os.Stderr, s.openedLine())
			close(s.opened)
		}
		s.drain(out, &e)
	}
	s.drain(out, &e)
	close(s.done)
	return s.status()
}

// drain prints (or with -echo, sends back) the messages received.
func (s *session) drain(out *bufio.Writer, e *echoer) {
	if *s.o.echo {
		e.pump(s.p)
		return
	}
	for {
		msg, err := s.p.GetPacket()
		if err != nil {
			break
		}
		s.lastRecv.Store(time.Now().UnixNano())
		s.o.gv.print(out, msg, s.p.WasStringPacket())
	}
	out.Flush()
}

// openedLine is "connected to URL", with the subprotocol and compression.
func (s *session) openedLine() string {
	var notes []string
	if proto := s.p.SelectedProtocol(); proto != "" {
		notes = append(notes, "protocol "+proto)
	}
	if n := s.o.h2.note(); n != "" {
		notes = append(notes, n)
	}
	deflate := strings.Contains(s.p.ResponseHeader().Get("Sec-WebSocket-Extensions"), "permessage-deflate")
	switch {
	case deflate:
		notes = append(notes, "permessage-deflate")
	case *s.o.compress:
		notes = append(notes, "compression declined by the server")
	}
	line := "connected to " + s.url
	if len(notes) > 0 {
		line += " (" + strings.Join(notes, ", ") + ")"
	}
	return line
}

// status reports how the connection ended on stderr and returns the exit
// status (see connectHelp).
func (s *session) status() int {
	code, reason, cerr := s.p.CloseCode(), s.p.CloseReason(), s.p.CloseError()
	status := exitOK
	switch {
	case cerr != nil || code == -1:
		status = exitFailure
		if cerr != nil {
			msg := errText(cerr)
			if why := refusal(s, cerr); why != "" {
				msg += ": " + why
			}
			fmt.Fprintf(os.Stderr, "wspeer connect: %s\n", msg)
		}
	case s.inputFailed.Load():
		status = exitFailure
	case !s.weClosed.Load() && code != 1000 && code != 1005:
		status = exitCloseCode
	}
	reason = safeText(reason, !*s.o.raw && isTerminal(os.Stderr))
	fmt.Fprintln(os.Stderr, strings.TrimSpace(fmt.Sprintf("closed %d %s", code, reason)))
	return status
}

// sendLines sends each line of in as a message once the connection is open.
// At the end of in it lingers, then closes with 1000. A full outbound buffer
// makes it wait and retry: stdin is simply read more slowly.
func (s *session) sendLines(in io.Reader) {
	maxLine := int(s.o.maxMessage)
	sc := bufio.NewScanner(in)
	// The scanner's limit is the larger of the two: the first must not exceed
	// the second, or lines between them pass.
	sc.Buffer(make([]byte, 0, min(64<<10, maxLine+1)), maxLine+1)
	select {
	case <-s.opened:
	case <-s.done:
		return
	}
	n := 0
	for sc.Scan() {
		n++
		if !s.sendLine(n, sc.Bytes()) {
			return
		}
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			s.lineTooLong(fmt.Sprintf("line %d is longer", n+1))
		} else {
			s.inputFailed.Store(true)
			fmt.Fprintln(os.Stderr, "wspeer connect: reading stdin:", err)
			s.close(1000, "")
		}
		return
	}
	s.lingerThenClose()
}

// sendLine sends line number n, retrying while the outbound buffer is full.
// It reports whether to go on with the next line.
func (s *session) sendLine(n int, line []byte) bool {
	mode := wspeer.WriteModeText
	if *s.o.binary {
		mode = wspeer.WriteModeBinary
	}
	send := func() error { return s.p.Send(line, mode) }
	if s.o.gv.version != 0 {
		v, err := s.o.gv.parse(line)
		if err != nil {
			fmt.Fprintf(os.Stderr, "wspeer connect: line %d not sent: %v\n", n, err)
			return true
		}
		send = func() error { return s.p.PutVar(v) }
	}
	for {
		err := send()
		switch {
		case errors.Is(err, wspeer.ErrBufferFull):
			select {
			case <-time.After(2 * time.Millisecond):
				continue
			case <-s.done:
				return false
			}
		case errors.Is(err, wspeer.ErrTooLarge):
			s.lineTooLong(fmt.Sprintf("line %d (%d bytes) is longer", n, len(line)))
			return false
		case errors.Is(err, wspeer.ErrInvalidUTF8):
			fmt.Fprintf(os.Stderr, "wspeer connect: line %d is not UTF-8, not sent (use -binary)\n", n)
			return true
		case err != nil:
			return false // not open any more: the connection loop reports why
		}
		return true
	}
}

// lineTooLong reports a line that can never be sent and closes with 1009.
func (s *session) lineTooLong(what string) {
	s.inputFailed.Store(true)
	fmt.Fprintf(os.Stderr, "wspeer connect: %s than -max-message %s: closing\n", what, s.o.maxMessage.String())
	s.close(1009, "input line too long")
}

// lingerThenClose waits until everything queued has been written and no
// message has arrived for -linger, then closes with 1000. It returns early
// when the connection ends meanwhile (the server closed).
func (s *session) lingerThenClose() {
	linger := *s.o.linger
	tick := time.NewTicker(min(max(linger/10, time.Millisecond), 50*time.Millisecond))
	defer tick.Stop()
	quietSince := time.Now()
	for linger > 0 {
		now := time.Now()
		if s.p.CurrentOutboundBufferedAmount() > 0 {
			quietSince = now
		}
		if last := time.Unix(0, s.lastRecv.Load()); last.After(quietSince) {
			quietSince = last
		}
		if now.Sub(quietSince) >= linger {
			break
		}
		select {
		case <-tick.C:
		case <-s.done:
			return
		}
	}
	s.close(1000, "")
}

// printMessage writes a text message as a line, a binary one as a hex summary.
func printMessage(w *bufio.Writer, msg []byte, text bool) {
	if text {
		w.Write(msg)
		w.WriteByte('\n')
		return
	}
	fmt.Fprintf(w, "[binary %d bytes] ", len(msg))
	shown := msg
	if len(shown) > hexLimit {
		shown = shown[:hexLimit]
	}
	hex.NewEncoder(w).Write(shown)
	if len(shown) < len(msg) {
		w.WriteString("...")
	}
	w.WriteByte('\n')
}
