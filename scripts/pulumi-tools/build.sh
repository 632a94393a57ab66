#!/usr/bin/env bash
# Provides the Pulumi engine binaries that the npm packages cannot download here:
#
#   pulumi                         CLI        (github.com/pulumi/pulumi/pkg/v3/cmd/pulumi, ./cli)
#   pulumi-language-nodejs         language host for runtime: nodejs (./nodejs)
#   pulumi-resource-kubernetes     Kubernetes provider (github.com/pulumi/pulumi-kubernetes/provider/v4, ./kubernetes)
#   pulumi-resource-pulumi-nodejs  dynamic-provider launcher (copy of the script npm @pulumi/pulumi ships)
#
# Versions come from versions.env. A binary already on PATH at the pinned version is used
# (symlinked) instead of being built; otherwise it is built with Go into <repo>/.tools/bin and
# rebuilt only when its pins in versions.env, its build flags or its wrapper module sources
# change (stamp files in .tools/stamps hold a hash of those inputs).
#
# Progress goes to stderr; the last line on stdout is the bin dir to put on PATH, e.g.
#   export PATH="$(bash scripts/pulumi-tools/build.sh):$PATH"    or    source scripts/pulumi-tools/env.sh
#
# Environment: PULUMI_TOOLS_DIR (default <repo>/.tools), PULUMI_TOOLS_FORCE=1 (rebuild everything),
# PULUMI_TOOLS_NO_PATH=1 (ignore binaries found on PATH), GO (go binary to use).
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$SCRIPT_DIR/../.." && pwd)"
TOOLS_DIR="${PULUMI_TOOLS_DIR:-$REPO_ROOT/.tools}"
BIN_DIR="$TOOLS_DIR/bin"
SRC_DIR="$TOOLS_DIR/src"
STAMP_DIR="$TOOLS_DIR/stamps"
LOG_DIR="$TOOLS_DIR/logs"

START_SECONDS=$SECONDS
log() { printf '[pulumi-tools %4ss] %s\n' "$((SECONDS - START_SECONDS))" "$*" >&2; }
warn() { printf '[pulumi-tools %4ss] WARNING: %s\n' "$((SECONDS - START_SECONDS))" "$*" >&2; }
die() {
  printf '[pulumi-tools %4ss] ERROR: %s\n' "$((SECONDS - START_SECONDS))" "$*" >&2
  exit 1
}

CHILD_PID=""
cleanup() {
  if [[ -n "$CHILD_PID" ]] && kill -0 "$CHILD_PID" 2>/dev/null; then
    kill "$CHILD_PID" 2>/dev/null || true
  fi
}
trap cleanup EXIT
trap 'die "interrupted"' INT TERM

# ---------------------------------------------------------------------------------------------
# Pinned versions.
[[ -f "$SCRIPT_DIR/versions.env" ]] || die "missing $SCRIPT_DIR/versions.env"
# shellcheck source=/dev/null
source "$SCRIPT_DIR/versions.env"
: "${PULUMI_VERSION:?versions.env must set PULUMI_VERSION}"
: "${GO_MIN_VERSION:?versions.env must set GO_MIN_VERSION}"
: "${PULUMI_KUBERNETES_PROVIDER_MODULE:?versions.env must set PULUMI_KUBERNETES_PROVIDER_MODULE}"
: "${PULUMI_KUBERNETES_PROVIDER_MODULE_VERSION:?versions.env must set PULUMI_KUBERNETES_PROVIDER_MODULE_VERSION}"
: "${PULUMI_KUBERNETES_SDK_MODULE_VERSION:?versions.env must set PULUMI_KUBERNETES_SDK_MODULE_VERSION}"
: "${PULUMI_KUBERNETES_VERSION:?versions.env must set PULUMI_KUBERNETES_VERSION}"

CLI_LDFLAGS="-s -w -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=v${PULUMI_VERSION}"
K8S_LDFLAGS="-s -w -X ${PULUMI_KUBERNETES_PROVIDER_MODULE}/pkg/version.Version=${PULUMI_KUBERNETES_VERSION}"

mkdir -p "$BIN_DIR" "$SRC_DIR" "$STAMP_DIR" "$LOG_DIR"

# One build at a time per tools dir.
if command -v flock >/dev/null 2>&1; then
  exec 9>"$TOOLS_DIR/.lock"
  if ! flock -n 9; then
    log "another build.sh is running on $TOOLS_DIR; waiting for it"
    flock 9
  fi
fi

# ---------------------------------------------------------------------------------------------
# Helpers.

# Searches PATH for $1, skipping our own bin dir. Prints the path or nothing.
find_on_path() {
  local name=$1 dir real_bin
  real_bin="$(cd "$BIN_DIR" && pwd -P)"
  local IFS=:
  for dir in $PATH; do
    [[ -n "$dir" && -d "$dir" ]] || continue
    [[ "$(cd "$dir" && pwd -P)" == "$real_bin" ]] && continue
    if [[ -x "$dir/$name" && ! -d "$dir/$name" ]]; then
      printf '%s\n' "$dir/$name"
      return 0
    fi
  done
  return 0
}

# Hash of the given files/dirs (wrapper module sources) and strings (pinned versions, flags):
# the rebuild key of a binary. Only the versions.env values a binary depends on are hashed, so
# editing comments or another tool's pin does not trigger a rebuild.
hash_inputs() {
  local item
  {
    for item in "$@"; do
      if [[ -d "$item" ]]; then
        find "$item" -type f \( -name '*.go' -o -name 'go.mod' -o -name 'go.sum' \) -print0 | LC_ALL=C sort -z |
          xargs -0 cat
      elif [[ -f "$item" ]]; then
        cat "$item"
      else
        printf '%s\n' "$item"
      fi
    done
  } | sha256sum | cut -d' ' -f1
}

# up_to_date NAME HASH: the binary exists and was built from inputs with this hash.
up_to_date() {
  [[ "${PULUMI_TOOLS_FORCE:-}" != 1 && -x "$BIN_DIR/$1" && ! -L "$BIN_DIR/$1" &&
    -f "$STAMP_DIR/$1" && "$(cat "$STAMP_DIR/$1")" == "$2" ]]
}

# run_logged STEP LOGFILE CMD...: runs CMD in the background, prints a heartbeat every 30s,
# fails with the end of the log on a non-zero exit.
run_logged() {
  local step=$1 logfile=$2
  shift 2
  local t0=$SECONDS next=30 rc=0
  log "  $step ..."
  "$@" >"$logfile" 2>&1 &
  CHILD_PID=$!
  while kill -0 "$CHILD_PID" 2>/dev/null; do
    sleep 1
    if ((SECONDS - t0 >= next)); then
      log "  ... $step still running ($((SECONDS - t0))s)"
      next=$((next + 30))
    fi
  done
  wait "$CHILD_PID" || rc=$?
  CHILD_PID=""
  if ((rc != 0)); then
    {
      echo "----- last 40 lines of $logfile -----"
      tail -n 40 "$logfile"
      echo "-----"
    } >&2
    die "$step failed (exit $rc) after $((SECONDS - t0))s; full log: $logfile"
  fi
  log "  $step: done in $((SECONDS - t0))s"
}

# stage NAME: fresh copy of the wrapper module ./NAME under .tools/src/NAME (printed).
stage() {
  local dst="$SRC_DIR/$1"
  rm -rf "$dst"
  mkdir -p "$dst"
  cp -R "$SCRIPT_DIR/$1/." "$dst/"
  chmod -R u+w "$dst"
  printf '%s\n' "$dst"
}

# pin_modules DIR MOD@VER...: require the versions.env pins in the staged go.mod (warn if the
# committed go.mod differs, since its go.sum and copied replace directives may then be stale).
pin_modules() {
  local dir=$1
  shift
  local args=() m
  for m in "$@"; do args+=("-require=$m"); done
  cp "$dir/go.mod" "$dir/go.mod.committed"
  (cd "$dir" && "$GO" mod edit "${args[@]}")
  if ! cmp -s "$dir/go.mod" "$dir/go.mod.committed"; then
    warn "$(basename "$dir")/go.mod does not match versions.env; building with the versions.env pins." \
      "Update the committed module: cd scripts/pulumi-tools/$(basename "$dir") && go mod edit ${args[*]} &&" \
      "GOFLAGS=-mod=mod go mod tidy (and re-check the replace directives of the new upstream go.mod)"
  fi
  rm -f "$dir/go.mod.committed"
}

in_dir() { # in_dir DIR CMD...: run CMD in DIR (in a subshell when backgrounded)
  cd "$1" && shift && "$@"
}

install_bin() { # install_bin TMPFILE NAME HASH
  mv -f "$1" "$BIN_DIR/$2"
  printf '%s\n' "$3" >"$STAMP_DIR/$2"
}

# ---------------------------------------------------------------------------------------------
# Go toolchain (only needed when something has to be built; checked lazily).
GO="${GO:-}"
GO_CHECKED=""
need_go() {
  [[ -n "$GO_CHECKED" ]] && return 0
  if [[ -z "$GO" ]]; then
    GO="$(command -v go || true)"
    [[ -z "$GO" && -x /usr/local/go/bin/go ]] && GO=/usr/local/go/bin/go
  fi
  [[ -n "$GO" ]] || die "Go is required to build the Pulumi binaries (>= go$GO_MIN_VERSION); install it or set GO=/path/to/go"
  local have
  have="$("$GO" env GOVERSION)" || die "'$GO env GOVERSION' failed"
  have="${have#go}"
  if [[ "$(printf '%s\n%s\n' "$GO_MIN_VERSION" "$have" | sort -V | head -n1)" != "$GO_MIN_VERSION" ]]; then
    warn "go $have < $GO_MIN_VERSION required by github.com/pulumi/pulumi/pkg/v3 v$PULUMI_VERSION; relying on GOTOOLCHAIN=auto to fetch a newer toolchain"
  fi
  export GOFLAGS="-mod=mod -buildvcs=false"
  export CGO_ENABLED=0
  GO_CHECKED=1
  log "using $GO (go$have), GOMODCACHE=$("$GO" env GOMODCACHE), GOCACHE=$("$GO" env GOCACHE)"
}

# ---------------------------------------------------------------------------------------------
# 1. pulumi (CLI)
step_cli() {
  local name=pulumi t0=$SECONDS ext hash dir
  log "step 1/4: $name v$PULUMI_VERSION"
  if [[ "${PULUMI_TOOLS_NO_PATH:-}" != 1 ]]; then
    ext="$(find_on_path pulumi)"
    if [[ -n "$ext" ]] && [[ "$("$ext" version 2>/dev/null || true)" == "v$PULUMI_VERSION" ]]; then
      ln -sfn "$ext" "$BIN_DIR/$name"
      EXTERNAL_CLI_DIR="$(dirname "$ext")"
      log "  using $ext from PATH (v$PULUMI_VERSION)"
      return 0
    elif [[ -n "$ext" ]]; then
      log "  ignoring $ext on PATH: reports '$("$ext" version 2>/dev/null || echo '?')', want v$PULUMI_VERSION"
    fi
  fi
  hash="$(hash_inputs "$SCRIPT_DIR/cli" "PULUMI_VERSION=$PULUMI_VERSION" "$CLI_LDFLAGS")"
  if up_to_date "$name" "$hash"; then
    log "  cached: $BIN_DIR/$name"
    return 0
  fi
  need_go
  rm -f "$BIN_DIR/$name"
  dir="$(stage cli)"
  pin_modules "$dir" "github.com/pulumi/pulumi/pkg/v3@v$PULUMI_VERSION" "github.com/pulumi/pulumi/sdk/v3@v$PULUMI_VERSION"
  run_logged "go build $name" "$LOG_DIR/$name.log" \
    in_dir "$dir" "$GO" build -trimpath -ldflags "$CLI_LDFLAGS" -o "$BIN_DIR/$name.tmp" github.com/pulumi/pulumi/pkg/v3/cmd/pulumi
  local got
  got="$("$BIN_DIR/$name.tmp" version)" || die "built $name does not run"
  [[ "$got" == "v$PULUMI_VERSION" ]] || die "built $name reports '$got', want v$PULUMI_VERSION"
  install_bin "$BIN_DIR/$name.tmp" "$name" "$hash"
  log "  built $BIN_DIR/$name ($got) in $((SECONDS - t0))s"
}

# 2. pulumi-language-nodejs
step_nodejs() {
  local name=pulumi-language-nodejs t0=$SECONDS ext hash dir got
  log "step 2/4: $name v$PULUMI_VERSION"
  if [[ "${PULUMI_TOOLS_NO_PATH:-}" != 1 ]]; then
    ext="$(find_on_path "$name")"
    # An upstream install ships the language host next to the CLI, at the CLI's version.
    if [[ -n "$ext" ]] && { [[ -n "${EXTERNAL_CLI_DIR:-}" && "$(dirname "$ext")" == "$EXTERNAL_CLI_DIR" ]] ||
      [[ "$("$ext" --version 2>/dev/null | head -n1 || true)" == "v$PULUMI_VERSION" ]]; }; then
      ln -sfn "$ext" "$BIN_DIR/$name"
      log "  using $ext from PATH"
      return 0
    fi
  fi
  hash="$(hash_inputs "$SCRIPT_DIR/nodejs" "PULUMI_VERSION=$PULUMI_VERSION" "$CLI_LDFLAGS")"
  if up_to_date "$name" "$hash"; then
    log "  cached: $BIN_DIR/$name"
    return 0
  fi
  need_go
  rm -f "$BIN_DIR/$name"
  dir="$(stage nodejs)"
  pin_modules "$dir" "github.com/pulumi/pulumi/sdk/v3@v$PULUMI_VERSION"
  run_logged "go build $name" "$LOG_DIR/$name.log" \
    in_dir "$dir" "$GO" build -trimpath -ldflags "$CLI_LDFLAGS" -o "$BIN_DIR/$name.tmp" .
  got="$("$BIN_DIR/$name.tmp" --version)" || die "built $name does not run"
  [[ "$got" == "v$PULUMI_VERSION" ]] || die "built $name reports '$got', want v$PULUMI_VERSION"
  install_bin "$BIN_DIR/$name.tmp" "$name" "$hash"
  log "  built $BIN_DIR/$name ($got) in $((SECONDS - t0))s"
}

# Prints the schema version the provider binary $1 reports (via the pulumi CLI).
provider_schema_version() {
  PULUMI_SKIP_UPDATE_CHECK=true PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true \
    "$BIN_DIR/pulumi" package get-schema "$1" 2>/dev/null |
    grep -m1 -o '"version": *"[^"]*"' | sed 's/.*"\([^"]*\)"$/\1/'
}

# 3. pulumi-resource-kubernetes
step_kubernetes() {
  local name=pulumi-resource-kubernetes t0=$SECONDS ext hash dir moddir got
  log "step 3/4: $name $PULUMI_KUBERNETES_VERSION ($PULUMI_KUBERNETES_PROVIDER_MODULE@$PULUMI_KUBERNETES_PROVIDER_MODULE_VERSION)"
  if [[ "${PULUMI_TOOLS_NO_PATH:-}" != 1 ]]; then
    ext="$(find_on_path "$name")"
    if [[ -n "$ext" ]]; then
      got="$(provider_schema_version "$ext" || true)"
      if [[ "$got" == "$PULUMI_KUBERNETES_VERSION" ]]; then
        ln -sfn "$ext" "$BIN_DIR/$name"
        log "  using $ext from PATH ($got)"
        return 0
      fi
      log "  ignoring $ext on PATH: reports '${got:-?}', want $PULUMI_KUBERNETES_VERSION"
    fi
  fi
  hash="$(hash_inputs "$SCRIPT_DIR/kubernetes" "$K8S_LDFLAGS" \
    "$PULUMI_KUBERNETES_PROVIDER_MODULE@$PULUMI_KUBERNETES_PROVIDER_MODULE_VERSION" \
    "sdk/v4@$PULUMI_KUBERNETES_SDK_MODULE_VERSION")"
  if up_to_date "$name" "$hash"; then
    log "  cached: $BIN_DIR/$name"
    return 0
  fi
  need_go
  rm -f "$BIN_DIR/$name"
  dir="$(stage kubernetes)"
  pin_modules "$dir" "$PULUMI_KUBERNETES_PROVIDER_MODULE@$PULUMI_KUBERNETES_PROVIDER_MODULE_VERSION" \
    "github.com/pulumi/pulumi-kubernetes/sdk/v4@$PULUMI_KUBERNETES_SDK_MODULE_VERSION"
  run_logged "download $PULUMI_KUBERNETES_PROVIDER_MODULE" "$LOG_DIR/$name.download.log" \
    in_dir "$dir" "$GO" mod download "$PULUMI_KUBERNETES_PROVIDER_MODULE"
  moddir="$(cd "$dir" && "$GO" list -m -f '{{.Dir}}' "$PULUMI_KUBERNETES_PROVIDER_MODULE")"
  [[ -f "$moddir/cmd/pulumi-resource-kubernetes/schema.json" ]] ||
    die "no cmd/pulumi-resource-kubernetes/schema.json in $moddir"
  run_logged "generate schema-embed.json ($PULUMI_KUBERNETES_VERSION)" "$LOG_DIR/$name.gen.log" \
    in_dir "$dir" "$GO" run ./gen "$moddir" . "$PULUMI_KUBERNETES_VERSION"
  run_logged "go build $name" "$LOG_DIR/$name.log" \
    in_dir "$dir" "$GO" build -trimpath -ldflags "$K8S_LDFLAGS" -o "$BIN_DIR/$name.tmp" .
  got="$(provider_schema_version "$BIN_DIR/$name.tmp" || true)"
  [[ "$got" == "$PULUMI_KUBERNETES_VERSION" ]] ||
    die "built $name reports schema version '${got:-?}', want $PULUMI_KUBERNETES_VERSION"
  install_bin "$BIN_DIR/$name.tmp" "$name" "$hash"
  log "  built $BIN_DIR/$name ($got) in $((SECONDS - t0))s"
}

# 4. scripts the npm packages ship for the engine, and providers that cannot be built.
step_scripts() {
  local name=pulumi-resource-pulumi-nodejs npm_script="$REPO_ROOT/node_modules/@pulumi/pulumi/pulumi-resource-pulumi-nodejs"
  log "step 4/4: $name (dynamic providers), other plugins"
  if [[ -f "$npm_script" ]]; then
    if ! cmp -s "$npm_script" "$BIN_DIR/$name"; then
      rm -f "$BIN_DIR/$name"
      cp "$npm_script" "$BIN_DIR/$name"
      chmod 0755 "$BIN_DIR/$name"
    fi
    log "  $BIN_DIR/$name (copy of node_modules/@pulumi/pulumi/$name)"
  elif [[ ! -x "$BIN_DIR/$name" ]]; then
    # Same content as the script @pulumi/pulumi ships (node_modules not installed yet).
    cat >"$BIN_DIR/$name" <<'EOS'
#!/bin/sh
PULUMI_DYNAMIC_PROVIDER_SCRIPT_PATH=$(node -e "console.log(require.resolve('@pulumi/pulumi/cmd/dynamic-provider'))")
if [ ! -z "$PULUMI_DYNAMIC_PROVIDER_SCRIPT_PATH" ]; then
    node "$PULUMI_DYNAMIC_PROVIDER_SCRIPT_PATH" $@
fi
EOS
    chmod 0755 "$BIN_DIR/$name"
    log "  $BIN_DIR/$name (built-in copy; node_modules not installed)"
  fi
  # Policy packs (--policy-pack) run through pulumi-language-nodejs (LanguageRuntime.RunPlugin),
  # so no pulumi-analyzer-policy script is needed.
  if [[ -x "$BIN_DIR/pulumi-resource-random" ]]; then
    log "  pulumi-resource-random present in $BIN_DIR"
  elif [[ -n "$(find_on_path pulumi-resource-random)" ]]; then
    log "  pulumi-resource-random found on PATH: $(find_on_path pulumi-resource-random)"
  else
    warn "pulumi-resource-random $PULUMI_RANDOM_VERSION is not available: github.com/pulumi/pulumi-random/provider/v4" \
      "is not served by the Go module proxy (see versions.env). Programs that create random.* resources will fail."
  fi
}

# Warn when the npm SDKs in node_modules do not match the pinned binaries.
check_npm_versions() {
  local pkg want pj have
  for pkg in "pulumi:$PULUMI_VERSION" "kubernetes:$PULUMI_KUBERNETES_VERSION"; do
    want="${pkg#*:}"
    pj="$REPO_ROOT/node_modules/@pulumi/${pkg%%:*}/package.json"
    [[ -f "$pj" ]] || continue
    have="$(grep -m1 -o '"version": *"[^"]*"' "$pj" | sed 's/.*"\([^"]*\)"$/\1/')"
    if [[ "$have" != "$want" ]]; then
      warn "node_modules/@pulumi/${pkg%%:*} is $have but the engine binaries are pinned to $want" \
        "(versions.env); pin \"@pulumi/${pkg%%:*}\": \"$want\" in package.json"
    fi
  done
}

log "pulumi-tools: bin dir $BIN_DIR"
step_cli
step_nodejs
step_kubernetes
step_scripts
check_npm_versions
log "done in $((SECONDS - START_SECONDS))s. Put the bin dir on PATH (or: source scripts/pulumi-tools/env.sh):"
printf '%s\n' "$BIN_DIR"
