#!/usr/bin/env bash
# Installs the project's npm dependencies from package-lock.json when node_modules is missing
# or older than the lockfile. Used by `npm start` and `npm test`, so a fresh clone needs no
# separate install step.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"

step() { printf '\n==> %s\n' "$*" >&2; }
die() { printf '\nensure-deps: ERROR: %s\n' "$*" >&2; exit 1; }

# node-gyp (native addons: uWS fallback builds, re2, node-rdkafka, pkcs11js) needs Node's headers
# and cannot download them here: use the system's, or the npm package that ships them.
ensure_nodedir() {
  if [ -d /usr/include/node ]; then
    export npm_config_nodedir=/usr
    return
  fi
  local version arch pkg prefix dir
  version="$(node -p 'process.versions.node')"
  arch="$(node -p 'process.arch')"
  pkg="node-linux-$arch"
  prefix="$ROOT/.tools/node-headers"
  dir="$prefix/node_modules/$pkg"
  if [ ! -f "$dir/include/node/node.h" ] \
    || [ "$(node -p 'require(process.argv[1]).version' "$dir/package.json" 2>/dev/null || true)" != "$version" ]; then
    step "installing Node $version headers ($pkg@$version) into .tools/node-headers"
    rm -rf "$prefix"
    mkdir -p "$prefix"
    # Own package.json so npm does not treat the repository (and its workspaces) as the project.
    printf '{ "name": "sentinel-node-headers", "private": true }\n' >"$prefix/package.json"
    npm install --prefix "$prefix" --no-save --no-package-lock --ignore-scripts --no-audit --no-fund \
      "$pkg@$version" || die "could not install $pkg@$version (Node headers for node-gyp)"
    [ -f "$dir/include/node/node.h" ] || die "$pkg@$version has no include/node/node.h"
  fi
  export npm_config_nodedir="$dir"
}

ensure_deps() {
  [ -f package-lock.json ] || die "package-lock.json is missing; run npm install and commit the lockfile"
  ensure_nodedir
  if [ -d node_modules ] && [ -f node_modules/.package-lock.json ] \
    && [ ! package-lock.json -nt node_modules/.package-lock.json ]; then
    return
  fi
  step "npm ci (node_modules missing or older than package-lock.json)"
  npm ci --no-audit --no-fund || die "npm ci failed"
  touch node_modules/.package-lock.json
}

ensure_deps
# npm ci runs it as postinstall; run it here too so a node_modules installed before the repair
# existed gets it (idempotent, a few milliseconds).
node deploy/patches/postgres-closed-socket.mjs || die "could not repair the postgres driver (deploy/patches)"

