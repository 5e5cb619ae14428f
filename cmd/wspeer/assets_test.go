package main

import (
	"bytes"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// Both chat pages load every file they name (the favicon included), and the
// files they share are the same bytes at both addresses.
func TestServeWebAssets(t *testing.T) {
	t.Parallel()
	_, url := startServer(t, "serve")
	base := "http" + strings.TrimPrefix(url, "ws")
	get := func(u string) (*http.Response, []byte) {
		t.Helper()
		resp, err := http.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %s", u, resp.Status)
		}
		return resp, body
	}
	ref := regexp.MustCompile(`(?:href|src)="([^"]+)"`)
	for _, page := range []string{"/", "/wasm/"} {
		_, html := get(base + page)
		refs := ref.FindAllSubmatch(html, -1)
		if len(refs) < 2 {
			t.Fatalf("%s names %d files", page, len(refs))
		}
		names := map[string]bool{}
		for _, m := range refs {
			name := string(m[1])
			names[name] = true
			get(base + page + name)
		}
		for _, want := range []string{"style.css", "favicon.svg"} {
			if !names[want] {
				t.Errorf("%s does not use %s", page, want)
			}
		}
	}
	resp, icon := get(base + "/favicon.svg")
	if ct := resp.Header.Get("Content-Type"); ct != "image/svg+xml" || !bytes.HasPrefix(icon, []byte("<svg")) {
		t.Errorf("favicon.svg: %s, %q", ct, icon[:min(len(icon), 20)])
	}
	_, css := get(base + "/style.css")
	_, wasmCSS := get(base + "/wasm/style.css")
	if !bytes.Equal(css, wasmCSS) {
		t.Error("/style.css and /wasm/style.css differ")
	}
}

// No web file exists twice: the JavaScript page's directory holds only what
// is its own.
func TestWebFilesOnce(t *testing.T) {
	t.Parallel()
	shared := map[string][]byte{}
	dir := filepath.Join("..", "..", "internal", "wasmassets")
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		shared[e.Name()] = b
	}
	own, err := os.ReadDir("web")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range own {
		b, err := os.ReadFile(filepath.Join("web", e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		for name, sb := range shared {
			if bytes.Equal(b, sb) || (e.Name() == name && e.Name() != "index.html") {
				t.Errorf("cmd/wspeer/web/%s duplicates internal/wasmassets/%s", e.Name(), name)
			}
		}
	}
}
