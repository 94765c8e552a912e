#!/usr/bin/env bash
# Installs Helm (the chart's tests run `helm lint` and `helm template`) into .local/tools/bin,
# built from source with Go from the Go module proxy (no binary downloads), cached: a second
# run costs nothing. Called by infra.sh install; prints nothing when Helm is already there.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
HELM_VERSION="v3.22.0"
BIN="$ROOT/.local/tools/bin"
CACHE="$ROOT/.local/cache"
LOGS="$ROOT/.local/logs"

[[ -x "$BIN/helm" && "$(cat "$BIN/helm.stamp" 2>/dev/null)" == "$HELM_VERSION" ]] && exit 0
command -v go >/dev/null || { echo "[helm] Go is needed to build Helm $HELM_VERSION; install Go 1.25 or newer" >&2; exit 69; }
mkdir -p "$BIN" "$CACHE" "$LOGS"
echo "[helm] building Helm $HELM_VERSION with $(go version | cut -d' ' -f3) into .local/tools/bin (a few minutes, once)" >&2
# Same module and build caches as the FerretDB build (infra.sh).
if ! GOMODCACHE="$CACHE/gomod" GOCACHE="$CACHE/gocache" GOBIN="$BIN" GOFLAGS="-buildvcs=false" CGO_ENABLED=0 \
  go install -trimpath "helm.sh/helm/v3/cmd/helm@$HELM_VERSION" >"$LOGS/helm-build.log" 2>&1; then
  tail -30 "$LOGS/helm-build.log" >&2
  echo "[helm] building Helm failed (see .local/logs/helm-build.log)" >&2
  exit 1
fi
echo "$HELM_VERSION" >"$BIN/helm.stamp"
