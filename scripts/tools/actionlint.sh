#!/usr/bin/env bash
# Builds actionlint (the GitHub Actions workflow linter) from the Go module proxy into .tools/bin,
# pinned to ACTIONLINT_VERSION. Idempotent: a binary that reports the pinned version is reused.
set -euo pipefail

ACTIONLINT_VERSION=${ACTIONLINT_VERSION:-v1.7.12}

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
bin_dir="$root/.tools/bin"
bin="$bin_dir/actionlint"

log() { printf '[actionlint %(%H:%M:%S)T] %s\n' -1 "$*"; }

# `actionlint -version` prints the module version on its first line, e.g. "v1.7.12".
if [ -x "$bin" ] && [ "$("$bin" -version 2>/dev/null | head -n1)" = "$ACTIONLINT_VERSION" ]; then
  log "actionlint $ACTIONLINT_VERSION present ($bin)"
  exit 0
fi

if ! command -v go >/dev/null 2>&1; then
  log "go is not on PATH; it is needed to build actionlint" >&2
  exit 1
fi

mkdir -p "$bin_dir"
log "building github.com/rhysd/actionlint/cmd/actionlint@$ACTIONLINT_VERSION with $(go env GOVERSION)"
start=$SECONDS
# Build into a temporary GOBIN and move into place, so an interrupted build never leaves a bad binary.
tmp_bin="$(mktemp -d)"
trap 'rm -rf "$tmp_bin"' EXIT
# `go install -v` names each package as it is compiled: print a progress line every 20.
GOBIN="$tmp_bin" go install -v "github.com/rhysd/actionlint/cmd/actionlint@$ACTIONLINT_VERSION" 2>&1 |
  awk '/^go: / { print "[actionlint] " $0; fflush(); next }
       { n++; if (n % 20 == 0) { printf "[actionlint] compiled %d packages (%s)\n", n, $0; fflush() } }
       END { printf "[actionlint] compiled %d packages\n", n }'
mv -f "$tmp_bin/actionlint" "$bin"
log "built $("$bin" -version | head -n1) in $((SECONDS - start))s -> $bin"
