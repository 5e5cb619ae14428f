package conformance

import (
	"fmt"
	"time"
	"unicode/utf8"
)

// Section 6: UTF-8 handling, including fail-fast detection (6.4) and the
// sequences of Markus Kuhn's UTF-8 decoder stress test (6.5 onwards, in
// Autobahn's order and numbering).

// kosme is "κόσμε", the stress test's sample of valid multi-byte text.
const kosme = "\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5"

type utf8Group struct {
	name string
	seqs []string
}

// utf8Groups returns the test sequences of sections 6.5 and later; the
// validity of each is decided by utf8.Valid.
func utf8Groups() []utf8Group {
	var g []utf8Group
	add := func(name string, seqs ...string) { g = append(g, utf8Group{name, seqs}) }
	add("Some valid UTF-8 sequences",
		"hello\x24world", "hello\xc2\xa2world", "hello\xe2\x82\xacworld", "hello\xf0\xa4\xad\xa2world", kosme)
	var prefixes []string
	for i := 1; i <= len(kosme); i++ {
		prefixes = append(prefixes, kosme[:i])
	}
	add("All prefixes of a valid UTF-8 string that contains multi-byte code points", prefixes...)
	add("First possible sequence of a certain length", "\x00", "\xc2\x80", "\xe0\xa0\x80", "\xf0\x90\x80\x80")
	add("First possible sequence length 5/6 (invalid codepoints)", "\xf8\x88\x80\x80\x80", "\xfc\x84\x80\x80\x80\x80")
	add("Last possible sequence of a certain length", "\x7f", "\xdf\xbf", "\xef\xbf\xbf", "\xf4\x8f\xbf\xbf")
	add("Last possible sequence length 4/5/6 (invalid codepoints)", "\xf7\xbf\xbf\xbf", "\xfb\xbf\xbf\xbf\xbf", "\xfd\xbf\xbf\xbf\xbf\xbf")
	add("Other boundary conditions", "\xed\x9f\xbf", "\xee\x80\x80", "\xef\xbf\xbd", "\xf4\x8f\xbf\xbf", "\xf4\x90\x80\x80")
	var allCont []byte
	for c := 0x80; c < 0xbf; c++ {
		allCont = append(allCont, byte(c))
	}
	add("Unexpected continuation bytes", "\x80", "\xbf", "\x80\xbf", "\x80\xbf\x80", "\x80\xbf\x80\xbf",
		"\x80\xbf\x80\xbf\x80", "\x80\xbf\x80\xbf\x80\xbf", string(allCont))
	var lonely []string
	for _, r := range [][2]int{{0xc0, 0xdf}, {0xe0, 0xef}, {0xf0, 0xf7}, {0xf8, 0xfb}, {0xfc, 0xfd}} {
		var b []byte
		for c := r[0]; c < r[1]; c++ {
			b = append(b, byte(c), ' ')
		}
		lonely = append(lonely, string(b))
	}
	add("Lonely start characters", lonely...)
	missing := []string{"\xc0", "\xe0\x80", "\xf0\x80\x80", "\xf8\x80\x80\x80", "\xfc\x80\x80\x80\x80",
		"\xdf", "\xef\xbf", "\xf7\xbf\xbf", "\xfb\xbf\xbf\xbf", "\xfd\xbf\xbf\xbf\xbf"}
	add("Sequences with last continuation byte missing", missing...)
	concat := ""
	for _, m := range missing {
		concat += m
	}
	add("Concatenation of incomplete sequences", concat)
	add("Impossible bytes", "\xfe", "\xff", "\xfe\xfe\xff\xff")
	add("Examples of an overlong ASCII character",
		"\xc0\xaf", "\xe0\x80\xaf", "\xf0\x80\x80\xaf", "\xf8\x80\x80\x80\xaf", "\xfc\x80\x80\x80\x80\xaf")
	add("Maximum overlong sequences",
		"\xc1\xbf", "\xe0\x9f\xbf", "\xf0\x8f\xbf\xbf", "\xf8\x87\xbf\xbf\xbf", "\xfc\x83\xbf\xbf\xbf\xbf")
	add("Overlong representation of the NUL character",
		"\xc0\x80", "\xe0\x80\x80", "\xf0\x80\x80\x80", "\xf8\x80\x80\x80\x80", "\xfc\x80\x80\x80\x80\x80")
	add("Single UTF-16 surrogates",
		"\xed\xa0\x80", "\xed\xad\xbf", "\xed\xae\x80", "\xed\xaf\xbf", "\xed\xb0\x80", "\xed\xbe\x80", "\xed\xbf\xbf")
	add("Paired UTF-16 surrogates",
		"\xed\xa0\x80\xed\xb0\x80", "\xed\xa0\x80\xed\xbf\xbf", "\xed\xad\xbf\xed\xb0\x80", "\xed\xad\xbf\xed\xbf\xbf",
		"\xed\xae\x80\xed\xb0\x80", "\xed\xae\x80\xed\xbf\xbf", "\xed\xaf\xbf\xed\xb0\x80", "\xed\xaf\xbf\xed\xbf\xbf")
	nonChars := []string{"\xef\xbf\xbe", "\xef\xbf\xbf"}
	for _, z1 := range []byte{0xf0, 0xf1, 0xf2, 0xf3, 0xf4} {
		for _, z2 := range []byte{0x8f, 0x9f, 0xaf, 0xbf} {
			if z1 == 0xf4 && z2 != 0x8f {
				continue // beyond U+10FFFF
			}
			for _, z3 := range []byte{0xbe, 0xbf} {
				if z1 == 0xf0 && z2 == 0x8f {
					continue // overlong
				}
				nonChars = append(nonChars, string([]byte{z1, z2, 0xbf, z3}))
			}
		}
	}
	add("Non-character code points (valid UTF-8)", nonChars...)
	add("Unicode specials (i.e. replacement char)",
		"\xef\xbf\xb9", "\xef\xbf\xba", "\xef\xbf\xbb", "\xef\xbf\xbc", "\xef\xbf\xbd", "\xef\xbf\xbe", "\xef\xbf\xbf")
	return g
}

func utf8Cases() []*Case {
	echo := func(id, desc string, payload string, send func(s *Session, p []byte)) *Case {
		return &Case{ID: id, Description: desc, Run: func(s *Session) {
			p := []byte(payload)
			expectEcho(s, Message(p, false))
			send(s, p)
			s.CloseAfter(time.Second)
		}}
	}
	whole := func(s *Session, p []byte) { s.SendMessage(opText, p, 0, 0) }
	octets := func(s *Session, p []byte) { s.SendMessage(opText, p, 1, 0) }
	const hello = "Hello-\u00b5@\u00df\u00f6\u00e4\u00fc\u00e0\u00e1-UTF-8!!"
	cs := []*Case{
		echo("6.1.1", "Send text message of length 0.", "", whole),
		echo("6.1.2", "Send fragmented text message, 3 fragments each of length 0.", "", func(s *Session, _ []byte) {
			s.Send(Frame{Opcode: opText, NotFin: true})
			s.Send(Frame{Opcode: opCont, NotFin: true})
			s.Send(Frame{Opcode: opCont})
		}),
		echo("6.1.3", "Send fragmented text message, 3 fragments, first and last of length 0, middle non-empty.", "middle frame payload",
			func(s *Session, p []byte) {
				s.Send(Frame{Opcode: opText, NotFin: true})
				s.Send(Frame{Opcode: opCont, NotFin: true, Payload: p})
				s.Send(Frame{Opcode: opCont})
			}),
		echo("6.2.1", "Send a valid UTF-8 text message in one fragment.", hello, whole),
		echo("6.2.2", "Send a valid UTF-8 text message in two fragments, fragmented on a code point boundary.", hello,
			func(s *Session, p []byte) {
				cut := len("Hello-\u00b5@\u00df\u00f6\u00e4")
				s.Send(Frame{Opcode: opText, NotFin: true, Payload: p[:cut]})
				s.Send(Frame{Opcode: opCont, Payload: p[cut:]})
			}),
		echo("6.2.3", "Send a valid UTF-8 text message in fragments of 1 octet.", hello, octets),
		echo("6.2.4", "Send a valid UTF-8 text message in fragments of 1 octet, frames ending inside code points.", kosme, octets),
	}
	invalid := kosme + "\xed\xa0\x80" + "edited"
	for i, frag := range []int{0, 1} {
		cs = append(cs, &Case{
			ID:          fmt.Sprintf("6.3.%d", i+1),
			Description: fmt.Sprintf("Send invalid UTF-8 text message (fragment size %d, 0 = unfragmented).", frag),
			Run: func(s *Session) {
				expectFailure(s, 1007)
				s.SendMessage(opText, []byte(invalid), frag, 0)
				s.KillAfter(time.Second)
			},
		})
	}
	cs = append(cs, failFastCases()...)
	for gi, g := range utf8Groups() {
		for j, seq := range g.seqs {
			valid := utf8.ValidString(seq)
			desc := fmt.Sprintf("%s: text message with payload %x, which is not valid UTF-8, in one fragment.", g.name, seq)
			if valid {
				desc = fmt.Sprintf("%s: text message with payload %x, valid UTF-8, in one fragment.", g.name, seq)
			}
			cs = append(cs, &Case{
				ID:          fmt.Sprintf("6.%d.%d", gi+5, j+1),
				Description: desc,
				Run: func(s *Session) {
					p := []byte(seq)
					if valid {
						expectEcho(s, Message(p, false))
					} else {
						expectFailure(s, 1007)
					}
					s.SendMessage(opText, p, 0, 0)
					s.KillAfter(500 * time.Millisecond)
				},
			})
		}
	}
	return cs
}

// failFastCases are 6.4.1-6.4.4: a message whose invalid UTF-8 arrives in
// the middle part of three, with a one second pause after each part. Failing
// right after the middle part is OK; only after the last part, NON-STRICT.
func failFastCases() []*Case {
	payload := []byte(kosme + "\xf4\x90\x80\x80" + "edited")
	// The code point is invalid from its second byte (0x90) on: byte 12.
	splits := [][2]int{{11, 15}, {12, 13}}
	var cs []*Case
	for i, inFrames := range []bool{true, true, false, false} {
		sp := splits[i%2]
		how := "3 frames"
		if !inFrames {
			how = "3 chops of one frame"
		}
		cs = append(cs, &Case{
			ID: fmt.Sprintf("6.4.%d", i+1),
			Description: fmt.Sprintf("Send invalid UTF-8 text message in %s: %x, %x, %x, waiting 1 s after the first two.",
				how, payload[:sp[0]], payload[sp[0]:sp[1]], payload[sp[1]:]),
			Timeout: 10 * time.Second,
			Run: func(s *Session) {
				s.Expect(OK, Timeout("A"))
				s.Expect(NonStrict, Timeout("A"), Timeout("B"))
				s.ExpectClose(false, false, 1007)
				var parts [3][]byte
				if inFrames {
					parts[0], _ = s.EncodeFrame(Frame{Opcode: opText, NotFin: true, Payload: payload[:sp[0]]})
					parts[1], _ = s.EncodeFrame(Frame{Opcode: opCont, NotFin: true, Payload: payload[sp[0]:sp[1]]})
					parts[2], _ = s.EncodeFrame(Frame{Opcode: opCont, Payload: payload[sp[1]:]})
				} else {
					b, h := s.EncodeFrame(Frame{Opcode: opText, Payload: payload})
					parts[0], parts[1], parts[2] = b[:h+sp[0]], b[h+sp[0]:h+sp[1]], b[h+sp[1]:]
				}
				s.SendRaw(parts[0])
				if !s.Wait(time.Second) {
					return
				}
				s.Record(Timeout("A"))
				s.SendRaw(parts[1])
				if !s.Wait(time.Second) {
					return
				}
				s.Record(Timeout("B"))
				s.SendRaw(parts[2])
				s.KillAfter(time.Second)
			},
		})
	}
	return cs
}
