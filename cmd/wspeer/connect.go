package main

import (
	"bufio"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/wspeer/wspeer"
)

// hexLimit is how many bytes of a binary message connect prints as hex.
const hexLimit = 256

func runConnect(args []string) int {
	fs := newFlagSet("connect", "URL [-H 'Name: value']... [-protocol P]... [-insecure] [-binary] [-ping D] [-echo]",
		`An interactive client in the style of websocat. Each line read from stdin is
sent as one message (text, or binary with -binary; the newline is not sent),
and each message received is printed to stdout: a text message as is, on its
own line; a binary message as "[binary N bytes] HEX" with the hex of its first
256 bytes ("..." marks the rest). "connected to URL" goes to stderr when the
connection opens. End of stdin closes the connection with 1000; so does the
first SIGINT/SIGTERM.

With -echo, stdin is not read: every message received is sent straight back
with its type instead of being printed (a test client).

When the connection ends, the last line on stderr is "closed CODE REASON"
(CODE -1: no closing handshake). The exit status is 0 after a clean closing
handshake, 1 otherwise, with the reason printed on stderr before that line.`,
		"echo hello | wspeer connect ws://127.0.0.1:8080/echo -protocol chat -H 'Authorization: Bearer x'")
	var headers stringList
	var protocols protocolList
	fs.Var(&headers, "H", "an extra request header `'Name: value'` (repeatable)")
	fs.Var(&protocols, "protocol", "a subprotocol to offer, in order of preference (repeatable)")
	insecure := fs.Bool("insecure", false, "do not verify the server's TLS certificate (wss://)")
	binary := fs.Bool("binary", false, "send stdin lines as binary messages")
	ping := fs.Duration("ping", 0, "send a ping this often and fail without a pong (0: off)")
	echo := fs.Bool("echo", false, "send every message received back with its type instead of printing it")
	maxMessage := byteSize(defaultMaxMessage)
	fs.Var(&maxMessage, "max-message", "inbound and outbound buffer `size` (largest message, longest line)")
	compress := fs.Bool("compress", false, "negotiate permessage-deflate compression (RFC 7692)")
	gv := addGodotVarFlag(fs, "each one received prints in var_to_str text form, and each stdin line in that form is sent with put_var")
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	if !gv.valid("connect") {
		return exitUsage
	}
	if fs.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "wspeer connect: want exactly one URL")
		fs.Usage()
		return exitUsage
	}
	url := fs.Arg(0)
	p := wspeer.NewPeer()
	p.InboundBufferSize = int(maxMessage)
	p.OutboundBufferSize = int(maxMessage)
	p.MaxQueuedPackets = defaultMaxPackets
	p.SupportedProtocols = protocols.stringList
	p.HeartbeatInterval = *ping
	p.Compression = *compress
	if len(headers) > 0 {
		p.HandshakeHeaders = http.Header{}
		for _, h := range headers {
			name, value, ok := strings.Cut(h, ":")
			if !ok || strings.TrimSpace(name) == "" {
				fmt.Fprintf(os.Stderr, "wspeer connect: -H %q: want 'Name: value'\n", h)
				return exitUsage
			}
			p.HandshakeHeaders.Add(strings.TrimSpace(name), strings.TrimSpace(value))
		}
	}
	tlsConf := clientTLS(*insecure)
	if err := p.ConnectToURL(url, tlsConf); err != nil {
		fmt.Fprintln(os.Stderr, "wspeer connect:", err)
		fmt.Fprintln(os.Stderr, "closed -1")
		if errors.Is(err, wspeer.ErrInvalidParameter) {
			return exitUsage
		}
		return exitFailure
	}

	ctx, stop := signalContext()
	defer stop()
	opened := make(chan struct{})
	done := make(chan struct{})
	go func() {
		select {
		case <-ctx.Done():
			p.Close(1000, "interrupted")
		case <-done:
		}
	}()
	if !*echo && gv.version != 0 {
		go gv.sendVarLines(p, int(maxMessage), opened, done)
	} else if !*echo {
		go sendLines(p, *binary, int(maxMessage), opened, done)
	}

	out := bufio.NewWriterSize(os.Stdout, 64<<10)
	var e echoer
	wasOpen := false
	drain := func() {
		if *echo {
			e.pump(p)
			return
		}
		for {
			msg, err := p.GetPacket()
			if err != nil {
				break
			}
			gv.print(out, msg, p.WasStringPacket())
		}
		out.Flush()
	}
	// The peer's own timeouts (dial, handshake, heartbeat, close) bound this
	// loop, so it needs no context of its own.
	for p.Wait(context.Background()) == nil {
		p.Poll()
		if !wasOpen && p.ReadyState() == wspeer.StateOpen {
			wasOpen = true
			msg := "connected to " + url
			if proto := p.SelectedProtocol(); proto != "" {
				msg += " (protocol " + proto + ")"
			}
			fmt.Fprintln(os.Stderr, msg)
			close(opened)
		}
		drain()
	}
	drain()
	close(done)
	code, reason, cerr := p.CloseCode(), p.CloseReason(), p.CloseError()
	status := exitOK
	if cerr != nil || code == -1 {
		status = exitFailure
		if cerr != nil {
			fmt.Fprintln(os.Stderr, "wspeer connect:", cerr)
		}
	}
	fmt.Fprintln(os.Stderr, strings.TrimSpace(fmt.Sprintf("closed %d %s", code, reason)))
	return status
}

// sendLines sends each stdin line as a message once the connection is open,
// and closes it with 1000 at the end of stdin. A full outbound buffer makes it
// wait and retry: stdin is simply read more slowly.
func sendLines(p *wspeer.Peer, binary bool, maxLine int, opened, done <-chan struct{}) {
	sc := bufio.NewScanner(os.Stdin)
	sc.Buffer(make([]byte, 0, 64<<10), maxLine+1)
	mode := wspeer.WriteModeText
	if binary {
		mode = wspeer.WriteModeBinary
	}
	select {
	case <-opened:
	case <-done:
		return
	}
	for sc.Scan() {
		line := sc.Bytes()
		for {
			err := p.Send(line, mode)
			if errors.Is(err, wspeer.ErrBufferFull) {
				select {
				case <-time.After(2 * time.Millisecond):
					continue
				case <-done:
					return
				}
			}
			if errors.Is(err, wspeer.ErrInvalidUTF8) {
				fmt.Fprintln(os.Stderr, "wspeer connect: line is not UTF-8, not sent (use -binary)")
			} else if err != nil {
				return // not open any more: the main loop reports why
			}
			break
		}
	}
	if err := sc.Err(); err != nil {
		fmt.Fprintln(os.Stderr, "wspeer connect: stdin:", err)
		p.Close(1009, "input line too long")
		return
	}
	p.Close(1000, "")
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
