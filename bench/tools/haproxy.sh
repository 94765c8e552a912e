#!/usr/bin/env bash
# HAProxy for the bench's "TLS at the ingress" comparison (bench/src/scenarios/tls.ts): prints
# the path of a haproxy binary, then the library folder it needs (may be empty). One on PATH is
# used as it is; otherwise Debian's package and the libraries this machine lacks are fetched
# with apt-get download and unpacked under .local/bench/haproxy (dpkg -x: nothing is installed
# system-wide and no service is started; the bench runs its own haproxy processes).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
if command -v haproxy >/dev/null; then
  command -v haproxy
  echo ""
  exit 0
fi
dir="$root/.local/bench/haproxy"
bin="$dir/root/usr/sbin/haproxy"
lib="$dir/root/usr/lib/x86_64-linux-gnu"
if [[ ! -x "$bin" ]] || ! LD_LIBRARY_PATH="$lib" "$bin" -v >/dev/null 2>&1; then
  mkdir -p "$dir/debs"
  (
    cd "$dir/debs"
    apt-get download haproxy liblua5.3-0 libopentracing-c-wrapper0 libopentracing1 >"$dir/apt.log" 2>&1 || {
      apt-get update -q >>"$dir/apt.log" 2>&1 || true
      apt-get download haproxy liblua5.3-0 libopentracing-c-wrapper0 libopentracing1 >>"$dir/apt.log" 2>&1
    }
    for deb in ./*.deb; do dpkg -x "$deb" "$dir/root"; done
  ) || { tail -5 "$dir/apt.log" >&2; echo "haproxy.sh: could not fetch Debian's haproxy (see $dir/apt.log)" >&2; exit 1; }
  LD_LIBRARY_PATH="$lib" "$bin" -v >/dev/null
fi
echo "$bin"
echo "$lib"
