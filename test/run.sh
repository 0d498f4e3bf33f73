#!/usr/bin/env bash
# The project's one test command (`npm test`, also what CI runs through .ci/run):
#   1. install dependencies from package-lock.json when node_modules is missing or stale
#   2. start the real services (PostgreSQL, Kafka) and export their addresses
#   3. typecheck, lint, build
#   4. optional test preparation (test/conformance/setup.sh)
#   5. vitest, all projects; its exit code is this script's exit code
# Extra arguments go to vitest, e.g. `npm test -- --project unit`.
# With CI=true the services are stopped on exit; locally they stay up so the next run is fast.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

step() { printf '\n==> %s\n' "$*"; }
die() { printf '\ntest/run.sh: ERROR: %s\n' "$*" >&2; exit 1; }

# ---------------------------------------------------------------------------------------------
# 1. Dependencies
# ---------------------------------------------------------------------------------------------
bash deploy/local/ensure-deps.sh || die "installing dependencies failed"

# ---------------------------------------------------------------------------------------------
# 2. Real services
# ---------------------------------------------------------------------------------------------
if [ "${CI:-}" = "true" ]; then
  # Stop the services whatever happens after this point; the exit status is preserved.
  trap 'echo; echo "==> stopping services (CI=true)"; bash "$ROOT/deploy/local/services.sh" down || true' EXIT
fi

step "starting services (deploy/local/services.sh up)"
bash deploy/local/services.sh up \
  || die "the real services (PostgreSQL, Kafka) did not start; see the messages above. Integration tests need them and are not skipped."
services_env="$(bash deploy/local/services.sh env)" || die "deploy/local/services.sh env failed"
eval "$services_env"
[ -n "${DATABASE_URL:-}" ] && [ -n "${KAFKA_BROKERS:-}" ] \
  || die "deploy/local/services.sh env did not provide DATABASE_URL and KAFKA_BROKERS"

# ---------------------------------------------------------------------------------------------
# 3. Static checks and build
# ---------------------------------------------------------------------------------------------
step "npm run typecheck"
npm run --silent typecheck || die "typecheck failed"
step "npm run lint"
npm run --silent lint || die "lint failed"
step "npm run build"
npm run --silent build || die "build failed"

# ---------------------------------------------------------------------------------------------
# 4. Extra test preparation
# ---------------------------------------------------------------------------------------------
if [ -f test/conformance/setup.sh ]; then
  step "test/conformance/setup.sh"
  bash test/conformance/setup.sh || die "test/conformance/setup.sh failed"
fi
if [ -f test/vault/setup.sh ]; then
  step "test/vault/setup.sh (SoftHSM2 and the PKCS#11 binding for the vault's HSM tests)"
  bash test/vault/setup.sh || die "test/vault/setup.sh failed; the PKCS#11 tests need SoftHSM2 and are not skipped"
fi

# ---------------------------------------------------------------------------------------------
# 5. Tests
# ---------------------------------------------------------------------------------------------
step "vitest run (all projects)"
results="$ROOT/.services/vitest-results.json"
mkdir -p "$(dirname "$results")"
rm -f "$results"
set +e
npx vitest run --reporter=default --reporter=json --outputFile.json="$results" "$@"
rc=$?
set -e
# A plain closing line, 'N passed, N failed', that any CI log reader understands.
if [ -f "$results" ]; then
  node -e '
    const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
    const skipped = (r.numPendingTests ?? 0) + (r.numTodoTests ?? 0);
    console.log(`\nvitest: ${r.numPassedTests} passed, ${r.numFailedTests} failed, ${skipped} skipped`);
  ' "$results" || true
fi
exit "$rc"
