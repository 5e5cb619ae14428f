//go:build ignore

// Gen rebuilds main.wasm from examples/wasmchat and copies wasm_exec.js from
// the Go toolchain that builds it, into the internal/wasmassets directory
// (found with go list, so it runs from anywhere in the module):
//
//	go generate ./internal/wasmassets      (runs: go run gen.go)
//
// With -check it builds into a temporary directory instead and exits with
// status 1 when the committed files differ from the fresh ones; CI runs
//
//	go run ./internal/wasmassets/gen.go -check
//
// The build is deterministic: -trimpath, no VCS stamp, no debug information,
// an empty build ID (which would otherwise change with every comment of the
// packages built) and the environment's GOFLAGS ignored, so the bytes depend
// only on the compiled code and the Go version.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

const (
	assetsPkg = "github.com/wspeer/wspeer/internal/wasmassets"
	clientPkg = "github.com/wspeer/wspeer/examples/wasmchat"
)

func main() {
	check := flag.Bool("check", false, "compare the committed files with a fresh build instead of writing them")
	flag.Parse()
	if err := run(*check); err != nil {
		fmt.Fprintln(os.Stderr, "wasmassets gen:", err)
		os.Exit(1)
	}
}

func run(check bool) error {
	dir, err := goOutput("list", "-f", "{{.Dir}}", assetsPkg)
	if err != nil {
		return err
	}
	if !check {
		return generate(dir)
	}
	out, err := os.MkdirTemp("", "wasmassets-check")
	if err != nil {
		return err
	}
	defer os.RemoveAll(out)
	if err := generate(out); err != nil {
		return err
	}
	stale := false
	for _, name := range []string{"main.wasm", "wasm_exec.js"} {
		fresh, err1 := os.ReadFile(filepath.Join(out, name))
		committed, err2 := os.ReadFile(filepath.Join(dir, name))
		if err1 != nil || err2 != nil || !bytes.Equal(fresh, committed) {
			fmt.Fprintf(os.Stderr, "internal/wasmassets/%s differs from a fresh build (%d bytes committed, %d fresh)\n", name, len(committed), len(fresh))
			stale = true
		}
	}
	if stale {
		v, _ := goOutput("env", "GOVERSION")
		return fmt.Errorf("regenerate with %s: go generate ./internal/wasmassets\n"+
			"(the build is reproducible with the same Go version only: a file built by another one differs too)", v)
	}
	fmt.Println("internal/wasmassets: main.wasm and wasm_exec.js match a fresh build")
	return nil
}

// generate builds main.wasm into dir and copies the toolchain's wasm_exec.js.
func generate(dir string) error {
	build := exec.Command("go", "build", "-trimpath", "-buildvcs=false", "-ldflags=-s -w -buildid=",
		"-o", filepath.Join(dir, "main.wasm"), clientPkg)
	build.Env = append(os.Environ(), "GOOS=js", "GOARCH=wasm", "GOFLAGS=", "GOWASM=", "CGO_ENABLED=0")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		return fmt.Errorf("building main.wasm: %w", err)
	}
	goroot, err := goOutput("env", "GOROOT")
	if err != nil {
		return err
	}
	js, err := os.ReadFile(filepath.Join(goroot, "lib", "wasm", "wasm_exec.js"))
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "wasm_exec.js"), js, 0o644)
}

func goOutput(args ...string) (string, error) {
	cmd := exec.Command("go", args...)
	cmd.Env = append(os.Environ(), "GOFLAGS=")
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("go %s: %w", strings.Join(args, " "), err)
	}
	return strings.TrimSpace(string(out)), nil
}
