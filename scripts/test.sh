#!/usr/bin/env bash
# The test command: set up what the tests need, typecheck, then run every jest suite.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

bash scripts/setup.sh
echo "[test] typecheck"
npx tsc --noEmit -p .
echo "[test] jest"
npx jest --ci "$@"
