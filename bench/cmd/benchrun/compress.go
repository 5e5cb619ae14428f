package main

// The compression scenario (-only compress): compressed echo throughput and
// idle memory with permessage-deflate, written to results-compress.json and
// to its own section of BENCHMARKS.md, which the rest of the report keeps as
// it is (and a full report run keeps the section).

import (
	"fmt"
	"math"
	"os"
	"strings"

	"github.com/wspeer/wspeer/bench/internal/load"
)

// zServers are the compression scenario's contenders in report order; the
// last two are the same servers without compression, for reference.
var zServers = []string{"wspeer-poll-deflate", "wspeer-wait-deflate", "wspeer-http-deflate",
	"gorilla-deflate", "coder-deflate", "gws-deflate", "wspeer-poll", "gorilla"}

// zSizes are the compressed echo sizes.
var zSizes = []int{1024, 16 << 10}

// zIdleConns is the number of connections of the compressed idle scenario.
const zIdleConns = 1000

// zRef is the contender the compressed scenario's ratios refer to.
const zRef = "gorilla-deflate"

func isZKind(kind string) bool { return kind == "zecho" || kind == "zidle" }

func zCells(quick bool) []Cell {
	var cells []Cell
	for _, s := range zSizes {
		cells = append(cells, Cell{Kind: "zecho", Conns: 64, Size: s, K: inflight(s)})
	}
	n := zIdleConns
	if quick {
		n = 200
	}
	return append(cells, Cell{Kind: "zidle", Conns: n, Size: 1024})
}

// zContenders lists who runs a compression cell (the uncompressed references
// only run the echo).
func zContenders(c Cell) []string {
	if c.Kind == "zidle" {
		return zServers[:6]
	}
	return zServers
}

const (
	zBegin = "<!-- compression section: written by bench/cmd/benchrun -only compress; do not edit by hand -->"
	zEnd   = "<!-- end of compression section -->"
	// zLink is the line the main report carries to the section.
	zLink = "Compression (permessage-deflate) is measured separately: see [Compression](#compression-permessage-deflate).\n\n"
	// zLinkAfter is what the link follows in the main report.
	zLinkAfter = "![throughput relative to raw TCP, 64 connections](bench/bench.svg)\n\n"
	// zBefore is the heading the section goes in front of.
	zBefore = "## Targets (issue 8)"
)

// currentSection returns the compression section of the Markdown file at
// path (markers included), or "".
func currentSection(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	s := string(b)
	i, j := strings.Index(s, zBegin), strings.Index(s, zEnd)
	if i < 0 || j < i {
		return ""
	}
	return s[i : j+len(zEnd)+1]
}

// splice puts section (markers included) into md: in place of the current
// one, or in front of zBefore, or at the end.
func splice(md, section string) string {
	if i, j := strings.Index(md, zBegin), strings.Index(md, zEnd); i >= 0 && j > i {
		end := j + len(zEnd)
		if end < len(md) && md[end] == '\n' {
			end++
		}
		return md[:i] + section + md[end:]
	}
	if i := strings.Index(md, zBefore); i >= 0 {
		return md[:i] + section + "\n" + md[i:]
	}
	return md + "\n" + section
}

// writeCompressSection renders the compression records into the section of
// the Markdown file at mdPath.
func writeCompressSection(res Results, mdPath, mach, note string) error {
	old, err := os.ReadFile(mdPath)
	if err != nil && !os.IsNotExist(err) {
		return err
	}
	md := splice(string(old), compressSection(res, mach, note))
	// The main report links to the section (writeReport writes the link
	// after the chart); add it to a report written before the section was.
	if !strings.Contains(md, zLink) {
		if i := strings.Index(md, zLinkAfter); i >= 0 {
			j := i + len(zLinkAfter)
			md = md[:j] + zLink + md[j:]
		}
	}
	return os.WriteFile(mdPath, []byte(md), 0o644)
}

func compressSection(res Results, mach, note string) string {
	recs := res.Records
	t := index(recs)
	var b strings.Builder
	p := func(format string, a ...any) { fmt.Fprintf(&b, format, a...) }
	p("%s\n## Compression (permessage-deflate)\n\n", zBegin)
	b.WriteString(noiseSummary(res))
	p("Echo throughput with permessage-deflate (RFC 7692) negotiated, 64 connections, against %s compressed in the same round (GitHub issue 9).\n\n", zRef)
	p("- **Machine:** %s.\n", mach)
	p("- **Run:** %s.\n", note)
	p("- **Reproduce:** `cd bench && go run ./cmd/benchrun -only compress` (~2 min; writes `bench/results-compress.json` and this section only). Processes are pinned and rounds interleaved as above; cells give the median of the rounds with min–max, ratios are medians of per-round ratios against %s.\n", zRef)
	p("- **Messages:** JSON-like text (a batch of event records with the same keys, words from small vocabularies, varying numbers; 64 different bodies per size, taken in turn, so that no message repeats within a 32 KiB window), a 16-byte stamp in front, sent as binary messages. On its own a message compresses %.1f× at 1 KiB and %.1f× at 16 KiB (zlib level 6); the \"echo ratio\" row below is what each server's echoes achieved on the wire.\n",
		load.DeflateRatio(1024), load.DeflateRatio(16<<10))
	p("- **Load generator:** the same frame-level client, offering `%s` and failing unless the server accepts it. It compresses every body once before the run: on the wire each message is a stored deflate block holding the stamp (written per message, as in the uncompressed runs), then the body compressed on its own (client_no_context_takeover semantics), with RSV1 set. Every echo is inflated (compress/flate, `00 00 ff ff` tail put back; with the previous output as the dictionary when the server keeps its context) and compared byte for byte. K = 16 messages in flight per connection at 1 KiB, 4 at 16 KiB.\n", load.DeflateOffer)
	p("- **Servers** (`bench/internal/servers`), each the README-style server above with compression switched on: wspeer-*-deflate: `Peer.Compression = true` on the peer template (`AcceptStream` peers, and `Upgrader.NewPeer` for wspeer-http), default `CompressionThreshold` (128 B), level 1; the server answers `server_no_context_takeover`, so it compresses every message on its own. gorilla-deflate: `Upgrader{EnableCompression: true}` and `conn.EnableWriteCompression(true)`; gorilla only does no context takeover, level 1. coder-deflate: `AcceptOptions{CompressionMode: websocket.CompressionContextTakeover}` (the mode coder's docs recommend for repetitive text protocols; threshold 128 B); it keeps its context (a 32 KiB window and a flate.Writer per connection), the client's offer turns off only the client's. gws-deflate: `ServerOption{PermessageDeflate: gws.PermessageDeflate{Enabled: true}}` as in its README, which leaves ServerContextTakeover and ClientContextTakeover false: no context takeover either way, level 1, threshold 512 B. wspeer-poll and gorilla are the uncompressed servers with the uncompressed client (its usual binary pattern payload), for reference.\n\n")

	p("### Compressed echo, 64 connections (messages/s)\n\n")
	p("| server |")
	for _, s := range zSizes {
		p(" %s |", sizeName(s))
	}
	p(" echo ratio %s / %s | server CPU %s / %s | load gen CPU %s / %s |\n|---|", sizeName(zSizes[0]), sizeName(zSizes[1]),
		sizeName(zSizes[0]), sizeName(zSizes[1]), sizeName(zSizes[0]), sizeName(zSizes[1]))
	for range zSizes {
		p("---|")
	}
	p("---|---|---|\n")
	med := func(c Cell, who string, f func(Record) float64) string {
		st := t.stat(c, who, f)
		if st.n == 0 || math.IsNaN(st.med) || st.med == 0 {
			return "–"
		}
		return fmt.Sprintf("%.2f", st.med)
	}
	for _, who := range zServers {
		name := who
		if !strings.HasSuffix(who, "-deflate") {
			name = who + " (uncompressed)"
		}
		p("| %s |", name)
		var ratio, cpu, lcpu []string
		for _, s := range zSizes {
			c := Cell{Kind: "zecho", Conns: 64, Size: s, K: inflight(s)}
			ratio = append(ratio, med(c, who, func(r Record) float64 { return r.Result.EchoRatio }))
			cpu = append(cpu, med(c, who, func(r Record) float64 { return r.Result.SrvCPU }))
			lcpu = append(lcpu, med(c, who, ldcpu))
			st := t.stat(c, who, msgs)
			if st.n == 0 {
				p(" error: %s |", short(t.errs(c, who)))
				continue
			}
			p(" **%s** (%s–%s)%s %.0f MB/s<br>%s %s |", si(st.med), si(st.min), si(st.max), t.warn(c, who, res.MaxOthers), st.med*float64(s)/1e6, x(t.ratio(c, who, zRef, msgs)), zRef)
		}
		p(" %s | %s | %s |\n", strings.Join(ratio, " / "), strings.Join(cpu, " / "), strings.Join(lcpu, " / "))
	}
	p("\nMB/s counts uncompressed payload bytes echoed. Server CPU is the server's share of its core (1.00 = saturated); the load generator's stays at or below 0.8, so the servers are what is measured.\n\n")

	var idle Cell
	for _, r := range recs {
		if r.Cell.Kind == "zidle" {
			idle = r.Cell
		}
	}
	if idle.Kind != "" {
		p("### Idle memory with compression: %d connections, each idle after %d compressed echoes of %s (server memory per connection)\n\n", idle.Conns, load.IdleMessages, sizeName(idle.Size))
		p("Measured as in the idle table above (`benchsrv -stats`, after two GCs, before and after the connections are opened): what a server keeps per connection once compression has been used.\n\n")
		p("| server | RSS/conn | Go heap in use/conn | stacks/conn | heap+stacks/conn | goroutines/conn |\n|---|---|---|---|---|---|\n")
		for _, who := range zContenders(idle) {
			rs := t[idle.key()][who]
			mem := func(f func(*MemPerConn) float64) stat {
				return statOf(values(rs, func(r Record) float64 {
					if r.Mem == nil {
						return math.NaN()
					}
					return f(r.Mem)
				}))
			}
			rss := mem(func(m *MemPerConn) float64 { return m.RSS })
			if rss.n == 0 {
				p("| %s | error: %s | | | | |\n", who, short(t.errs(idle, who)))
				continue
			}
			heap := mem(func(m *MemPerConn) float64 { return m.Heap })
			stack := mem(func(m *MemPerConn) float64 { return m.Stack })
			both := mem(func(m *MemPerConn) float64 { return m.Heap + m.Stack })
			g := mem(func(m *MemPerConn) float64 { return m.Goroutines })
			p("| %s | %s (%s–%s) | %s | %s | **%s** | %.1f |\n", who, kib(rss.med), kib(rss.min), kib(rss.max), kib(heap.med), kib(stack.med), kib(both.med), g.med)
		}
		p("\n")
	}
	if idle.Kind != "" {
		p("Go heap in use counts whole allocated spans, RSS only the pages touched: a compressor's tables that were allocated but never written to cost heap but no RSS, which is why a server that keeps a flate.Writer per connection (coder with context takeover) shows far more heap than RSS.\n\n")
	}
	p("%s\n", zEnd)
	return b.String()
}
