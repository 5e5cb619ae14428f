package xconnect_test

import (
	"crypto/tls"
	"encoding/binary"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/wspeer/wspeer/xconnect"
)

// TestServerOffersExtendedConnect checks, on the wire, that net/http's HTTP/2
// server of this test binary (which imports xconnect) sends
// SETTINGS_ENABLE_CONNECT_PROTOCOL = 1 (RFC 8441 section 3) in its first
// SETTINGS frame.
func TestServerOffersExtendedConnect(t *testing.T) {
	if !strings.Contains(os.Getenv("GODEBUG"), xconnect.Setting) && !strings.Contains(os.Getenv("GODEBUG"), "http2xconnect=") {
		t.Fatalf("GODEBUG = %q, want it to contain %s", os.Getenv("GODEBUG"), xconnect.Setting)
	}
	if strings.Contains(os.Getenv("GODEBUG"), "http2xconnect=0") {
		t.Skip("GODEBUG turns extended CONNECT off explicitly")
	}
	srv := httptest.NewUnstartedServer(http.NotFoundHandler())
	srv.EnableHTTP2 = true
	srv.StartTLS()
	defer srv.Close()
	c, err := tls.Dial("tcp", srv.Listener.Addr().String(), &tls.Config{InsecureSkipVerify: true, NextProtos: []string{"h2"}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	if p := c.ConnectionState().NegotiatedProtocol; p != "h2" {
		t.Fatalf("ALPN chose %q, want h2", p)
	}
	// The client preface and an empty SETTINGS frame.
	if _, err := io.WriteString(c, "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00\x00\x04\x00\x00\x00\x00\x00"); err != nil {
		t.Fatal(err)
	}
	var hdr [9]byte
	if _, err := io.ReadFull(c, hdr[:]); err != nil {
		t.Fatal(err)
	}
	n := int(hdr[0])<<16 | int(hdr[1])<<8 | int(hdr[2])
	if hdr[3] != 4 || n%6 != 0 || n > 1024 {
		t.Fatalf("first frame: type %d length %d, want a SETTINGS frame", hdr[3], n)
	}
	payload := make([]byte, n)
	if _, err := io.ReadFull(c, payload); err != nil {
		t.Fatal(err)
	}
	for i := 0; i+6 <= n; i += 6 {
		id, v := binary.BigEndian.Uint16(payload[i:]), binary.BigEndian.Uint32(payload[i+2:])
		if id == 8 {
			if v != 1 {
				t.Fatalf("SETTINGS_ENABLE_CONNECT_PROTOCOL = %d, want 1", v)
			}
			return
		}
	}
	t.Fatalf("SETTINGS %x has no SETTINGS_ENABLE_CONNECT_PROTOCOL", payload)
}
