// Command wspeer is the command-line face of the wspeer library: a chat and
// echo server for browsers (serve), a bare echo server for conformance suites
// and benchmarks (echo), an interactive client (connect), an Autobahn
// TestSuite client (autobahn) and a load generator (bench).
//
// Subcommands are dispatched by hand over the standard flag package, so the
// main module keeps depending on the standard library only.
package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"syscall"

	"github.com/wspeer/wspeer"
)

// Exit statuses: 2 is what the flag package uses for usage errors.
const (
	exitOK      = 0
	exitFailure = 1
	exitUsage   = 2
)

// command is one subcommand: its name, a one-line summary for the overview and
// the function that runs it with the arguments after its name.
type command struct {
	name    string
	summary string
	run     func(args []string) int
}

// commands is in the order the overview lists them.
var commands = []command{
	{"serve", "chat page, /chat broadcast and /echo over net/http", runServe},
	{"echo", "bare echo server on any path (conformance, interop, benchmarks)", runEcho},
	{"connect", "interactive client: stdin lines out, messages to stdout", runConnect},
	{"autobahn", "Autobahn TestSuite fuzzingserver client", runAutobahn},
	{"bench", "load generator for any echo server", runBench},
	{"version", "print the version", runVersion},
}

func main() {
	os.Exit(run(os.Args[1:]))
}

func run(args []string) int {
	if len(args) == 0 {
		usage(os.Stderr)
		return exitUsage
	}
	switch args[0] {
	case "-h", "-help", "--help", "help":
		usage(os.Stdout)
		return exitOK
	}
	for _, c := range commands {
		if c.name == args[0] {
			return c.run(args[1:])
		}
	}
	fmt.Fprintf(os.Stderr, "wspeer: unknown command %q\n\n", args[0])
	usage(os.Stderr)
	return exitUsage
}

func usage(w io.Writer) {
	fmt.Fprint(w, `wspeer is a WebSocket server, client and test tool built on the wspeer library
(Godot's WebSocketPeer in Go).

Usage:
  wspeer <command> [flags]

Commands:
`)
	for _, c := range commands {
		fmt.Fprintf(w, "  %-9s %s\n", c.name, c.summary)
	}
	fmt.Fprint(w, `
Run "wspeer <command> -h" for a command's flags.

Example:
  wspeer serve -listen 127.0.0.1:8080      # then open http://127.0.0.1:8080
  wspeer connect ws://127.0.0.1:8080/echo  # type lines, see them echoed
`)
}

func runVersion(args []string) int {
	fs := newFlagSet("version", "", `Print the version of this build of wspeer: the module version for a release
build ("go install ...@v1.2.3"), otherwise "devel" and the VCS revision it was
built from (12 hex digits, "-dirty" when the work tree had changes), then the
Go version and platform.`, "wspeer version")
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	bi, _ := debug.ReadBuildInfo()
	fmt.Println("wspeer", version(bi), runtime.Version(), runtime.GOOS+"/"+runtime.GOARCH)
	return exitOK
}

// version says what was built, from the build information the go command
// records: the main module's version ("v1.2.3" for go install ...@v1.2.3), or
// "devel" with the VCS revision and a "-dirty" mark for a build from a work
// tree, or "devel" alone when neither is known (go run, tests).
func version(bi *debug.BuildInfo) string {
	if bi == nil {
		return "devel"
	}
	if v := bi.Main.Version; v != "" && v != "(devel)" {
		return v
	}
	var rev, modified string
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			modified = s.Value
		}
	}
	if rev == "" {
		return "devel"
	}
	v := "devel-" + rev[:min(12, len(rev))]
	if modified == "true" {
		v += "-dirty"
	}
	return v
}

// stringList is a repeatable string flag (-protocol a -protocol b).
type stringList []string

func (l *stringList) String() string { return strings.Join(*l, ",") }

func (l *stringList) repeatable() {}

func (l *stringList) Set(s string) error {
	*l = append(*l, s)
	return nil
}

// protocolList is a repeatable -protocol flag that refuses names that are not
// HTTP tokens up front, rather than on every connection.
type protocolList struct{ stringList }

func (l *protocolList) Set(s string) error {
	if s == "" || strings.ContainsFunc(s, func(r rune) bool {
		return r <= ' ' || r >= 0x7f || strings.ContainsRune(`"(),/:;<=>?@[\]{}`, r)
	}) {
		return fmt.Errorf("subprotocol %q is not an HTTP token", s)
	}
	return l.stringList.Set(s)
}

// byteSize is a size flag that accepts plain bytes or a KiB/MiB/GiB suffix
// ("64MiB"), so that budgets read the way they are meant.
type byteSize int

func (b *byteSize) String() string {
	n := int(*b)
	for _, u := range []struct {
		suffix string
		size   int
	}{{"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}} {
		if n >= u.size && n%u.size == 0 {
			return strconv.Itoa(n/u.size) + u.suffix
		}
	}
	return strconv.Itoa(n)
}

func (b *byteSize) Set(s string) error {
	mult := 1
	for suffix, m := range map[string]int{"KiB": 1 << 10, "MiB": 1 << 20, "GiB": 1 << 30, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30} {
		if strings.HasSuffix(s, suffix) {
			s, mult = strings.TrimSuffix(s, suffix), m
			break
		}
	}
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil || n <= 0 || n > (1<<40)/mult {
		return fmt.Errorf("invalid size %q: want a positive number of bytes, optionally with KiB, MiB or GiB", s)
	}
	*b = byteSize(n * mult)
	return nil
}

// signalContext is cancelled by the first SIGINT or SIGTERM. Later signals
// get the default behaviour back (stop() is called), so a second Ctrl-C kills
// a process stuck in shutdown.
func signalContext() (context.Context, context.CancelFunc) {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	go func() {
		<-ctx.Done()
		stop()
	}()
	return ctx, stop
}

// newLogger logs text lines to stderr: stdout is reserved for the listen
// line and for data, which tests and scripts read.
func newLogger() *slog.Logger {
	return newLevelLogger(false)
}

// newLevelLogger is newLogger with the per-connection lines (Debug) when
// verbose.
func newLevelLogger(verbose bool) *slog.Logger {
	level := slog.LevelInfo
	if verbose {
		level = slog.LevelDebug
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
}

// loadServerTLS loads a certificate and key for wss://, or returns nil when
// neither file is given.
func loadServerTLS(certFile, keyFile string) (*tls.Config, error) {
	if certFile == "" && keyFile == "" {
		return nil, nil
	}
	if certFile == "" || keyFile == "" {
		return nil, errors.New("-tls-cert and -tls-key go together")
	}
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, fmt.Errorf("loading TLS key pair: %w", err)
	}
	return wspeer.TLSServer(cert), nil
}

// scheme returns the WebSocket URL scheme for a server with or without TLS.
func scheme(tlsConf *tls.Config) string {
	if tlsConf != nil {
		return "wss"
	}
	return "ws"
}

// clientTLS returns the client TLS config for wss://: nil (verify against the
// system roots) or, with -insecure, one that skips verification but still
// sends SNI.
func clientTLS(insecure bool) *tls.Config {
	if insecure {
		return wspeer.TLSClientUnsafe(nil)
	}
	return nil
}
