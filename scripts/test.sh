#!/usr/bin/env bash
# The project's two test tiers (named in the README):
#   bash scripts/test.sh        the full tier, what CI runs (.ci/run calls it):
#                               installs what the tests need, then gofmt, vet,
#                               the generated-files check, every test with -race
#                               and CI=true, coverage, fuzzing, interop and bench
#   bash scripts/test.sh fast   the fast tier, for every change: gofmt, vet and
#                               go test -short work (tests that need Chromium,
#                               Node or Python skip when these are missing)
# Environment:
#   FUZZTIME   time per fuzz target (default 15s; 0 skips fuzzing)
#   SKIP_INSTALL=1  do not install system packages
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/usr/local/go/bin:$HOME/go/bin:$PATH"
FUZZTIME=${FUZZTIME:-15s}
TIER=${1:-full}
case "$TIER" in
full | fast) ;;
*)
	echo "usage: bash scripts/test.sh [fast]" >&2
	exit 2
	;;
esac

step() { printf '\n== %s ==\n' "$*"; }

lint() {
	step "gofmt and go vet"
	local unformatted
	unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))
	if [ -n "$unformatted" ]; then
		echo "gofmt would change: $unformatted"
		exit 1
	fi
	# "work" is every module of go.work (the library, cmd/wspeer,
	# natsbackplane); ./... would stop at the nested modules' go.mod files.
	go vet work
	GOOS=js GOARCH=wasm go vet . ./godot ./hub ./internal/... ./examples/...
}

if [ "$TIER" = fast ]; then
	lint
	step "go test -short (go.work modules)"
	go test -short -count=1 work
	echo
	echo "fast tier passed"
	exit 0
fi

install_packages() {
	[ "${SKIP_INSTALL:-0}" = 1 ] && return 0
	local need=()
	command -v chromium >/dev/null 2>&1 || need+=(chromium)
	/usr/bin/python3 -c 'import autobahn, twisted' >/dev/null 2>&1 || need+=(python3-autobahn python3-twisted)
	/usr/bin/python3 -c 'import hypercorn' >/dev/null 2>&1 || need+=(python3-hypercorn)
	command -v godot3-server >/dev/null 2>&1 || need+=(godot3-server)
	if [ ${#need[@]} -gt 0 ]; then
		step "installing ${need[*]}"
		local sudo=""
		[ "$(id -u)" = 0 ] || sudo="sudo"
		$sudo apt-get update -qq
		DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${need[@]}" >/dev/null
	fi
	if [ -f interop/package-lock.json ]; then
		step "npm ci (interop)"
		(cd interop && npm ci --no-audit --no-fund --loglevel=error)
	fi
}

# fuzz_target fuzzes one target. A failure with a failing input (written
# under testdata/fuzz) fails the run, with the whole report. The fuzzing
# engine can also fail without any input (a worker that did not answer in
# time on a loaded machine): that is retried once, and fails the second time.
fuzz_target() {
	local pkg=$1 target=$2 out try
	for try in 1 2; do
		if out=$(go test "$pkg" -run XXX -fuzz "^${target}\$" -fuzztime "$FUZZTIME" -fuzzminimizetime 100x 2>&1); then
			echo "$out" | tail -n 3
			return 0
		fi
		echo "$out" | tail -n 40
		if [ "$try" = 1 ] && [ -z "$(git status --porcelain -- "$pkg/testdata/fuzz/$target" 2>/dev/null)" ]; then
			echo "-- $pkg $target failed without a failing input: the fuzzing engine's own failure; once more"
			continue
		fi
		return 1
	done
}

install_packages
lint

step "generated files match a fresh build (go generate ./internal/wasmassets)"
# Builds main.wasm and copies wasm_exec.js into a temporary directory and
# compares them with the committed files; the working tree is not touched.
go run ./internal/wasmassets/gen.go -check

step "go test -race (go.work modules; includes the browser build in headless Chromium)"
# CI=true makes a missing peer (Chromium, Node, Python Autobahn) fail instead of skip:
# this script installs them all.
CI=true go test -race -count=1 -timeout 15m work

step "pure-Go masking (purego build tag: the fallback of the amd64 assembly)"
go test -tags purego -count=1 -run 'Mask' ./internal/proto

step "coverage of internal/proto (>= 90%)"
cov=$(go test -count=1 -cover ./internal/proto | sed -n 's/.*coverage: \([0-9.]*\)%.*/\1/p')
echo "internal/proto coverage: ${cov}%"
awk -v c="$cov" 'BEGIN { exit !(c >= 90) }' || { echo "coverage below 90%"; exit 1; }

if [ "$FUZZTIME" != 0 ]; then
	step "fuzzing, $FUZZTIME per target"
	for pkg in ./internal/proto ./internal/deflate ./godot .; do
		for target in $(go test -list '^Fuzz' "$pkg" | grep '^Fuzz'); do
			echo "-- $pkg $target"
			fuzz_target "$pkg" "$target"
		done
	done
fi

for mod in interop bench; do
	if [ -f "$mod/go.mod" ]; then
		step "go test ($mod module)"
		(cd "$mod" && go vet ./... && CI=true go test -count=1 -timeout 20m ./...)
	fi
done
echo
echo "all tests passed"
