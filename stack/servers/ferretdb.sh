#!/usr/bin/env bash
# FerretDB v1 (MongoDB wire protocol) on its pure-Go SQLite backend, built with `go install`.
FERRETDB_TIMEOUT="${FERRETDB_TIMEOUT:-30}"
FERRETDB_VERSION=v1.24.2

ferretdb_bin() { echo "$CACHE_DIR/ferretdb-$FERRETDB_VERSION/ferretdb"; }

ferretdb_install() {
  [[ -x "$(ferretdb_bin)" ]] && return 0
  need_cmd ferretdb go "install Go 1.22+ (https://go.dev/dl or Debian: golang)" || return 1
  echo "stack: ferretdb: building FerretDB $FERRETDB_VERSION from the Go module proxy (once)" >&2
  # `go install …@version` builds a binary that panics at start: the module lacks the generated
  # build/version/version.txt. So: download the module, copy it, write that file, build.
  local dir src; dir="$(dirname "$(ferretdb_bin)")"; src="$dir/src"
  local mod; mod="$(go mod download -json "github.com/FerretDB/FerretDB@$FERRETDB_VERSION" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')"
  [[ -n "$mod" && -d "$mod" ]] || { echo "stack: ferretdb: could not download the FerretDB module" >&2; return 1; }
  rm -rf "$src"; mkdir -p "$dir"; cp -r "$mod" "$src"; chmod -R u+w "$src"
  echo "$FERRETDB_VERSION" >"$src/build/version/version.txt"
  (cd "$src" && CGO_ENABLED=0 run_logged ferretdb go build -trimpath -o "$(ferretdb_bin)" ./cmd/ferretdb) ||
    { echo "stack: ferretdb: go build failed" >&2; return 1; }
  rm -rf "$src"
}

ferretdb_run() {
  mkdir -p "$STACK_DIR/data/ferretdb/sqlite" "$STACK_DIR/data/ferretdb/state"
  exec "$(ferretdb_bin)" --handler=sqlite --sqlite-url="file:$STACK_DIR/data/ferretdb/sqlite/" \
    --listen-addr="127.0.0.1:$MONGO_PORT" --state-dir="$STACK_DIR/data/ferretdb/state" \
    --debug-addr="127.0.0.1:$FERRETDB_DEBUG_PORT" --telemetry=disable --log-level=info
}

ferretdb_health() { port_in_use "$MONGO_PORT"; }
