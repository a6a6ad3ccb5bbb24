#!/usr/bin/env bash
# Helm, for `helm lint` / `helm template` of deploy/helm/tally (tests/helm): built from the Go module
# proxy with `go install`, everything Go writes kept under ~/.cache/tally/helm-<version>, so a second
# run (or a second clone) finds the binary and returns at once.
#   scripts/install-helm.sh          → prints the path of the helm binary
# v3.21.4: the newest 3.x that `go get`/`go mod tidy` accepted on this machine's Go (1.26); Helm 4
# changes lint and template output, and the chart targets v3 (apiVersion v2 charts work with both).
set -euo pipefail
HELM_VERSION="${HELM_VERSION:-v3.21.4}"
CACHE_DIR="${CACHE_DIR:-$HOME/.cache/tally}"
root="$CACHE_DIR/helm-$HELM_VERSION"
bin="$root/bin/helm"
if [[ -x "$bin" ]]; then echo "$bin"; exit 0; fi
command -v go >/dev/null 2>&1 || { echo "install-helm: go not found: install Go 1.22+ (Debian: golang)" >&2; exit 1; }
echo "install-helm: building helm $HELM_VERSION from the Go module proxy (once, a few minutes)" >&2
mkdir -p "$root"
# GOFLAGS=-modcacherw: a module cache Go can delete again (rm -rf) without chmod.
GOPATH="$root/gopath" GOMODCACHE="$root/gopath/pkg/mod" GOCACHE="$root/gocache" GOBIN="$root/bin" \
  CGO_ENABLED=0 GOFLAGS=-modcacherw \
  go install -trimpath "helm.sh/helm/v3/cmd/helm@$HELM_VERSION" >&2
"$bin" version --short >&2
echo "$bin"
