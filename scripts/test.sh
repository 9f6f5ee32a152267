#!/usr/bin/env bash
# The one test command (README, CI): installs what is missing (coturn, iptables,
# Chromium, the Synapse venv, node modules), type-checks, runs every jest test
# (unit, then integration against real coturn/Synapse/Chromium, serially), and
# closes with a plain "N passed, N failed, N skipped" line.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/ensure-deps.sh

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "test: installing node modules (npm ci)" >&2
  npm ci --no-audit --no-fund
fi

echo "test: type-checking" >&2
npx tsc --noEmit -p tsconfig.json

mkdir -p test-artifacts
status=0
npx jest --runInBand --json --outputFile=test-artifacts/jest.json "$@" || status=$?

node -e '
const r = require("./test-artifacts/jest.json");
const skipped = r.numPendingTests + r.numTodoTests;
console.log(`${r.numPassedTests} passed, ${r.numFailedTests} failed, ${skipped} skipped`);
if (r.numTotalTests === 0) process.exit(1);
' || status=1
exit $status
