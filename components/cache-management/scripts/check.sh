#!/usr/bin/env bash
# check.sh - health check of the Redis Cluster (cache-management CronJob), optional snapshot.
#
# Picks the first node of REDIS_NODES that resolves and answers PING, then requires:
#   - "redis-cli --cluster check" to pass (nodes agree, no open slots, all slots covered);
#   - cluster_state:ok and cluster_slots_ok:16384 in that node's CLUSTER INFO.
# Otherwise exits 1 with a one-line summary (details logged above it). Nodes of REDIS_NODES
# that do not answer are reported as warnings (the cluster may still be ok thanks to failover).
# With REDIS_SNAPSHOT=true it then runs BGSAVE on every live master and waits (bounded by
# REDIS_SNAPSHOT_TIMEOUT_SECONDS) for each to complete successfully.
#
# Environment:
#   REDIS_PASSWORD                 required (Kubernetes Secret; given to redis-cli as REDISCLI_AUTH).
#   REDIS_NODES                    required; space-separated "hostname[:port]".
#   REDIS_PORT                     default 6379 (entries without ":port").
#   REDIS_SNAPSHOT                 default false; "true" to BGSAVE every master.
#   REDIS_SNAPSHOT_TIMEOUT_SECONDS default 600; bound on waiting for the snapshots.
#   REDIS_CLI_TIMEOUT_SECONDS      default 10; REDIS_CLUSTER_OP_TIMEOUT_SECONDS default 1800.
#   REDIS_HOSTS_FILE               test seam only (hosts(5) file instead of DNS), see lib.sh.
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source-path=SCRIPTDIR/../../redis-cluster/scripts disable=SC1091
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

REDIS_SNAPSHOT="${REDIS_SNAPSHOT:-false}"
REDIS_SNAPSHOT_TIMEOUT_SECONDS="${REDIS_SNAPSHOT_TIMEOUT_SECONDS:-600}"

require_password
require_uint REDIS_SNAPSHOT_TIMEOUT_SECONDS
parse_nodes

# --- find a reachable node (check_nodes_up dies on an authentication error) -------------------
check_nodes_up || true
ref=""
for i in "${!NODE_NAMES[@]}"; do
  if [[ -n "${NODE_PROBLEM[$i]:-}" ]]; then
    log_warn "node $(node_label "$i"): ${NODE_PROBLEM[$i]}"
  elif [[ -z "$ref" ]]; then
    ref=$i
  fi
done
[[ -n "$ref" ]] || die "UNHEALTHY: no node of REDIS_NODES answers PING (see above)"
ref_addr="${NODE_IPS[$ref]}:${NODE_PORTS[$ref]}"
log_info "checking the cluster through $(node_label "$ref")"

failures=()
check_rc=0
check_out=$(redis_cluster_tool check "$ref_addr") || check_rc=$?
printf '%s\n' "$check_out" >&2
if ((check_rc != 0)); then
  failures+=("redis-cli --cluster check failed (exit $check_rc)")
fi
if printf '%s\n' "$check_out" | grep -Eq 'slots are open|in (migrating|importing) state'; then
  failures+=("open slots (interrupted migration: run reconcile.sh)")
fi
if [[ "$check_out" != *"[OK] All $REDIS_CLUSTER_SLOTS slots covered."* ]]; then
  failures+=("not all $REDIS_CLUSTER_SLOTS slots are covered")
fi
if redis_try "${NODE_IPS[$ref]}" "${NODE_PORTS[$ref]}" CLUSTER INFO; then
  state=$(printf '%s\n' "$REDIS_OUT" | info_field cluster_state)
  slots_ok=$(printf '%s\n' "$REDIS_OUT" | info_field cluster_slots_ok)
  [[ "$state" == "ok" ]] || failures+=("cluster_state:${state:-unknown}")
  [[ "$slots_ok" == "$REDIS_CLUSTER_SLOTS" ]] || failures+=("cluster_slots_ok:${slots_ok:-unknown} of $REDIS_CLUSTER_SLOTS")
else
  failures+=("CLUSTER INFO failed: $(first_line "$REDIS_OUT")")
fi

if ((${#failures[@]} > 0)); then
  summary=$(printf '%s; ' "${failures[@]}")
  die "UNHEALTHY: ${summary%; }"
fi
log_info "HEALTHY: cluster_state:ok, all $REDIS_CLUSTER_SLOTS slots covered, --cluster check passed"

# --- optional snapshot ------------------------------------------------------------------------
if [[ "$REDIS_SNAPSHOT" != "true" ]]; then
  exit 0
fi

redis_try "${NODE_IPS[$ref]}" "${NODE_PORTS[$ref]}" CLUSTER NODES ||
  die "CLUSTER NODES failed on $(node_label "$ref"): $(first_line "$REDIS_OUT")"
# Live masters, addressed by IP:port as the cluster knows them.
mapfile -t masters < <(printf '%s\n' "$REDIS_OUT" | awk '
  NF >= 8 && $3 ~ /master/ && $3 !~ /fail|handshake|noaddr/ {
    split($2, a, ","); hp = a[1]; sub(/@.*/, "", hp); print hp }')
((${#masters[@]} > 0)) || die "SNAPSHOT FAILED: no live master found"

declare -A saves_before=()
for m in "${masters[@]}"; do
  host=${m%:*}
  port=${m##*:}
  redis_try "$host" "$port" INFO persistence || die "SNAPSHOT FAILED: INFO failed on $m: $(first_line "$REDIS_OUT")"
  saves_before[$m]=$(printf '%s\n' "$REDIS_OUT" | info_field rdb_saves)
  if redis_try "$host" "$port" BGSAVE; then
    log_info "BGSAVE started on $m"
  elif [[ "$REDIS_OUT" == *"already in progress"* ]]; then
    log_info "a background save is already running on $m; scheduling one after it"
    redis_try "$host" "$port" BGSAVE SCHEDULE || die "SNAPSHOT FAILED: BGSAVE SCHEDULE on $m: $(first_line "$REDIS_OUT")"
  else
    die "SNAPSHOT FAILED: BGSAVE on $m: $(first_line "$REDIS_OUT")"
  fi
done

SNAPSHOT_PENDING=()
snapshots_done() {
  local m host port saves inprogress status
  SNAPSHOT_PENDING=()
  for m in "${masters[@]}"; do
    host=${m%:*}
    port=${m##*:}
    if ! redis_try "$host" "$port" INFO persistence; then
      SNAPSHOT_PENDING+=("$m (INFO failed: $(first_line "$REDIS_OUT"))")
      continue
    fi
    saves=$(printf '%s\n' "$REDIS_OUT" | info_field rdb_saves)
    inprogress=$(printf '%s\n' "$REDIS_OUT" | info_field rdb_bgsave_in_progress)
    status=$(printf '%s\n' "$REDIS_OUT" | info_field rdb_last_bgsave_status)
    if [[ "$inprogress" != "0" ]] || ! is_uint "$saves" || ((saves <= ${saves_before[$m]:-0})); then
      if [[ "$inprogress" == "0" && "$status" == "err" ]]; then
        die "SNAPSHOT FAILED: background save failed on $m (rdb_last_bgsave_status:err; see its log)"
      fi
      SNAPSHOT_PENDING+=("$m")
    elif [[ "$status" != "ok" ]]; then
      die "SNAPSHOT FAILED: background save failed on $m (rdb_last_bgsave_status:$status)"
    fi
  done
  ((${#SNAPSHOT_PENDING[@]} == 0))
}
if ! wait_until "$REDIS_SNAPSHOT_TIMEOUT_SECONDS" 1 snapshots_done; then
  die "SNAPSHOT FAILED: not finished within ${REDIS_SNAPSHOT_TIMEOUT_SECONDS}s on: ${SNAPSHOT_PENDING[*]}"
fi
log_info "snapshot done on ${#masters[@]} master(s): ${masters[*]}"
