package main

import (
	"bufio"
	"bytes"
	"errors"
	"flag"
	"fmt"
	"os"
	"time"
	"unicode/utf8"

	"github.com/wspeer/wspeer"
	"github.com/wspeer/wspeer/godot"
)

// godotVar is the -godot-var flag of echo and connect: binary messages are
// Godot Variants (put_var/get_var) in Godot 3's or Godot 4's format.
type godotVar struct{ version int }

func addGodotVarFlag(fs *flag.FlagSet, what string) *godotVar {
	g := &godotVar{}
	fs.IntVar(&g.version, "godot-var", 0, "treat binary messages as Godot `VERSION` (3 or 4) Variants, Godot's put_var/get_var format: "+what)
	return g
}

// options returns the codec options; whole Objects pass, since wspeer never
// instantiates them.
func (g *godotVar) options() godot.Options {
	return godot.Options{Version: godot.Version(g.version), AllowObjects: true}
}

// valid reports whether the flag is unset, 3 or 4, and says why not on stderr.
func (g *godotVar) valid(cmd string) bool {
	if g.version == 0 || g.version == 3 || g.version == 4 {
		return true
	}
	fmt.Fprintf(os.Stderr, "wspeer %s: -godot-var %d: want 3 or 4\n", cmd, g.version)
	return false
}

// echoConvert returns echo's message transform: decode a binary message and
// encode it again (in double precision when that gives the bytes back, for
// Godot 4 builds with precision=double). It is nil without the flag.
func (g *godotVar) echoConvert() func([]byte) ([]byte, error) {
	if g.version == 0 {
		return nil
	}
	o := g.options()
	return func(msg []byte) ([]byte, error) {
		v, err := o.Decode(msg)
		if err != nil {
			return nil, err
		}
		out, err := o.Encode(v)
		if err == nil && !bytes.Equal(out, msg) && o.Version == godot.Godot4 {
			wide := o
			wide.RealIsDouble = true
			if out2, err2 := wide.Encode(v); err2 == nil && bytes.Equal(out2, msg) {
				return out2, nil
			}
		}
		return out, err
	}
}

// convertHeld applies the echoer's transform to the held binary message. A
// message that does not decode closes the peer with 1007 and the reason,
// and is dropped; convertHeld then reports false.
func (e *echoer) convertHeld(p *wspeer.Peer) bool {
	if e.convert == nil || e.mode != wspeer.WriteModeBinary {
		return true
	}
	out, err := e.convert(e.pending)
	if err != nil {
		p.Close(1007, closeReason(err.Error()))
		e.pending, e.held = nil, false
		return false
	}
	e.pending = out
	return true
}

// closeReason cuts s to the 123 bytes a close reason may hold, on a UTF-8
// boundary.
func closeReason(s string) string {
	for len(s) > 123 {
		_, size := utf8.DecodeLastRuneInString(s)
		s = s[:len(s)-size]
	}
	return s
}

// print writes a received message for connect: a binary one in Godot's
// var_to_str text form, or, when it is not a Variant, as printMessage does
// with the decode error on stderr.
func (g *godotVar) print(w *bufio.Writer, msg []byte, text bool) {
	if g.version == 0 || text {
		printMessage(w, msg, text)
		return
	}
	v, err := g.options().Decode(msg)
	if err != nil {
		w.Flush()
		fmt.Fprintln(os.Stderr, "wspeer connect: not a Godot Variant:", err)
		printMessage(w, msg, false)
		return
	}
	w.WriteString(godot.Format(v, godot.Version(g.version)))
	w.WriteByte('\n')
}

// sendVarLines is connect's stdin loop with -godot-var: each line, in
// var_to_str text form, is sent as one put_var message. A line that does
// not parse or encode is reported on stderr and skipped. The end of stdin
// closes the connection with 1000.
func (g *godotVar) sendVarLines(p *wspeer.Peer, maxLine int, opened, done <-chan struct{}) {
	select {
	case <-opened:
	case <-done:
		return
	}
	p.Variant = g.options()
	sc := bufio.NewScanner(os.Stdin)
	sc.Buffer(make([]byte, 0, 64<<10), maxLine+1)
	for n := 1; sc.Scan(); n++ {
		v, err := godot.Parse(sc.Text(), godot.Version(g.version))
		if err != nil {
			fmt.Fprintf(os.Stderr, "wspeer connect: line %d not sent: %v\n", n, err)
			continue
		}
		if !putVarRetrying(p, v, n, done) {
			return
		}
	}
	if err := sc.Err(); err != nil {
		fmt.Fprintln(os.Stderr, "wspeer connect: stdin:", err)
		p.Close(1009, "input line too long")
		return
	}
	p.Close(1000, "")
}

// putVarRetrying sends v, waiting while the outbound buffer is full. It
// reports false when the connection is gone.
func putVarRetrying(p *wspeer.Peer, v any, line int, done <-chan struct{}) bool {
	retry := time.NewTicker(2 * time.Millisecond)
	defer retry.Stop()
	for {
		err := p.PutVar(v)
		switch {
		case err == nil:
			return true
		case errors.Is(err, wspeer.ErrNotOpen):
			return false
		case !errors.Is(err, wspeer.ErrBufferFull):
			fmt.Fprintf(os.Stderr, "wspeer connect: line %d not sent: %v\n", line, err)
			return true
		}
		select {
		case <-retry.C:
		case <-done:
			return false
		}
	}
}
