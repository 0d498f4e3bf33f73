#!/usr/bin/env bash
# Prepares the vault's PKCS#11 tests: SoftHSM2 from Debian's packages (installed with apt when
# missing) and a built pkcs11js binding. Called by test/run.sh; the tests themselves create and
# initialise a token in a temporary directory (SOFTHSM2_CONF), so nothing here touches the
# system token store. Idempotent.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"

find_lib() {
  for f in /usr/lib/softhsm/libsofthsm2.so /usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so /usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so; do
    [ -f "$f" ] && { echo "$f"; return 0; }
  done
  return 1
}

if ! command -v softhsm2-util >/dev/null 2>&1 || ! find_lib >/dev/null; then
  echo "installing softhsm2 (apt)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq softhsm2 >/dev/null
fi
command -v softhsm2-util >/dev/null 2>&1 || { echo "test/vault/setup.sh: softhsm2-util is still missing after apt-get install softhsm2" >&2; exit 1; }
lib="$(find_lib)" || { echo "test/vault/setup.sh: libsofthsm2.so not found after installing softhsm2" >&2; exit 1; }

# pkcs11js is a native addon built by its install script; if that was skipped (an npm that
# blocks unapproved scripts, or --ignore-scripts), build it now.
if ! node -e 'require("pkcs11js")' >/dev/null 2>&1; then
  echo "building the pkcs11js binding (npm rebuild pkcs11js)"
  [ -d /usr/include/node ] && export npm_config_nodedir=/usr
  npm rebuild pkcs11js --foreground-scripts >/dev/null
  node -e 'require("pkcs11js")' || { echo "test/vault/setup.sh: pkcs11js does not load after npm rebuild" >&2; exit 1; }
fi
echo "softhsm2 $(softhsm2-util --version) ($lib), pkcs11js loads"
