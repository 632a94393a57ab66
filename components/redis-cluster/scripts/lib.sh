#!/usr/bin/env bash
# lib.sh - shared helpers for the Redis Cluster lifecycle scripts.
#
# Sourced (never executed) by start.sh, readiness.sh, liveness.sh (redis pods) and by
# bootstrap.sh, reconcile.sh, check.sh (cache-management Jobs). In production every script of
# components/redis-cluster/scripts and components/cache-management/scripts is mounted in one
# directory (/scripts), so the scripts source it with:
#     . "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
#
# Provides:
#   - logging: log_info/log_warn/log_error/die (UTC timestamp, script name, to stderr);
#   - name resolution: resolve_host NAME -> IPv4 (REDIS_HOSTS_FILE when set, else getent, i.e.
#     the headless Service's DNS);
#   - a redis-cli wrapper (redis_try/rcli) that authenticates through REDISCLI_AUTH - the
#     password never appears on a command line - with a bounded per-call timeout;
#   - bounded wait/retry helpers and Redis Cluster parsing helpers.
#
# Environment (read here; every variable has a default except REDIS_PASSWORD):
#   REDIS_PASSWORD              required; exported to redis-cli as REDISCLI_AUTH by require_password.
#   REDIS_PORT                  default 6379; port of nodes given without ":port".
#   REDIS_HOST                  default 127.0.0.1; the local server (start/probe scripts).
#   REDIS_NODES                 space-separated "hostname" or "hostname:port" list, pod-ordinal order.
#   REDIS_HOSTS_FILE            TEST SEAM ONLY: hosts(5)-format file used instead of DNS.
#   REDIS_CLI_TIMEOUT_SECONDS   default 10; bound on one redis-cli call.
#   REDIS_CLUSTER_OP_TIMEOUT_SECONDS default 1800; bound on one "redis-cli --cluster ..." run.
#   REDIS_RESOLVE_TIMEOUT_SECONDS    default 5; bound on one DNS lookup.
#
# shellcheck shell=bash

if [[ -n "${_REDIS_LIFECYCLE_LIB:-}" ]]; then
  return 0
fi
_REDIS_LIFECYCLE_LIB=1

REDIS_PORT="${REDIS_PORT:-6379}"
REDIS_HOST="${REDIS_HOST:-127.0.0.1}"
REDIS_CLI_TIMEOUT_SECONDS="${REDIS_CLI_TIMEOUT_SECONDS:-10}"
REDIS_CLUSTER_OP_TIMEOUT_SECONDS="${REDIS_CLUSTER_OP_TIMEOUT_SECONDS:-1800}"
REDIS_RESOLVE_TIMEOUT_SECONDS="${REDIS_RESOLVE_TIMEOUT_SECONDS:-5}"
readonly REDIS_CLUSTER_SLOTS=16384

SCRIPT_NAME="$(basename "${0:-redis-script}")"

# Output of the last redis_try call (carriage returns removed, stderr included).
REDIS_OUT=""

# ---------------------------------------------------------------------------------------------
# Logging
# ---------------------------------------------------------------------------------------------

_log() {
  local level=$1
  shift
  printf '%s %-5s %s: %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$level" "$SCRIPT_NAME" "$*" >&2
}
log_info() { _log INFO "$@"; }
log_warn() { _log WARN "$@"; }
log_error() { _log ERROR "$@"; }

# die MESSAGE... - log an error and exit 1.
die() {
  log_error "$@"
  exit 1
}

# ---------------------------------------------------------------------------------------------
# Validation helpers
# ---------------------------------------------------------------------------------------------

now() { date +%s; }

is_uint() { [[ "${1:-}" =~ ^[0-9]+$ ]]; }

is_ipv4() { [[ "${1:-}" =~ ^[0-9]{1,3}(\.[0-9]{1,3}){3}$ ]]; }

# require_uint NAME - die unless the variable NAME holds a non-negative integer.
require_uint() {
  local name=$1
  is_uint "${!name:-}" || die "$name must be a non-negative integer (got '${!name:-}')"
}

# require_password - check REDIS_PASSWORD and hand it to redis-cli through REDISCLI_AUTH
# (never "-a": command lines are visible in ps and /proc).
require_password() {
  [[ -n "${REDIS_PASSWORD:-}" ]] || die "REDIS_PASSWORD is not set (it comes from the Redis Secret)"
  export REDISCLI_AUTH="$REDIS_PASSWORD"
}

# ---------------------------------------------------------------------------------------------
# Name resolution
# ---------------------------------------------------------------------------------------------

# resolve_host NAME - print the IPv4 address of NAME; return 1 when it does not resolve.
# IPv4 literals are returned as is. When REDIS_HOSTS_FILE is set (tests only) the name is looked
# up there (hosts(5) format, first match wins); otherwise through getent (NSS: /etc/hosts, then
# the cluster DNS where the headless Service publishes every pod, ready or not).
resolve_host() {
  local name=${1:-} ip=""
  [[ -n "$name" ]] || return 1
  if is_ipv4 "$name"; then
    printf '%s\n' "$name"
    return 0
  fi
  if [[ -n "${REDIS_HOSTS_FILE:-}" ]]; then
    [[ -r "$REDIS_HOSTS_FILE" ]] || return 1
    ip=$(awk -v want="$name" '
      BEGIN { want = tolower(want) }
      { sub(/#.*/, "") }
      NF >= 2 && $1 ~ /^[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+$/ {
        for (i = 2; i <= NF; i++) if (tolower($i) == want) { print $1; exit }
      }' "$REDIS_HOSTS_FILE") || ip=""
  else
    ip=$(timeout "$REDIS_RESOLVE_TIMEOUT_SECONDS" getent ahostsv4 "$name" 2>/dev/null |
      awk 'NR == 1 { print $1 }') || ip=""
    if [[ -z "$ip" ]]; then
      ip=$(timeout "$REDIS_RESOLVE_TIMEOUT_SECONDS" getent hosts "$name" 2>/dev/null |
        awk '$1 ~ /^[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+$/ { print $1; exit }') || ip=""
    fi
  fi
  is_ipv4 "$ip" || return 1
  printf '%s\n' "$ip"
}

# addr_host "host[:port]" / addr_port "host[:port]" - split a REDIS_NODES entry (IPv6 literals
# are not supported in REDIS_NODES; use DNS names or IPv4).
addr_host() {
  local a=$1
  if [[ "$a" == *:* ]]; then printf '%s\n' "${a%:*}"; else printf '%s\n' "$a"; fi
}
addr_port() {
  local a=$1
  if [[ "$a" == *:* ]]; then printf '%s\n' "${a##*:}"; else printf '%s\n' "$REDIS_PORT"; fi
}

# parse_nodes - fill NODE_NAMES/NODE_PORTS (arrays, pod-ordinal order) from REDIS_NODES.
NODE_NAMES=()
NODE_PORTS=()
NODE_IPS=()
parse_nodes() {
  local entry port
  local -a entries=()
  NODE_NAMES=()
  NODE_PORTS=()
  NODE_IPS=()
  read -r -a entries <<<"${REDIS_NODES:-}"
  ((${#entries[@]} > 0)) || die "REDIS_NODES is empty (expected space-separated hostname[:port] entries)"
  for entry in "${entries[@]}"; do
    port=$(addr_port "$entry")
    if ! is_uint "$port" || ((port == 0 || port > 65535)); then
      die "invalid port in REDIS_NODES entry '$entry'"
    fi
    NODE_NAMES+=("$(addr_host "$entry")")
    NODE_PORTS+=("$port")
    NODE_IPS+=("")
  done
}

# node_label I - "name:port (ip)" for messages.
node_label() {
  local i=$1
  if [[ -n "${NODE_IPS[$i]:-}" ]]; then
    printf '%s:%s (%s)\n' "${NODE_NAMES[$i]}" "${NODE_PORTS[$i]}" "${NODE_IPS[$i]}"
  else
    printf '%s:%s\n' "${NODE_NAMES[$i]}" "${NODE_PORTS[$i]}"
  fi
}

# ---------------------------------------------------------------------------------------------
# redis-cli wrapper
# ---------------------------------------------------------------------------------------------

# set_cli_timeout SECONDS - change the bound on each redis-cli call (probes use a short one).
set_cli_timeout() {
  is_uint "${1:-}" || die "invalid redis-cli timeout '${1:-}'"
  REDIS_CLI_TIMEOUT_SECONDS=$1
}

# redis_try HOST PORT ARGS... - run one redis-cli command (authenticated through REDISCLI_AUTH,
# bounded by REDIS_CLI_TIMEOUT_SECONDS). Sets REDIS_OUT to the output (stdout+stderr, no CR) and
# returns redis-cli's status: non-zero on connection failure, timeout (124) or error reply (-e).
redis_try() {
  local host=$1 port=$2 rc=0
  shift 2
  REDIS_OUT=$(timeout "$REDIS_CLI_TIMEOUT_SECONDS" redis-cli -e -h "$host" -p "$port" "$@" 2>&1) || rc=$?
  REDIS_OUT=${REDIS_OUT//$'\r'/}
  if ((rc == 124)) && [[ -z "$REDIS_OUT" ]]; then
    REDIS_OUT="timed out after ${REDIS_CLI_TIMEOUT_SECONDS}s"
  fi
  return "$rc"
}

# rcli HOST PORT ARGS... - like redis_try but prints the output (for command substitution).
rcli() {
  local rc=0
  redis_try "$@" || rc=$?
  printf '%s\n' "$REDIS_OUT"
  return "$rc"
}

# redis_cluster_tool ARGS... - "redis-cli --cluster ARGS...", bounded by
# REDIS_CLUSTER_OP_TIMEOUT_SECONDS (exit 124 when it expires); output (colours removed) goes to
# stdout (callers log or capture it).
redis_cluster_tool() {
  timeout "$REDIS_CLUSTER_OP_TIMEOUT_SECONDS" redis-cli --cluster "$@" 2>&1 | tr -d '\r' | strip_colors
}

# strip_colors - remove the ANSI colour codes redis-cli --cluster prints (stdin to stdout).
strip_colors() {
  sed 's/\x1b\[[0-9;]*m//g'
}

# first_line TEXT - the first non-empty line (for one-line messages).
first_line() {
  printf '%s\n' "$1" | awk 'NF { print; exit }'
}

is_auth_error() {
  [[ "$1" =~ NOAUTH|WRONGPASS|invalid\ password|invalid\ username-password|Authentication\ required ]]
}

# info_field FIELD - read "field:value" lines (INFO, CLUSTER INFO) on stdin, print value.
info_field() {
  awk -F: -v f="$1" '$1 == f { sub(/^[^:]*:/, ""); print; exit }'
}

# ping_node HOST PORT - 0 when the node answers PONG. Sets REDIS_OUT (the reply or the error).
ping_node() {
  redis_try "$1" "$2" PING || return 1
  [[ "$REDIS_OUT" == "PONG" ]]
}

# ---------------------------------------------------------------------------------------------
# Waiting
# ---------------------------------------------------------------------------------------------

# wait_until TIMEOUT_SECONDS INTERVAL_SECONDS COMMAND... - run COMMAND until it succeeds or the
# deadline passes (then return 1). COMMAND runs in this shell, so it may set globals.
wait_until() {
  local timeout=$1 interval=$2 deadline
  shift 2
  deadline=$(($(now) + timeout))
  while true; do
    if "$@"; then
      return 0
    fi
    if (($(now) >= deadline)); then
      return 1
    fi
    sleep "$interval"
  done
}

# retry ATTEMPTS DELAY_SECONDS COMMAND... - run COMMAND up to ATTEMPTS times.
retry() {
  local attempts=$1 delay=$2 i
  shift 2
  for ((i = 1; i <= attempts; i++)); do
    if "$@"; then
      return 0
    fi
    ((i < attempts)) && sleep "$delay"
  done
  return 1
}

# ---------------------------------------------------------------------------------------------
# Cluster helpers (used by the cache-management scripts)
# ---------------------------------------------------------------------------------------------

# NODE_PROBLEM[i] holds why node i is not usable yet (empty when it resolved and answered PONG).
NODE_PROBLEM=()

# check_nodes_up - resolve every node of NODE_NAMES and PING it; return 0 when all answer PONG.
# Dies at once on an authentication error (a wrong password does not heal by waiting).
check_nodes_up() {
  local i ip all_ok=0
  for i in "${!NODE_NAMES[@]}"; do
    NODE_PROBLEM[i]=""
    if ! ip=$(resolve_host "${NODE_NAMES[$i]}"); then
      NODE_PROBLEM[i]="does not resolve"
      all_ok=1
      continue
    fi
    NODE_IPS[i]=$ip
    if ! ping_node "$ip" "${NODE_PORTS[$i]}"; then
      if is_auth_error "$REDIS_OUT"; then
        die "authentication failed on $(node_label "$i"): $(first_line "$REDIS_OUT") - check REDIS_PASSWORD / the Redis Secret"
      fi
      NODE_PROBLEM[i]="no PONG: $(first_line "$REDIS_OUT")"
      all_ok=1
    fi
  done
  return "$all_ok"
}

# wait_nodes_up TIMEOUT - wait until every node resolves and answers PING, or die listing the
# nodes that did not.
wait_nodes_up() {
  local timeout=$1 i
  log_info "waiting up to ${timeout}s for ${#NODE_NAMES[@]} node(s) to resolve and answer PING"
  if ! wait_until "$timeout" 2 check_nodes_up; then
    for i in "${!NODE_NAMES[@]}"; do
      if [[ -n "${NODE_PROBLEM[$i]:-}" ]]; then
        log_error "node $(node_label "$i"): ${NODE_PROBLEM[$i]}"
      fi
    done
    die "not every node is reachable after ${timeout}s (see above); nothing was changed"
  fi
}

# cluster_nodes HOST PORT - print CLUSTER NODES of a node (dies on failure).
cluster_nodes() {
  redis_try "$1" "$2" CLUSTER NODES || die "CLUSTER NODES failed on $1:$2: $(first_line "$REDIS_OUT")"
  printf '%s\n' "$REDIS_OUT"
}

# cluster_info_field HOST PORT FIELD - print one CLUSTER INFO field ("" on failure).
cluster_info_field() {
  redis_try "$1" "$2" CLUSTER INFO || return 1
  printf '%s\n' "$REDIS_OUT" | info_field "$3"
}

# node_cluster_ok HOST PORT [KNOWN_NODES] - cluster_state:ok, all slots ok (and, when given,
# exactly KNOWN_NODES known nodes) as seen by that node.
node_cluster_ok() {
  local state slots_ok known
  redis_try "$1" "$2" CLUSTER INFO || return 1
  state=$(printf '%s\n' "$REDIS_OUT" | info_field cluster_state)
  slots_ok=$(printf '%s\n' "$REDIS_OUT" | info_field cluster_slots_ok)
  known=$(printf '%s\n' "$REDIS_OUT" | info_field cluster_known_nodes)
  [[ "$state" == ok && "$slots_ok" == "$REDIS_CLUSTER_SLOTS" ]] || return 1
  [[ -z "${3:-}" || "$known" == "$3" ]]
}

# all_nodes_cluster_ok KNOWN_NODES INDEX... - node_cluster_ok on every given node index.
all_nodes_cluster_ok() {
  local known=$1 i
  shift
  for i in "$@"; do
    node_cluster_ok "${NODE_IPS[$i]}" "${NODE_PORTS[$i]}" "$known" || return 1
  done
}

# nodes_hostnames_known INDEX... - every given node lists a hostname for every cluster node and
# none is in handshake (so the nodes.conf it saves lets start.sh re-resolve peers after restart).
nodes_hostnames_known() {
  local i out
  for i in "$@"; do
    redis_try "${NODE_IPS[$i]}" "${NODE_PORTS[$i]}" CLUSTER NODES || return 1
    out=$REDIS_OUT
    if printf '%s\n' "$out" | awk 'NF >= 8 {
         n = split($2, a, ","); if (n < 2 || a[2] == "" || $3 ~ /handshake/) bad = 1
       } END { exit bad ? 0 : 1 }'; then
      return 1
    fi
  done
}

# persist_hostnames TIMEOUT INDEX... - wait until peers' hostnames are gossiped to every node,
# then CLUSTER SAVECONFIG on each so nodes.conf on disk carries them (used by start.sh recovery).
persist_hostnames() {
  local timeout=$1 i
  shift
  if ! wait_until "$timeout" 1 nodes_hostnames_known "$@"; then
    log_warn "peers' hostnames not known by every node after ${timeout}s; nodes.conf may lack some (restart recovery would keep old IPs for them)"
  fi
  for i in "$@"; do
    redis_try "${NODE_IPS[$i]}" "${NODE_PORTS[$i]}" CLUSTER SAVECONFIG ||
      log_warn "CLUSTER SAVECONFIG failed on $(node_label "$i"): $(first_line "$REDIS_OUT")"
  done
}

# masters_replica_report CLUSTER_NODES_TEXT WANT - print one line per problem with the replica
# layout: a live master (with slots) that has fewer than WANT live replicas on another IP.
masters_replica_report() {
  printf '%s\n' "$1" | awk -v want="$2" '
    function ip_of(addr,   a, hp) { split(addr, a, ","); hp = a[1]; sub(/@.*/, "", hp); sub(/:[0-9]+$/, "", hp); return hp }
    NF >= 8 && $3 !~ /fail|handshake|noaddr/ {
      id[NR] = $1; ip[$1] = ip_of($2); flags[$1] = $3; master[$1] = $4; slots[$1] = NF - 8
    }
    END {
      for (n in flags) if (flags[n] ~ /master/ && slots[n] > 0) {
        good = 0
        for (r in flags) if (flags[r] ~ /slave/ && master[r] == n && ip[r] != ip[n]) good++
        if (good < want) printf "master %s (%s) has %d replica(s) on another host, want %d\n", n, ip[n], good, want
      }
    }'
}
