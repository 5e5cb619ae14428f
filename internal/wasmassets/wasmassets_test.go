package wasmassets

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

// Every file the page and the shared list name is served, with the type a
// browser needs.
func TestHandlerServesFiles(t *testing.T) {
	want := map[string]string{
		"/":             "text/html; charset=utf-8",
		"/main.wasm":    "application/wasm",
		"/wasm_exec.js": "text/javascript; charset=utf-8",
		"/favicon.svg":  "image/svg+xml",
		"/style.css":    "text/css; charset=utf-8",
	}
	for _, name := range Shared() {
		if _, ok := want["/"+name]; !ok {
			t.Errorf("shared file %s not checked", name)
		}
	}
	h := Handler()
	for path, ctype := range want {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
		if rec.Code != http.StatusOK || rec.Body.Len() == 0 {
			t.Errorf("GET %s: %d, %d bytes", path, rec.Code, rec.Body.Len())
		}
		if got := rec.Header().Get("Content-Type"); got != ctype {
			t.Errorf("GET %s: Content-Type %q, want %q", path, got, ctype)
		}
	}
}
