//go:build !js

package wspeer

import (
	"go/ast"
	"go/build"
	"go/parser"
	"go/token"
	"os"
	"slices"
	"strings"
	"testing"
)

// peerMethods parses the package's non-test files that ctx would build and
// returns the exported methods of Peer they declare.
func peerMethods(t *testing.T, ctx build.Context) []string {
	t.Helper()
	entries, err := os.ReadDir(".")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	fset := token.NewFileSet()
	for _, e := range entries {
		name := e.Name()
		if !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") {
			continue
		}
		if ok, err := ctx.MatchFile(".", name); err != nil || !ok {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, parser.SkipObjectResolution)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range f.Decls {
			fd, ok := d.(*ast.FuncDecl)
			if !ok || fd.Recv == nil || !fd.Name.IsExported() {
				continue
			}
			typ := fd.Recv.List[0].Type
			if star, ok := typ.(*ast.StarExpr); ok {
				typ = star.X
			}
			if id, ok := typ.(*ast.Ident); ok && id.Name == "Peer" {
				names = append(names, fd.Name.Name)
			}
		}
	}
	slices.Sort(names)
	return names
}

// TestBuildsHaveTheSameMethods keeps the browser build's Peer API equal to the
// native one, so that a program compiles unchanged for either.
func TestBuildsHaveTheSameMethods(t *testing.T) {
	native := build.Default
	native.GOOS, native.GOARCH = "linux", "amd64"
	web := build.Default
	web.GOOS, web.GOARCH = "js", "wasm"
	n, w := peerMethods(t, native), peerMethods(t, web)
	if len(n) < 20 {
		t.Fatalf("found only %d native methods: %v", len(n), n)
	}
	if !slices.Equal(n, w) {
		t.Fatalf("method sets differ:\nnative: %v\nbrowser: %v", n, w)
	}
}
