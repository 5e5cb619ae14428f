package conformance

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"sync"
	"time"
)

// Sections 12 and 13: permessage-deflate (RFC 7692). Each case negotiates
// compression, then sends compressed messages one at a time, each after the
// echo of the previous one, and compares every echo with what it sent
// (Autobahn compares type, length and SHA-1; the suite compares the bytes).
// Section 12 uses Autobahn's default offer with five payload types; section
// 13 uses one payload type with seven offer/answer combinations.

// compressionSize is one row of Autobahn's MSG_SIZES: payload length,
// message count, case timeout and auto-fragment size (0: one frame).
type compressionSize struct {
	size, count int
	wait        time.Duration
	frag        int
}

var compressionSizes = []compressionSize{
	{16, 1000, 60 * time.Second, 0},
	{64, 1000, 60 * time.Second, 0},
	{256, 1000, 120 * time.Second, 0},
	{1024, 1000, 240 * time.Second, 0},
	{4096, 1000, 480 * time.Second, 0},
	{8192, 1000, 480 * time.Second, 0},
	{16384, 1000, 480 * time.Second, 0},
	{32768, 1000, 480 * time.Second, 0},
	{65536, 1000, 480 * time.Second, 0},
	{131072, 1000, 480 * time.Second, 0},
	{8192, 1000, 480 * time.Second, 256},
	{16384, 1000, 480 * time.Second, 256},
	{32768, 1000, 480 * time.Second, 256},
	{65536, 1000, 480 * time.Second, 256},
	{131072, 1000, 480 * time.Second, 256},
	{131072, 1000, 480 * time.Second, 1024},
	{131072, 1000, 480 * time.Second, 4096},
	{131072, 1000, 480 * time.Second, 32768},
}

// Scaled message counts: Autobahn sends 1000 messages per case (up to 125
// MiB each way for the 131072-byte rows). The default case list sends
// scaledBytes per case, at least scaledMin and at most scaledMax messages:
// every case still sends several messages, so context takeover is exercised
// across messages, and every size, fragment size, payload type and parameter
// combination is kept. AllCasesFull keeps Autobahn's counts.
const (
	scaledBytes = 32 << 10
	scaledMin   = 2
	scaledMax   = 16
)

func scaledCount(size int) int {
	return min(max(scaledBytes/size, scaledMin), scaledMax)
}

// compressionData is one of Autobahn's test payloads, generated here: the
// suite ships no files, so each is a deterministic stand-in of the same kind
// and about the same size.
type compressionData struct {
	desc   string
	binary bool
	data   func() []byte
}

var (
	dataJSON   = compressionData{"Large JSON data file (utf8)", false, sync.OnceValue(genJSON)}
	dataBitmap = compressionData{"Grey-scale picture, bitmap 512x512 (binary)", true, sync.OnceValue(genBitmap)}
	dataVerse  = compressionData{"Human readable text, German verse with umlauts (binary)", true, sync.OnceValue(genVerse)}
	dataHTML   = compressionData{"Large HTML file (utf8)", false, sync.OnceValue(genHTML)}
	dataPDF    = compressionData{"A larger PDF-like file, text and incompressible streams (binary)", true, sync.OnceValue(genPDF)}
)

// deflateParamSet is one row of Autobahn's DEFLATE_PARAMS (section 13).
type deflateParamSet struct {
	desc   string
	offers []DeflateOffer
	accept DeflateAccept
}

func deflateParamSets() []deflateParamSet {
	offer := func(noCtx bool, bits int) DeflateOffer {
		o := defaultOffer()
		o.RequestNoContextTakeover, o.RequestMaxWindowBits = noCtx, bits
		return o
	}
	accept5 := acceptWith(true, 8)
	return []deflateParamSet{
		{"[(False, 0)] / server accept [(False, 0)]", []DeflateOffer{offer(false, 0)}, acceptWith(false, 0)},
		{"[(True, 0)] / server accept [(True, 0)]", []DeflateOffer{offer(true, 0)}, acceptWith(true, 0)},
		{"[(False, 8)] / server accept [(False, 8)]", []DeflateOffer{offer(false, 8)}, acceptWith(false, 8)},
		{"[(False, 15)] / server accept [(False, 15)]", []DeflateOffer{offer(false, 15)}, acceptWith(false, 15)},
		{"[(True, 8)] / server accept [(True, 8)]", []DeflateOffer{offer(true, 8)}, accept5},
		{"[(True, 15)] / server accept [(True, 15)]", []DeflateOffer{offer(true, 15)}, acceptWith(true, 15)},
		{"[(True, 8), (True, 0), (False, 0)] / server accept [(True, 8), (True, 0), (False, 0)]",
			[]DeflateOffer{offer(true, 8), offer(true, 0), offer(false, 0)},
			acceptFirstOf(accept5, acceptWith(true, 0), acceptWith(false, 0))},
	}
}

// compressionCases returns sections 12 and 13; full keeps Autobahn's
// message counts.
func compressionCases(full bool) []*Case {
	var cs []*Case
	for j, td := range []compressionData{dataJSON, dataBitmap, dataVerse, dataHTML, dataPDF} {
		for i, sz := range compressionSizes {
			comp := &Compression{Offers: []DeflateOffer{defaultOffer()}, Accept: acceptWith(false, 0)}
			cs = append(cs, compressedEcho(fmt.Sprintf("12.%d.%d", j+1, i+1), td, sz, full, "default permessage-deflate offer", comp))
		}
	}
	for j, ps := range deflateParamSets() {
		for i, sz := range compressionSizes {
			comp := &Compression{Offers: ps.offers, Accept: ps.accept}
			cs = append(cs, compressedEcho(fmt.Sprintf("13.%d.%d", j+1, i+1), dataJSON, sz, full,
				"permessage-deflate client offers (requestNoContextTakeover, requestMaxWindowBits): "+ps.desc, comp))
		}
	}
	return cs
}

// compressedEcho is Autobahn's Case12_X_X / Case13_X_X.
func compressedEcho(id string, td compressionData, sz compressionSize, full bool, params string, comp *Compression) *Case {
	count := sz.count
	scaled := ""
	if !full {
		count = scaledCount(sz.size)
		scaled = fmt.Sprintf(" (Autobahn: %d)", sz.count)
	}
	op := opText
	if td.binary {
		op = opBinary
	}
	sendOne := func(s *Session) {
		data := td.data()
		i := s.bump() - 1
		off := i * sz.size % len(data)
		msg := data[off:min(off+sz.size, len(data))]
		if len(msg) < sz.size {
			msg = append(bytes.Clone(msg), data[:sz.size-len(msg)]...)
		}
		s.setData(msg)
		s.SendCompressed(op, msg, sz.frag)
		s.flush()
	}
	return &Case{
		ID: id,
		Description: fmt.Sprintf("%s: send %d%s compressed messages each of payload size %d, auto-fragment to %d octets. Use %s.",
			td.desc, count, scaled, sz.size, sz.frag, params),
		Timeout:     sz.wait + 10*time.Second,
		Compression: comp,
		Run: func(s *Session) {
			s.ExpectClose(true, true, 1000)
			if s.deflateErr != nil {
				s.SetBehavior(Failed, "Invalid permessage-deflate offer: "+s.deflateErr.Error())
				s.Close(1000, nil)
				return
			}
			if _, ok := s.Deflate(); !ok {
				s.SetBehavior(Unimplemented, "permessage-deflate was not negotiated.")
				s.Close(1000, nil)
				return
			}
			s.SetBehavior(Failed, fmt.Sprintf("Case did not finish within %s.", sz.wait))
			s.CloseAfter(sz.wait)
			sendOne(s)
		},
		OnMessage: func(s *Session, data []byte, binary bool) {
			want := s.data()
			switch {
			case binary != td.binary:
				s.SetBehavior(Failed, fmt.Sprintf("Echoed message type differs from what was sent (got binary %v, expected binary %v).", binary, td.binary))
			case len(data) != len(want):
				s.SetBehavior(Failed, fmt.Sprintf("Echoed message length differs from what was sent (got length %d, expected length %d).", len(data), len(want)))
			case !bytes.Equal(data, want):
				s.SetBehavior(Failed, "Echoed message contents differ from what was sent.")
			case s.bumped() < count:
				sendOne(s)
				return
			default:
				neg, _ := s.Deflate()
				s.SetBehavior(OK, fmt.Sprintf("Ok, received all %d echoed messages in time (negotiated %q).", count, neg))
			}
			s.Close(1000, nil)
		},
	}
}

// The payload generators. Text payloads are ASCII, so that any slice of them
// is valid UTF-8, as Autobahn's JSON and HTML files are.

func genJSON() []byte {
	r := rand.New(rand.NewPCG(12, 1))
	first := []string{"Ada", "Grace", "Alan", "Edsger", "Barbara", "Donald", "Ken", "Dennis", "Margaret", "Niklaus"}
	last := []string{"Lovelace", "Hopper", "Turing", "Dijkstra", "Liskov", "Knuth", "Thompson", "Ritchie", "Hamilton", "Wirth"}
	tags := []string{"lorem", "ipsum", "dolor", "sit", "amet", "consectetur", "adipiscing", "elit", "sed", "tempor"}
	var b strings.Builder
	b.WriteString("[\n")
	for id := 0; b.Len() < 194000; id++ {
		f, l := first[r.IntN(len(first))], last[r.IntN(len(last))]
		var tg []string
		for range 2 + r.IntN(5) {
			tg = append(tg, `"`+tags[r.IntN(len(tags))]+`"`)
		}
		fmt.Fprintf(&b, "  {\n    \"_id\": \"%016x\",\n    \"index\": %d,\n    \"isActive\": %v,\n    \"balance\": \"$%d,%03d.%02d\",\n"+
			"    \"age\": %d,\n    \"name\": \"%s %s\",\n    \"email\": \"%s.%s@example.com\",\n    \"tags\": [%s],\n"+
			"    \"latitude\": %.6f,\n    \"longitude\": %.6f\n  },\n",
			r.Uint64(), id, r.IntN(2) == 0, r.IntN(10), r.IntN(1000), r.IntN(100), 20+r.IntN(50), f, l,
			strings.ToLower(f), strings.ToLower(l), strings.Join(tg, ", "), r.Float64()*180-90, r.Float64()*360-180)
	}
	b.WriteString("]\n")
	return []byte(b.String())
}

func genBitmap() []byte {
	const w, h = 512, 512
	r := rand.New(rand.NewPCG(12, 2))
	b := make([]byte, 0, 1078+w*h)
	b = append(b, 'B', 'M')
	b = binary.LittleEndian.AppendUint32(b, 1078+w*h)
	b = binary.LittleEndian.AppendUint32(b, 0)
	b = binary.LittleEndian.AppendUint32(b, 1078)
	b = binary.LittleEndian.AppendUint32(b, 40)
	b = binary.LittleEndian.AppendUint32(b, w)
	b = binary.LittleEndian.AppendUint32(b, h)
	b = binary.LittleEndian.AppendUint16(b, 1)
	b = binary.LittleEndian.AppendUint16(b, 8)
	for _, v := range []uint32{0, w * h, 2835, 2835, 256, 256} {
		b = binary.LittleEndian.AppendUint32(b, v)
	}
	for i := range 256 {
		b = append(b, byte(i), byte(i), byte(i), 0)
	}
	for y := range h {
		for x := range w {
			v := 128 + 60*math.Sin(float64(x)/23)*math.Cos(float64(y)/31) + 30*math.Sin(float64(x+y)/57) + float64(r.IntN(17)-8)
			b = append(b, byte(min(max(v, 0), 255)))
		}
	}
	return b
}

func genVerse() []byte {
	r := rand.New(rand.NewPCG(12, 3))
	words := strings.Fields("Habe nun ach Philosophie Juristerei und Medizin leider auch Theologie durchaus studiert mit heißem Bemühn " +
		"da steh ich nun ich armer Tor bin so klug als wie zuvor heiße Magister Doktor gar ziehe schon an die zehen Jahr " +
		"herauf herab und quer und krumm meine Schüler an der Nase herum und sehe daß wir nichts wissen können das will mir schier " +
		"das Herz verbrennen zwar bin ich gescheiter als alle die Laffen Schreiber und Pfaffen mich plagen keine Skrupel noch Zweifel " +
		"fürchte mich weder vor Hölle noch Teufel dafür ist mir auch alle Freud entrissen Geist Erdgeist Gretchen Straße Würde Glück")
	speakers := []string{"FAUST", "MEPHISTOPHELES", "WAGNER", "MARGARETE", "MARTHE", "CHOR DER ENGEL"}
	var b strings.Builder
	for b.Len() < 222000 {
		fmt.Fprintf(&b, "\n%s:\n", speakers[r.IntN(len(speakers))])
		for range 2 + r.IntN(8) {
			n := 4 + r.IntN(6)
			line := make([]string, n)
			for k := range line {
				line[k] = words[r.IntN(len(words))]
			}
			line[0] = strings.ToUpper(line[0][:1]) + line[0][1:]
			b.WriteString(strings.Join(line, " ") + [...]string{",", ".", ";", "!", "?", ""}[r.IntN(6)] + "\n")
		}
	}
	return []byte(b.String())
}

func genHTML() []byte {
	r := rand.New(rand.NewPCG(12, 4))
	words := strings.Fields("the quick brown fox jumps over lazy dog web socket frame message compression window deflate " +
		"server client echo payload context takeover extension negotiation offer response sliding")
	sentence := func() string {
		n := 6 + r.IntN(12)
		s := make([]string, n)
		for i := range s {
			s[i] = words[r.IntN(len(words))]
		}
		return strings.Join(s, " ")
	}
	var b strings.Builder
	b.WriteString("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>Test document</title>\n" +
		"<link rel=\"stylesheet\" href=\"/static/style.css\">\n</head>\n<body>\n")
	for sec := 1; b.Len() < 263000; sec++ {
		fmt.Fprintf(&b, "<div class=\"section\" id=\"s%d\">\n  <h2>%d. %s</h2>\n", sec, sec, sentence())
		for range 1 + r.IntN(4) {
			fmt.Fprintf(&b, "  <p class=\"text\">%s <a href=\"/page/%d.html\" title=\"%s\">%s</a> %s.</p>\n",
				sentence(), r.IntN(10000), sentence(), sentence(), sentence())
		}
		if r.IntN(3) == 0 {
			b.WriteString("  <table class=\"data\">\n")
			for row := range 3 + r.IntN(6) {
				fmt.Fprintf(&b, "    <tr><td>%d</td><td>%s</td><td>%d.%02d</td></tr>\n", row, words[r.IntN(len(words))], r.IntN(1000), r.IntN(100))
			}
			b.WriteString("  </table>\n")
		}
		b.WriteString("</div>\n")
	}
	b.WriteString("</body>\n</html>\n")
	return []byte(b.String())
}

func genPDF() []byte {
	r := rand.New(rand.NewPCG(12, 5))
	var b bytes.Buffer
	b.WriteString("%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
	var xref []int
	for obj := 1; b.Len() < 1042000; obj++ {
		xref = append(xref, b.Len())
		if obj%3 == 0 {
			n := 2048 + r.IntN(16384)
			fmt.Fprintf(&b, "%d 0 obj\n<< /Length %d /Filter /FlateDecode >>\nstream\n", obj, n)
			for range n {
				b.WriteByte(byte(r.Uint32()))
			}
			b.WriteString("\nendstream\nendobj\n")
			continue
		}
		fmt.Fprintf(&b, "%d 0 obj\n<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents %d 0 R >>\nstream\nBT /F1 11 Tf\n", obj, obj+1)
		for line := range 20 + r.IntN(40) {
			fmt.Fprintf(&b, "72 %d Td (Line %d of object %d: %x) Tj\n", 720-12*line, line, obj, r.Uint64())
		}
		b.WriteString("ET\nendstream\nendobj\n")
	}
	fmt.Fprintf(&b, "xref\n0 %d\n0000000000 65535 f \n", len(xref)+1)
	for _, off := range xref {
		fmt.Fprintf(&b, "%010d 00000 n \n", off)
	}
	fmt.Fprintf(&b, "trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n", len(xref)+1, b.Len())
	return b.Bytes()
}
