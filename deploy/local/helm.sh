#!/usr/bin/env bash
# Installs the tools the chart's tests (test/k8s) need into .local/tools/bin, built from source
# with Go from the Go module proxy (no binary downloads), cached: a second run costs nothing.
#   helm                Helm, for `helm lint` and `helm template`
#   parley-k8s-strict   strict decoding of rendered objects into the Kubernetes API's Go types
#                       (unknown fields are errors), from deploy/helm/strict
# Called by infra.sh install; prints nothing when both are already there.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
HELM_VERSION="v3.22.0"
BIN="$ROOT/.local/tools/bin"
CACHE="$ROOT/.local/cache"
LOGS="$ROOT/.local/logs"
STRICT_SRC="$ROOT/deploy/helm/strict"

need_go() { command -v go >/dev/null || { echo "[helm] Go is needed to build $1; install Go 1.26 or newer" >&2; exit 69; }; }
# Same module and build caches as the FerretDB build (infra.sh), so compiled packages are shared.
go_env() { env GOMODCACHE="$CACHE/gomod" GOCACHE="$CACHE/gocache" CGO_ENABLED=0 "$@"; }

if ! [[ -x "$BIN/helm" && "$(cat "$BIN/helm.stamp" 2>/dev/null)" == "$HELM_VERSION" ]]; then
  need_go "Helm $HELM_VERSION"
  mkdir -p "$BIN" "$CACHE" "$LOGS"
  echo "[helm] building Helm $HELM_VERSION with $(go version | cut -d' ' -f3) into .local/tools/bin (a few minutes, once)" >&2
  if ! go_env GOBIN="$BIN" GOFLAGS="-buildvcs=false" go install -trimpath "helm.sh/helm/v3/cmd/helm@$HELM_VERSION" >"$LOGS/helm-build.log" 2>&1; then
    tail -30 "$LOGS/helm-build.log" >&2
    echo "[helm] building Helm failed (see .local/logs/helm-build.log)" >&2
    exit 1
  fi
  echo "$HELM_VERSION" >"$BIN/helm.stamp"
fi

strict_stamp="$(cat "$STRICT_SRC/go.mod" "$STRICT_SRC/go.sum" "$STRICT_SRC/main.go" | sha256sum | cut -c1-16)"
if ! [[ -x "$BIN/parley-k8s-strict" && "$(cat "$BIN/parley-k8s-strict.stamp" 2>/dev/null)" == "$strict_stamp" ]]; then
  need_go "parley-k8s-strict"
  mkdir -p "$BIN" "$CACHE" "$LOGS"
  echo "[helm] building parley-k8s-strict (deploy/helm/strict)" >&2
  if ! (cd "$STRICT_SRC" && go_env GOFLAGS="-mod=readonly -buildvcs=false" go build -trimpath -o "$BIN/parley-k8s-strict" .) >"$LOGS/k8s-strict-build.log" 2>&1; then
    tail -30 "$LOGS/k8s-strict-build.log" >&2
    echo "[helm] building parley-k8s-strict failed (see .local/logs/k8s-strict-build.log)" >&2
    exit 1
  fi
  echo "$strict_stamp" >"$BIN/parley-k8s-strict.stamp"
fi
