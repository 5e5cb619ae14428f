package interop

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// proc is a foreign peer running as a process: node/peer.js or
// python/peer.py. Its stdout lines arrive on lines.
type proc struct {
	name   string
	cmd    *exec.Cmd
	lines  chan string
	stderr *lockedBuffer
	exited chan struct{}
	err    error // set before exited is closed
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// startProc starts a foreign peer; it is killed at the end of the test.
func startProc(t *testing.T, name string, args ...string) *proc {
	t.Helper()
	p := &proc{name: name, cmd: exec.Command(name, args...), lines: make(chan string, 64),
		stderr: &lockedBuffer{}, exited: make(chan struct{})}
	p.cmd.Stderr = p.stderr
	ownGroup(p.cmd)
	out, err := p.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			p.lines <- sc.Text()
		}
		p.err = p.cmd.Wait()
		close(p.lines)
		close(p.exited)
	}()
	t.Cleanup(func() {
		select {
		case <-p.exited:
		default:
			killGroup(p.cmd)
			<-p.exited
		}
		if s := p.stderr.String(); s != "" && t.Failed() {
			t.Logf("%s stderr:\n%s", name, s)
		}
	})
	return p
}

// line returns the next stdout line.
func (p *proc) line(ctx context.Context, timeout time.Duration) (string, error) {
	select {
	case l, ok := <-p.lines:
		if !ok {
			return "", fmt.Errorf("%s exited (%v); stderr: %s", p.name, p.err, p.stderr.String())
		}
		return l, nil
	case <-time.After(timeout):
		return "", fmt.Errorf("%s: no output after %v; stderr: %s", p.name, timeout, p.stderr.String())
	case <-ctx.Done():
		return "", ctx.Err()
	}
}

// port reads the "listening <port>" line of a server.
func (p *proc) port(ctx context.Context) (int, error) {
	l, err := p.line(ctx, 20*time.Second)
	if err != nil {
		return 0, err
	}
	port, err := strconv.Atoi(strings.TrimPrefix(l, "listening "))
	if err != nil {
		return 0, fmt.Errorf("%s: unexpected first line %q", p.name, l)
	}
	return port, nil
}

// closeEvent reads the next close event line.
func (p *proc) closeEvent(ctx context.Context) (closeEvent, error) {
	for {
		l, err := p.line(ctx, closeTimeout)
		if err != nil {
			return closeEvent{}, err
		}
		var ev closeEvent
		if json.Unmarshal([]byte(l), &ev) == nil && ev.Event == "close" {
			return ev, nil
		}
	}
}

// scriptSides returns both directions for a scripted peer configured for v:
// run(t, args...) starts the interpreter on the script with "client <url>
// on|off" or "server on|off" (on: permessage-deflate offered and accepted).
func scriptSides(v variant, run func(t *testing.T, args ...string) *proc) (ourServer, ourClient side) {
	deflate := "off"
	if v.deflate {
		deflate = "on"
	}
	want := v.deflate && v.compress
	ourServer = side{offersDeflate: v.deflate, compress: v.compress, wantDeflate: want}
	ourClient = side{compress: v.compress, wantDeflate: want}
	ourServer.connect = func(ctx context.Context, t *testing.T, o opts) (*ourConn, func(context.Context) (closeEvent, error), error) {
		ln := listen(t)
		p := run(t, "client", "ws://"+ln.Addr().String()+"/echo", deflate)
		c, err := acceptOurs(ctx, ln, o)
		if err != nil {
			return nil, nil, fmt.Errorf("%w; their stderr: %s", err, p.stderr.String())
		}
		return c, func(ctx context.Context) (closeEvent, error) {
			ev, err := p.closeEvent(ctx)
			if err == nil {
				select {
				case <-p.exited:
					if p.err != nil {
						err = fmt.Errorf("%s: %v; stderr: %s", p.name, p.err, p.stderr.String())
					}
				case <-time.After(closeTimeout):
					err = fmt.Errorf("%s did not exit after the close", p.name)
				}
			}
			return ev, err
		}, nil
	}
	var server *proc
	var port int
	ourClient.setup = func(ctx context.Context, t *testing.T) (err error) {
		server = run(t, "server", deflate)
		port, err = server.port(ctx)
		return err
	}
	ourClient.connect = func(ctx context.Context, t *testing.T, o opts) (*ourConn, func(context.Context) (closeEvent, error), error) {
		c, err := dialOurs(ctx, "ws://127.0.0.1:"+strconv.Itoa(port)+"/echo", o)
		if err != nil {
			return nil, nil, fmt.Errorf("%w; their stderr: %s", err, server.stderr.String())
		}
		return c, server.closeEvent, nil
	}
	return ourServer, ourClient
}
