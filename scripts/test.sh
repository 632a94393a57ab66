#!/usr/bin/env bash
# The test command: set up what the tests need, typecheck, then run every jest suite.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

bash scripts/setup.sh
echo "[test] typecheck"
npx tsc --noEmit -p .
echo "[test] jest"
results=$(mktemp)
trap 'rm -f "$results"' EXIT
status=0
npx jest --ci --json --outputFile="$results" "$@" || status=$?
# One closing line with the counts, whatever the reporter printed above.
node scripts/jest-summary.js "$results" || status=1
exit "$status"
