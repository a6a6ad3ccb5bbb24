#!/usr/bin/env bash
# Helm, for `helm lint` / `helm template` of deploy/helm/tally (tests/helm): built from the Go module
# proxy with `go install`, everything Go writes kept under ~/.cache/tally/helm-<version>, so a second
# run (or a second clone) finds the binary and returns at once.
#   scripts/install-helm.sh          → prints the path of the helm binary
# v3.21.4: the newest 3.x the Go module proxy serves that `go get`/`go mod tidy` accepted on this
# machine's Go (1.26; v3.22.0 is served but not approved). Helm 3, which most deploy tooling still
# runs; the chart (apiVersion v2) is meant for Helm 4 as well, untested there.
set -euo pipefail
HELM_VERSION="${HELM_VERSION:-v3.21.4}"
CACHE_DIR="${CACHE_DIR:-$HOME/.cache/tally}"
root="$CACHE_DIR/helm-$HELM_VERSION"
bin="$root/bin/helm"
# A cached binary counts only if it is the stamped build of this version (see the -X flags below).
if [[ -x "$bin" && "$("$bin" version --template '{{.Version}}' 2>/dev/null)" == "$HELM_VERSION" ]]; then echo "$bin"; exit 0; fi
command -v go >/dev/null 2>&1 || { echo "install-helm: go not found: install Go 1.22+ (Debian: golang)" >&2; exit 1; }
echo "install-helm: building helm $HELM_VERSION from the Go module proxy (once, a few minutes)" >&2
mkdir -p "$root"
# The -X flags are those of Helm's Makefile: without them the binary calls itself "v3.21" and
# renders for Kubernetes 1.20 (its fallback), which the chart's kubeVersion (>= 1.25) refuses.
# 1.36: the k8s.io modules v3.21.4 is built with (v0.36.2). GOFLAGS=-modcacherw: a module cache rm -rf can delete.
K8S_MINOR="${HELM_K8S_MINOR:-36}"
ldflags="-s -w -X helm.sh/helm/v3/internal/version.version=$HELM_VERSION -X helm.sh/helm/v3/internal/version.gitTreeState=clean"
for pkg in pkg/lint/rules pkg/chartutil; do
  ldflags+=" -X helm.sh/helm/v3/$pkg.k8sVersionMajor=1 -X helm.sh/helm/v3/$pkg.k8sVersionMinor=$K8S_MINOR"
done
GOPATH="$root/gopath" GOMODCACHE="$root/gopath/pkg/mod" GOCACHE="$root/gocache" GOBIN="$root/bin" \
  CGO_ENABLED=0 GOFLAGS=-modcacherw \
  go install -trimpath -ldflags "$ldflags" "helm.sh/helm/v3/cmd/helm@$HELM_VERSION" >&2
"$bin" version --short >&2
echo "$bin"
