package conformance

import (
	"bytes"
	"compress/flate"
	"strings"
	"testing"
)

// TestCheckDistances checks the DEFLATE walker against compress/flate: full
// compression of repetitive data has distances beyond small windows, Huffman
// coding has none, and a dictionary allows reaching into the history.
func TestCheckDistances(t *testing.T) {
	data := genJSON()[:100000]
	deflate := func(level int, dict, p []byte) []byte {
		var b bytes.Buffer
		w, _ := flate.NewWriterDict(&b, level, dict)
		w.Write(p)
		w.Flush()
		return append(bytes.TrimSuffix(b.Bytes(), []byte{0, 0, 0xff, 0xff}), inflateTail...)
	}
	for _, level := range []int{flate.BestSpeed, flate.DefaultCompression, flate.BestCompression} {
		z := deflate(level, nil, data)
		if err := checkDistances(z, 0, 1<<15); err != nil {
			t.Errorf("level %d, window 15: %v", level, err)
		}
		if err := checkDistances(z, 0, 1<<8); err == nil || !strings.Contains(err.Error(), "exceeds the negotiated window") {
			t.Errorf("level %d, window 8: err %v, want a distance beyond the window", level, err)
		}
	}
	for bits := 8; bits <= 15; bits++ {
		if err := checkDistances(deflate(flate.HuffmanOnly, nil, data), 0, 1<<bits); err != nil {
			t.Errorf("Huffman only, window %d: %v", bits, err)
		}
	}
	hist := data[:1000]
	z := deflate(flate.BestCompression, hist, hist)
	if err := checkDistances(z, len(hist), 1<<15); err != nil {
		t.Errorf("with history: %v", err)
	}
	if err := checkDistances(z, 0, 1<<15); err == nil {
		t.Error("a reference into a missing history passed")
	}
	if err := checkDistances(z[:len(z)/2], len(hist), 1<<15); err == nil {
		t.Error("a truncated stream passed")
	}
}
