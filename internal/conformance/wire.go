package conformance

import (
	"bufio"
	"crypto/sha1"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"
)

// This file is the suite's own wire code, independent of the library under
// test: frame encoding with any (even invalid) field values, a strict frame
// reader for what the peer sends, and both sides of the opening handshake.

// Opcodes used by the cases.
const (
	opCont   byte = 0x0
	opText   byte = 0x1
	opBinary byte = 0x2
	opClose  byte = 0x8
	opPing   byte = 0x9
	opPong   byte = 0xA
)

// rsv1 is the Frame.Rsv value of the RSV1 bit (permessage-deflate's
// "compressed").
const rsv1 byte = 4

// maxPeerMessage bounds what the suite accepts from the peer: the biggest
// case sends 16 MiB, so anything far beyond is an error, not an allocation.
const maxPeerMessage = 20 << 20

// Frame is one frame as a case sends it. Every field is sent as given, so that
// cases can produce reserved bits, reserved opcodes and fragmented control
// frames.
type Frame struct {
	Opcode  byte
	NotFin  bool // FIN is set unless NotFin
	Rsv     byte // the three reserved bits, 0-7
	Payload []byte
	// Chop writes the frame in TCP writes of this many bytes, with a short
	// pause between them (0: one write, coalesced with neighbouring frames).
	Chop int
	// Sync writes the frame on its own and pauses briefly after it
	// (Autobahn's frame-wise sending).
	Sync bool
}

// encodeFrame appends f to dst, masking the payload with a random key when
// masked (the client role).
func encodeFrame(dst []byte, f Frame, masked bool) (out []byte, headerLen int) {
	b0 := f.Opcode&0x0F | (f.Rsv&7)<<4
	if !f.NotFin {
		b0 |= 0x80
	}
	var b1 byte
	if masked {
		b1 = 0x80
	}
	start := len(dst)
	n := len(f.Payload)
	switch {
	case n <= 125:
		dst = append(dst, b0, b1|byte(n))
	case n <= 0xFFFF:
		dst = append(dst, b0, b1|126)
		dst = binary.BigEndian.AppendUint16(dst, uint16(n))
	default:
		dst = append(dst, b0, b1|127)
		dst = binary.BigEndian.AppendUint64(dst, uint64(n))
	}
	var key [4]byte
	if masked {
		binary.LittleEndian.PutUint32(key[:], rand.Uint32())
		dst = append(dst, key[:]...)
	}
	headerLen = len(dst) - start
	p := len(dst)
	dst = append(dst, f.Payload...)
	if masked {
		maskBytes(key, dst[p:])
	}
	return dst, headerLen
}

// maskBytes XORs b with the key, word at a time (fast enough under -race for
// the 16 MiB cases).
func maskBytes(key [4]byte, b []byte) {
	k := uint64(binary.LittleEndian.Uint32(key[:]))
	k |= k << 32
	i := 0
	for ; i+8 <= len(b); i += 8 {
		binary.LittleEndian.PutUint64(b[i:], binary.LittleEndian.Uint64(b[i:])^k)
	}
	for ; i < len(b); i++ {
		b[i] ^= key[i&3]
	}
}

// rxFrame is a frame received from the peer.
type rxFrame struct {
	fin     bool
	rsv     byte
	opcode  byte
	payload []byte
}

// errPeer marks a protocol violation by the peer (as opposed to an I/O error).
var errPeer = errors.New("protocol violation by the peer")

// readFrame reads one frame, checking what RFC 6455 requires of every frame:
// masking by role, no reserved bits but those in allowedRsv on data frames
// (RSV1 with permessage-deflate), known opcodes, whole and short control
// frames, minimal length encoding.
func readFrame(r *bufio.Reader, wantMasked bool, max int, allowedRsv byte) (rxFrame, error) {
	var h [2]byte
	if _, err := io.ReadFull(r, h[:]); err != nil {
		return rxFrame{}, err
	}
	f := rxFrame{fin: h[0]&0x80 != 0, rsv: h[0] >> 4 & 7, opcode: h[0] & 0x0F}
	masked := h[1]&0x80 != 0
	n := uint64(h[1] & 0x7F)
	switch n {
	case 126:
		var e [2]byte
		if _, err := io.ReadFull(r, e[:]); err != nil {
			return f, err
		}
		n = uint64(binary.BigEndian.Uint16(e[:]))
		if n < 126 {
			return f, fmt.Errorf("%w: non-minimal 16-bit length %d", errPeer, n)
		}
	case 127:
		var e [8]byte
		if _, err := io.ReadFull(r, e[:]); err != nil {
			return f, err
		}
		n = binary.BigEndian.Uint64(e[:])
		if n <= 0xFFFF || n>>63 != 0 {
			return f, fmt.Errorf("%w: bad 64-bit length %d", errPeer, n)
		}
	}
	switch {
	case masked != wantMasked:
		return f, fmt.Errorf("%w: frame mask bit %v, want %v", errPeer, masked, wantMasked)
	case f.rsv&^allowedRsv != 0 || f.rsv != 0 && f.opcode >= 8:
		return f, fmt.Errorf("%w: reserved bits %d set", errPeer, f.rsv)
	case f.opcode >= 3 && f.opcode <= 7 || f.opcode >= 0xB:
		return f, fmt.Errorf("%w: reserved opcode %#x", errPeer, f.opcode)
	case f.opcode >= 8 && (!f.fin || n > 125):
		return f, fmt.Errorf("%w: control frame fragmented or longer than 125 bytes", errPeer)
	case n > uint64(max):
		return f, fmt.Errorf("%w: frame of %d bytes exceeds the suite's limit", errPeer, n)
	}
	var key [4]byte
	if masked {
		if _, err := io.ReadFull(r, key[:]); err != nil {
			return f, err
		}
	}
	f.payload = make([]byte, n)
	if _, err := io.ReadFull(r, f.payload); err != nil {
		return f, err
	}
	if masked {
		maskBytes(key, f.payload)
	}
	return f, nil
}

// parseClose decodes a received close payload: code -1 for an empty payload.
func parseClose(p []byte) (code int, reason string, err error) {
	switch {
	case len(p) == 0:
		return -1, "", nil
	case len(p) == 1:
		return 0, "", fmt.Errorf("%w: close payload of one byte", errPeer)
	}
	code = int(binary.BigEndian.Uint16(p))
	if !validCloseCode(code) {
		return code, "", fmt.Errorf("%w: close code %d may not be sent", errPeer, code)
	}
	if !utf8.Valid(p[2:]) {
		return code, "", fmt.Errorf("%w: close reason is not UTF-8", errPeer)
	}
	return code, string(p[2:]), nil
}

// validCloseCode reports whether code may appear on the wire (RFC 6455 7.4
// and the IANA registry).
func validCloseCode(code int) bool {
	return code >= 1000 && code <= 1003 || code >= 1007 && code <= 1014 || code >= 3000 && code <= 4999
}

func closePayload(code int, reason []byte) []byte {
	b := binary.BigEndian.AppendUint16(nil, uint16(code))
	return append(b, reason...)
}

// acceptKey computes Sec-WebSocket-Accept for a key (RFC 6455 section 4.2.2).
func acceptKey(key string) string {
	h := sha1.Sum([]byte(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"))
	return base64.StdEncoding.EncodeToString(h[:])
}

// clientHandshake dials rawURL (ws:// only) and performs the opening
// handshake with raw bytes, offering extensions (a Sec-WebSocket-Extensions
// value; "" for none). The returned reader holds any bytes read past the
// response; exts are the response's Sec-WebSocket-Extensions values, which
// must be empty when nothing was offered.
func clientHandshake(rawURL string, timeout time.Duration, extensions string) (conn net.Conn, br *bufio.Reader, exts []string, err error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, nil, nil, err
	}
	if u.Scheme != "ws" {
		return nil, nil, nil, fmt.Errorf("only ws:// URLs are supported, got %q", rawURL)
	}
	host := u.Host
	if u.Port() == "" {
		host = net.JoinHostPort(u.Hostname(), "80")
	}
	conn, err = net.DialTimeout("tcp", host, timeout)
	if err != nil {
		return nil, nil, nil, err
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		tc.SetNoDelay(true)
	}
	conn.SetDeadline(time.Now().Add(timeout))
	var k [16]byte
	binary.LittleEndian.PutUint64(k[:], rand.Uint64())
	binary.LittleEndian.PutUint64(k[8:], rand.Uint64())
	key := base64.StdEncoding.EncodeToString(k[:])
	target := u.RequestURI()
	req := "GET " + target + " HTTP/1.1\r\nHost: " + u.Host + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Key: " + key + "\r\nSec-WebSocket-Version: 13\r\nUser-Agent: wspeer-conformance\r\n"
	if extensions != "" {
		req += "Sec-WebSocket-Extensions: " + extensions + "\r\n"
	}
	req += "\r\n"
	if _, err := io.WriteString(conn, req); err != nil {
		conn.Close()
		return nil, nil, nil, err
	}
	br = bufio.NewReaderSize(conn, 64<<10)
	resp, err := http.ReadResponse(br, &http.Request{Method: "GET"})
	if err != nil {
		conn.Close()
		return nil, nil, nil, fmt.Errorf("reading the handshake response: %w", err)
	}
	bad := func(why string) (net.Conn, *bufio.Reader, []string, error) {
		conn.Close()
		return nil, nil, nil, fmt.Errorf("bad handshake response (%s): %s", resp.Status, why)
	}
	exts = resp.Header.Values("Sec-WebSocket-Extensions")
	switch {
	case resp.StatusCode != http.StatusSwitchingProtocols:
		return bad("status is not 101")
	case !strings.EqualFold(resp.Header.Get("Upgrade"), "websocket"):
		return bad("Upgrade is not websocket")
	case !headerHasToken(resp.Header, "Connection", "upgrade"):
		return bad("Connection lacks upgrade")
	case resp.Header.Get("Sec-WebSocket-Accept") != acceptKey(key):
		return bad("wrong Sec-WebSocket-Accept")
	case extensions == "" && len(exts) > 0:
		return bad("extension accepted though none was offered")
	}
	conn.SetDeadline(time.Time{})
	return conn, br, exts, nil
}

// serverHandshake reads a client's opening request from conn and answers it
// with 101, with the Sec-WebSocket-Extensions value extensions returns for
// the request (nil or "": none). It returns the request (for its URL) and the
// reader holding any bytes past the request.
func serverHandshake(conn net.Conn, timeout time.Duration, extensions func(*http.Request) string) (*http.Request, *bufio.Reader, error) {
	conn.SetDeadline(time.Now().Add(timeout))
	defer conn.SetDeadline(time.Time{})
	br := bufio.NewReaderSize(conn, 64<<10)
	req, err := http.ReadRequest(br)
	if err != nil {
		return nil, nil, fmt.Errorf("reading the handshake request: %w", err)
	}
	key := req.Header.Get("Sec-WebSocket-Key")
	var why string
	switch {
	case req.Method != http.MethodGet:
		why = "method is not GET"
	case !strings.EqualFold(req.Header.Get("Upgrade"), "websocket"):
		why = "Upgrade is not websocket"
	case !headerHasToken(req.Header, "Connection", "upgrade"):
		why = "Connection lacks upgrade"
	case req.Header.Get("Sec-WebSocket-Version") != "13":
		why = "Sec-WebSocket-Version is not 13"
	case len(key) != 24:
		why = "bad Sec-WebSocket-Key"
	}
	if why != "" {
		io.WriteString(conn, "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nSec-WebSocket-Version: 13\r\nConnection: close\r\n\r\n")
		return nil, nil, fmt.Errorf("bad handshake request: %s", why)
	}
	resp := "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: " +
		acceptKey(key) + "\r\nServer: wspeer-conformance\r\n"
	if extensions != nil {
		if ext := extensions(req); ext != "" {
			resp += "Sec-WebSocket-Extensions: " + ext + "\r\n"
		}
	}
	resp += "\r\n"
	if _, err := io.WriteString(conn, resp); err != nil {
		return nil, nil, err
	}
	return req, br, nil
}

func headerHasToken(h http.Header, name, token string) bool {
	for _, v := range h.Values(name) {
		for _, t := range strings.Split(v, ",") {
			if strings.EqualFold(strings.TrimSpace(t), token) {
				return true
			}
		}
	}
	return false
}
