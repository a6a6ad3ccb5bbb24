#!/usr/bin/env bash
# Builds tools/promlint (the linter `promtool check metrics` runs: client_golang's testutil/promlint)
# once, into ~/.cache/tally/bin/promlint, and prints its path. Rebuilt only when its source changes;
# modules and the build cache stay under ~/.cache/tally/go, so a warm start takes about a second.
set -euo pipefail
cd "$(dirname "$0")/.."
cache="${TALLY_CACHE:-$HOME/.cache/tally}"
bin="$cache/bin/promlint"
stamp="$cache/bin/promlint.src"
src="$(cat tools/promlint/go.mod tools/promlint/go.sum tools/promlint/main.go | sha256sum | cut -d' ' -f1)"
if [[ -x "$bin" && -f "$stamp" && "$(cat "$stamp")" == "$src" ]]; then echo "$bin"; exit 0; fi
command -v go >/dev/null 2>&1 || { echo "build-promlint: go is not installed (Go ≥ 1.26 needed for tools/promlint)" >&2; exit 1; }
mkdir -p "$cache/bin"
export GOPATH="$cache/go" GOMODCACHE="$cache/go/mod" GOCACHE="$cache/go/build" GOFLAGS=-mod=mod
(cd tools/promlint && go build -trimpath -o "$bin" .) >&2
echo "$src" >"$stamp"
echo "$bin"
