package main

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/wspeer/wspeer"
)

func runAutobahn(args []string) int {
	fs := newFlagSet("autobahn", "",
		`Runs the cases of an Autobahn TestSuite fuzzingserver as a client: reads the
case count from /getCaseCount, then for each case connects to
/runCase?case=N&agent=NAME and echoes every message with its type until the
server closes (budgets as "wspeer echo": 64 MiB, 4096 messages), then asks the
server to write its reports with /updateReports?agent=NAME. One progress line
per case goes to stderr. The exit status is 0 when every case ran (the report
judges the results) and 1 when the server could not be reached or is not a
fuzzingserver.

A fuzzingserver is either this project's own suite, from a checkout of the
repository:
  go run ./internal/conformance/cmd/wsconform -serve 127.0.0.1:9001
or the Autobahn TestSuite's (https://github.com/crossbario/autobahn-testsuite):
  wstest -m fuzzingserver -s fuzzingserver.json
which listens on ws://127.0.0.1:9001 by default and writes HTML reports.`,
		"wspeer autobahn -url ws://127.0.0.1:9001 -agent wspeer")
	base := fs.String("url", "", "`URL` of the fuzzingserver (ws://HOST:PORT)")
	fs.require("url")
	agent := fs.String("agent", "wspeer", "agent `name` the reports are filed under")
	caseTimeout := fs.Duration("case-timeout", 60*time.Second, "longest `duration` one case may take")
	compress := fs.Bool("compress", false, "negotiate permessage-deflate compression (RFC 7692)")
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	if *caseTimeout <= 0 {
		code, _ := fs.usageError("-case-timeout must be positive")
		return code
	}
	root := strings.TrimRight(withScheme(fs, *base), "/")
	ctx, stop := signalContext()
	defer stop()

	count, code := caseCount(ctx, fs, root)
	if count == 0 {
		return code
	}
	compression := *compress
	fmt.Fprintf(os.Stderr, "%d cases\n", count)
	q := "&agent=" + url.QueryEscape(*agent)
	for i := 1; i <= count && ctx.Err() == nil; i++ {
		start := time.Now()
		var e echoer
		p, err := runClient(ctx, root+"/runCase?case="+strconv.Itoa(i)+q, *caseTimeout, compression, func(p *wspeer.Peer) { e.pump(p) })
		line := fmt.Sprintf("case %d/%d: closed %d, %d echoed, %v", i, count, p.CloseCode(), e.echoed, time.Since(start).Round(time.Millisecond))
		if err != nil {
			line += ", " + errText(err)
		}
		fmt.Fprintln(os.Stderr, line)
	}
	if ctx.Err() != nil {
		fmt.Fprintln(os.Stderr, "wspeer autobahn: interrupted")
		return exitFailure
	}
	if p, err := runClient(ctx, root+"/updateReports?agent="+url.QueryEscape(*agent), 60*time.Second, false, func(*wspeer.Peer) {}); err != nil {
		return fs.fail(exitFailure, "updateReports: %v (closed %d)", err, p.CloseCode())
	}
	fmt.Fprintln(os.Stderr, "reports updated for agent", *agent)
	return exitOK
}

// caseCount asks the fuzzingserver at root for its case count. It returns 0
// and the exit status when there is none, having said why.
func caseCount(ctx context.Context, fs *cmdFlags, root string) (int, int) {
	count := 0
	p, err := runClient(ctx, root+"/getCaseCount", 10*time.Second, false, func(p *wspeer.Peer) {
		for {
			msg, err := p.GetPacket()
			if err != nil {
				return
			}
			if n, err := strconv.Atoi(strings.TrimSpace(string(msg))); err == nil {
				count = n
			}
		}
	})
	switch {
	case errors.Is(err, wspeer.ErrInvalidParameter):
		return 0, fs.fail(exitUsage, "%v", err)
	case count > 0:
		return count, exitOK
	case errors.Is(err, wspeer.ErrDial):
		return 0, fs.fail(exitFailure, "%v", err)
	}
	what := fmt.Sprintf("sent no case count (closed %d)", p.CloseCode())
	if err != nil {
		what = errText(err)
	}
	return 0, fs.fail(exitFailure, "%s does not look like a fuzzingserver: %s/getCaseCount: %s\n"+
		"(\"wspeer autobahn -h\" says where to get one)", root, root, what)
}

// runClient connects to url with the echo budgets and runs the Wait loop,
// calling handle after each Poll, until the connection ends or timeout passes
// (the connection is then dropped). The error is the peer's CloseError, or
// the timeout.
func runClient(ctx context.Context, url string, timeout time.Duration, compress bool, handle func(*wspeer.Peer)) (*wspeer.Peer, error) {
	p := wspeer.NewPeer()
	p.Compression = compress
	p.InboundBufferSize = defaultMaxMessage
	p.OutboundBufferSize = defaultMaxMessage
	p.MaxQueuedPackets = defaultMaxPackets
	if err := p.ConnectToURL(url, nil); err != nil {
		return p, err
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var err error
	for {
		if err = p.Wait(ctx); err != nil {
			break
		}
		p.Poll()
		handle(p)
	}
	handle(p) // packets stay readable after the close
	if errors.Is(err, wspeer.ErrClosed) {
		return p, p.CloseError()
	}
	p.Close(-1, "")
	return p, fmt.Errorf("not finished within %v", timeout)
}
