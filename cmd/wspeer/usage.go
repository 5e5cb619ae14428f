package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
)

// cmdFlags is a subcommand's flag set with what its synopsis needs beyond the
// flags: the positional arguments and which flags are required. The synopsis
// is generated from the flags themselves, so "-h" cannot forget one; the
// README's "Command line" section is kept equal to it by TestReadmeSynopsis.
type cmdFlags struct {
	*flag.FlagSet
	name        string
	args        string // positional part of the synopsis ("URL"), "" for none
	nargs       int    // how many positional arguments the command takes
	required    []string
	description string
	example     string
}

// newFlagSet returns a flag set whose -h output shows the synopsis, a
// description and an example before the flags. args names the positional
// arguments, each of which the command requires.
func newFlagSet(name, args, description, example string) *cmdFlags {
	c := &cmdFlags{
		FlagSet:     flag.NewFlagSet("wspeer "+name, flag.ContinueOnError),
		name:        name,
		args:        args,
		nargs:       len(strings.Fields(args)),
		description: description,
		example:     example,
	}
	c.Usage = func() { c.printUsage(c.Output()) }
	return c
}

// require marks flags the command cannot run without; the synopsis shows
// them without brackets and parseFlags refuses a command line that lacks one.
func (c *cmdFlags) require(names ...string) { c.required = append(c.required, names...) }

func (c *cmdFlags) printUsage(w io.Writer) {
	fmt.Fprintf(w, "Usage:\n%s\n\n%s\n\nExample:\n  %s\n", c.synopsis(), c.description, c.example)
	hasFlags := false
	c.VisitAll(func(*flag.Flag) { hasFlags = true })
	if hasFlags {
		fmt.Fprint(w, "\nFlags:\n")
		c.PrintDefaults()
	}
}

// repeatable is implemented by flag values that may be given more than once.
type repeatable interface{ repeatable() }

// synopsis is "wspeer NAME ARGS" and every flag, wrapped at 80 columns with
// continuation lines indented under the first flag.
func (c *cmdFlags) synopsis() string {
	words := []string{"wspeer", c.name}
	words = append(words, strings.Fields(c.args)...)
	lead := "  " + strings.Join(words, " ")
	var items []string
	c.VisitAll(func(f *flag.Flag) {
		item := "-" + f.Name
		if placeholder, _ := flag.UnquoteUsage(f); placeholder != "" {
			item += " " + placeholder
		}
		if c.isRequired(f.Name) {
			items = append(items, item)
			return
		}
		item = "[" + item + "]"
		if _, ok := f.Value.(repeatable); ok {
			item += "..."
		}
		items = append(items, item)
	})
	var b strings.Builder
	b.WriteString(lead)
	col := len(lead)
	indent := strings.Repeat(" ", len("  wspeer "+c.name)+1)
	for _, it := range items {
		if col+1+len(it) > 80 {
			b.WriteString("\n" + indent + it)
			col = len(indent) + len(it)
			continue
		}
		b.WriteString(" " + it)
		col += 1 + len(it)
	}
	return b.String()
}

func (c *cmdFlags) isRequired(name string) bool {
	for _, r := range c.required {
		if r == name {
			return true
		}
	}
	return false
}

// parseFlags parses args, allowing flags after positional arguments
// ("wspeer connect URL -binary"), which the flag package alone stops at, and
// checks the positional arguments and required flags. It returns the exit
// code and false when the command must stop: -h asked (status 0, usage on
// stdout) or a bad command line (status 2, the reason and usage on stderr).
func parseFlags(c *cmdFlags, args []string) (int, bool) {
	var positional []string
	for {
		c.SetOutput(io.Discard)
		err := c.Parse(args)
		if errors.Is(err, flag.ErrHelp) {
			c.printUsage(os.Stdout)
			return exitOK, false
		}
		if err != nil {
			return c.usageError("%v", err)
		}
		args = c.Args()
		if len(args) == 0 {
			break
		}
		positional = append(positional, args[0])
		args = args[1:]
	}
	// Re-parse nothing, but leave the positional arguments where c.Args
	// finds them.
	_ = c.Parse(append([]string{"--"}, positional...))
	c.SetOutput(os.Stderr)
	switch {
	case len(positional) > c.nargs:
		return c.usageError("unexpected argument %q", positional[c.nargs])
	case len(positional) < c.nargs:
		return c.usageError("missing %s", strings.Fields(c.args)[len(positional)])
	}
	for _, name := range c.required {
		set := false
		c.Visit(func(f *flag.Flag) { set = set || f.Name == name })
		if !set {
			return c.usageError("-%s is required", name)
		}
	}
	return exitOK, true
}

// usageError prints "wspeer NAME: reason" and the synopsis on stderr, and
// returns the usage exit status.
func (c *cmdFlags) usageError(format string, a ...any) (int, bool) {
	fmt.Fprintf(os.Stderr, "wspeer %s: %s\nUsage:\n%s\nRun \"wspeer %s -h\" for details.\n", c.name, fmt.Sprintf(format, a...), c.synopsis(), c.name)
	return exitUsage, false
}

// fail prints "wspeer NAME: " and the message on stderr, with library
// errors shown by errText, and returns status.
func (c *cmdFlags) fail(status int, format string, a ...any) int {
	for i, v := range a {
		if err, ok := v.(error); ok {
			a[i] = errText(err)
		}
	}
	fmt.Fprintf(os.Stderr, "wspeer %s: %s\n", c.name, fmt.Sprintf(format, a...))
	return status
}

// errAttr is a log attribute "err" with err's text as errText shows it
// (nil stays nil).
func errAttr(err error) slog.Attr {
	if err == nil {
		return slog.Any("err", nil)
	}
	// Errors may quote what a client sent: the library bounds its quotes,
	// and this bounds the whole line.
	msg := errText(err)
	if len(msg) > 1024 {
		msg = msg[:1024] + "..."
	}
	return slog.String("err", msg)
}

// errText is err's message with one prefix: the library's errors wrap each
// other, and each layer starts with its package ("wspeer: opening handshake
// failed: websocket: handshake failed: ..."). The command prints its own
// prefix, so the package names are dropped, and so is a layer that only
// repeats the end of the one before ("opening handshake failed: handshake
// failed" becomes "opening handshake failed").
func errText(err error) string {
	var kept []string
	for _, part := range strings.Split(err.Error(), ": ") {
		if part == "wspeer" || part == "websocket" {
			continue
		}
		if n := len(kept); n > 0 && strings.HasSuffix(kept[n-1], part) {
			continue
		}
		kept = append(kept, part)
	}
	return strings.Join(kept, ": ")
}
