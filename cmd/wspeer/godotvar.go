package main

import (
	"bufio"
	"bytes"
	"flag"
	"fmt"
	"os"
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

// check reports a -godot-var value other than 3 or 4.
func (g *godotVar) check() error {
	if g.version == 0 || g.version == 3 || g.version == 4 {
		return nil
	}
	return fmt.Errorf("-godot-var %d: want 3 or 4", g.version)
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

// convertAll applies the echoer's transform to every binary packet taken.
// A message that does not decode closes the peer with 1007 and the reason,
// and the batch is dropped; convertAll then reports false.
func (e *echoer) convertAll(p *wspeer.Peer) bool {
	if e.convert == nil {
		return true
	}
	for i, pk := range e.pks {
		if pk.Text {
			continue
		}
		out, err := e.convert(pk.Data)
		if err != nil {
			p.Close(1007, closeReason(err.Error()))
			clear(e.pks)
			e.pks = e.pks[:0]
			return false
		}
		e.pks[i].Data = out
	}
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

// parse reads one stdin line in var_to_str text form.
func (g *godotVar) parse(line []byte) (any, error) {
	return godot.Parse(string(line), godot.Version(g.version))
}
