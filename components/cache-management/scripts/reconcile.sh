#!/usr/bin/env bash
# reconcile.sh - bring an existing Redis Cluster to the desired membership (cache-management Job,
# run after the StatefulSet grew, i.e. REDIS_NODES got longer). Idempotent: when every node is a
# member and the slots are balanced it changes nothing.
#
# Steps:
#   1. Wait (bounded by REDIS_WAIT_TIMEOUT_SECONDS) until every node of REDIS_NODES resolves and
#      answers PING, and until one member of the cluster reports cluster_state:ok. A cluster
#      that is not formed yet is bootstrap.sh's job: exit 1.
#   2. Nodes that are not members (their CLUSTER MYID is unknown to the cluster) are checked
#      first: one that holds keys, owns slots or knows other nodes is refused (exit 1, nothing
#      changed) - these scripts never FLUSHALL / CLUSTER RESET a node.
#   3. Joins the others in REDIS_NODES order with "redis-cli --cluster add-node": as masters
#      while the cluster has fewer than REDIS_MASTERS live masters, then as replicas
#      (--cluster-slave --cluster-master-id) of the live master with the fewest replicas.
#   4. "--cluster fix" only when "--cluster check" reports open slots (interrupted migration),
#      then "--cluster rebalance --cluster-use-empty-masters" so that new masters own slots (a
#      no-op when every master is within redis-cli's 2% threshold), then a final check:
#      cluster_state:ok and all 16384 slots covered, or exit 1.
#
# Environment:
#   REDIS_PASSWORD              required (Kubernetes Secret; given to redis-cli as REDISCLI_AUTH).
#   REDIS_NODES                 required; space-separated "hostname[:port]", pod-ordinal order
#                               (all pods of the StatefulSet).
#   REDIS_PORT                  default 6379 (entries without ":port").
#   REDIS_MASTERS               required integer >= 3 (desired number of masters).
#   REDIS_REPLICAS_PER_MASTER   required integer >= 0.
#   REDIS_WAIT_TIMEOUT_SECONDS  default 600; bound on each wait.
#   REDIS_CLI_TIMEOUT_SECONDS   default 10; REDIS_CLUSTER_OP_TIMEOUT_SECONDS default 1800 (bound
#                               on one add-node / fix / rebalance run).
#   REDIS_HOSTS_FILE            test seam only (hosts(5) file instead of DNS), see lib.sh.
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source-path=SCRIPTDIR/../../redis-cluster/scripts disable=SC1091
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

REDIS_WAIT_TIMEOUT_SECONDS="${REDIS_WAIT_TIMEOUT_SECONDS:-600}"

require_password
require_uint REDIS_MASTERS
require_uint REDIS_REPLICAS_PER_MASTER
require_uint REDIS_WAIT_TIMEOUT_SECONDS
((REDIS_MASTERS >= 3)) || die "REDIS_MASTERS must be at least 3, got $REDIS_MASTERS"

parse_nodes
wait_nodes_up "$REDIS_WAIT_TIMEOUT_SECONDS"

NODE_IDS=()
NODE_KNOWN=()
NODE_SLOTS=()
NODE_KEYS=()

inspect_node() {
  local i=$1 ip=${NODE_IPS[$1]} port=${NODE_PORTS[$1]}
  redis_try "$ip" "$port" CLUSTER MYID || die "CLUSTER MYID failed on $(node_label "$i"): $(first_line "$REDIS_OUT")"
  NODE_IDS[i]=$REDIS_OUT
  redis_try "$ip" "$port" CLUSTER INFO || die "CLUSTER INFO failed on $(node_label "$i"): $(first_line "$REDIS_OUT")"
  NODE_KNOWN[i]=$(printf '%s\n' "$REDIS_OUT" | info_field cluster_known_nodes)
  NODE_SLOTS[i]=$(printf '%s\n' "$REDIS_OUT" | info_field cluster_slots_assigned)
  redis_try "$ip" "$port" DBSIZE || die "DBSIZE failed on $(node_label "$i"): $(first_line "$REDIS_OUT")"
  NODE_KEYS[i]=$REDIS_OUT
  if ! is_uint "${NODE_KNOWN[$i]}" || ! is_uint "${NODE_SLOTS[$i]}" || ! is_uint "${NODE_KEYS[$i]}"; then
    die "unexpected CLUSTER INFO/DBSIZE reply from $(node_label "$i")"
  fi
}

# find_anchor - set ANCHOR to the first node that is part of a cluster in cluster_state:ok.
ANCHOR=""
find_anchor() {
  local i known
  for i in "${!NODE_NAMES[@]}"; do
    known=$(cluster_info_field "${NODE_IPS[$i]}" "${NODE_PORTS[$i]}" cluster_known_nodes) || continue
    if ! is_uint "$known" || ((known <= 1)); then
      continue
    fi
    if node_cluster_ok "${NODE_IPS[$i]}" "${NODE_PORTS[$i]}"; then
      ANCHOR=$i
      return 0
    fi
  done
  return 1
}

for i in "${!NODE_NAMES[@]}"; do
  inspect_node "$i"
done
formed=0
for i in "${!NODE_NAMES[@]}"; do
  if ((NODE_KNOWN[i] > 1)); then formed=1; fi
done
((formed == 1)) || die "no node knows another one: the cluster is not formed yet - run bootstrap.sh first"

log_info "waiting up to ${REDIS_WAIT_TIMEOUT_SECONDS}s for a member in cluster_state:ok"
wait_until "$REDIS_WAIT_TIMEOUT_SECONDS" 2 find_anchor ||
  die "no member of the cluster reports cluster_state:ok with all slots covered; not changing membership of an unhealthy cluster (see check.sh)"
anchor_addr="${NODE_IPS[$ANCHOR]}:${NODE_PORTS[$ANCHOR]}"
log_info "using $(node_label "$ANCHOR") as the reference member"

# CLUSTER_TEXT - CLUSTER NODES as the reference member sees it (refresh_topology updates it).
CLUSTER_TEXT=""
refresh_topology() {
  redis_try "${NODE_IPS[$ANCHOR]}" "${NODE_PORTS[$ANCHOR]}" CLUSTER NODES || return 1
  CLUSTER_TEXT=$REDIS_OUT
}
must_refresh_topology() {
  refresh_topology || die "CLUSTER NODES failed on $(node_label "$ANCHOR"): $(first_line "$REDIS_OUT")"
}

# is_member ID - the reference member knows ID (handshake excluded), per CLUSTER_TEXT.
is_member() {
  printf '%s\n' "$CLUSTER_TEXT" | awk -v id="$1" '$1 == id && $3 !~ /handshake/ { found = 1 } END { exit found ? 0 : 1 }'
}

must_refresh_topology

# --- which nodes must join, and may they? -----------------------------------------------------
candidates=()
refusals=()
for i in "${!NODE_NAMES[@]}"; do
  if is_member "${NODE_IDS[$i]}"; then
    continue
  fi
  if ((NODE_KEYS[i] > 0)); then
    refusals+=("$(node_label "$i") is not in the cluster but holds ${NODE_KEYS[$i]} key(s)")
  elif ((NODE_SLOTS[i] > 0)); then
    refusals+=("$(node_label "$i") is not in the cluster but has ${NODE_SLOTS[$i]} slot(s) assigned")
  elif ((NODE_KNOWN[i] > 1)); then
    refusals+=("$(node_label "$i") is not in the cluster but knows ${NODE_KNOWN[$i]} node(s) (another cluster, or forgotten)")
  else
    candidates+=("$i")
  fi
done
if ((${#refusals[@]} > 0)); then
  for m in "${refusals[@]}"; do log_error "$m"; done
  die "refusing to reconcile: joining the node(s) above would need FLUSHALL / CLUSTER RESET, which reconcile never does - empty or replace them by hand; nothing was changed"
fi

# live_masters_count - masters that are not failed/handshaking.
live_masters_count() {
  printf '%s\n' "$CLUSTER_TEXT" | awk '$3 ~ /master/ && $3 !~ /fail|handshake|noaddr/ { n++ } END { print n + 0 }'
}

# master_for_replica CANDIDATE_IP - id of the live master with the fewest live replicas (ties:
# the one with most slots, then lowest id), excluding masters on the candidate's IP.
master_for_replica() {
  printf '%s\n' "$CLUSTER_TEXT" | awk -v avoid="$1" '
    function ip_of(addr,   a, hp) { split(addr, a, ","); hp = a[1]; sub(/@.*/, "", hp); sub(/:[0-9]+$/, "", hp); return hp }
    $3 ~ /fail|handshake|noaddr/ { next }
    $3 ~ /master/ { m[$1] = ip_of($2); s[$1] = NF - 8; if (!($1 in r)) r[$1] = 0; next }
    $3 ~ /slave/ { r[$4]++ }
    END {
      best = ""
      for (id in m) {
        if (m[id] == avoid) continue
        if (best == "" || r[id] < r[best] || (r[id] == r[best] && (s[id] > s[best] || (s[id] == s[best] && id < best)))) best = id
      }
      if (best != "") printf "%s %d\n", best, r[best]
    }'
}

# node_joined I - node I is a member seen by the reference member, and knows the others.
node_joined() {
  local i=$1 known
  refresh_topology || return 1
  is_member "${NODE_IDS[$i]}" || return 1
  known=$(cluster_info_field "${NODE_IPS[$i]}" "${NODE_PORTS[$i]}" cluster_known_nodes) || return 1
  is_uint "$known" && ((known > 1))
}

changed=0
if ((${#candidates[@]} == 0)); then
  log_info "every node of REDIS_NODES is a member of the cluster"
fi
for i in "${candidates[@]}"; do
  addr="${NODE_IPS[$i]}:${NODE_PORTS[$i]}"
  must_refresh_topology
  masters=$(live_masters_count)
  if ((masters < REDIS_MASTERS)); then
    log_info "adding $(node_label "$i") as a master ($masters live master(s), want $REDIS_MASTERS)"
    rc=0
    out=$(redis_cluster_tool add-node "$addr" "$anchor_addr") || rc=$?
  else
    read -r master_id master_replicas < <(master_for_replica "${NODE_IPS[$i]}") ||
      die "no live master found to replicate for $(node_label "$i")"
    if ((master_replicas >= REDIS_REPLICAS_PER_MASTER)); then
      log_warn "every master already has $REDIS_REPLICAS_PER_MASTER replica(s); $(node_label "$i") becomes an extra replica"
    fi
    log_info "adding $(node_label "$i") as a replica of $master_id (which has $master_replicas replica(s))"
    rc=0
    out=$(redis_cluster_tool add-node "$addr" "$anchor_addr" --cluster-slave --cluster-master-id "$master_id") || rc=$?
  fi
  printf '%s\n' "$out" >&2
  ((rc == 0)) || die "redis-cli --cluster add-node $addr failed (exit $rc); see its output above"
  changed=1
  wait_until "$REDIS_WAIT_TIMEOUT_SECONDS" 1 node_joined "$i" ||
    die "$(node_label "$i") did not join within ${REDIS_WAIT_TIMEOUT_SECONDS}s - check that the cluster bus port (port + 10000) is open"
  log_info "$(node_label "$i") joined the cluster"
done

# --- slots ------------------------------------------------------------------------------------
# cluster_agrees - every node of REDIS_NODES knows every live member and "--cluster check"
# says all nodes agree about the slots configuration.
CHECK_OUT=""
cluster_agrees() {
  local i want known
  refresh_topology || return 1
  want=$(printf '%s\n' "$CLUSTER_TEXT" | awk 'NF >= 8 && $3 !~ /handshake|fail|noaddr/ { n++ } END { print n + 0 }')
  for i in "${!NODE_NAMES[@]}"; do
    known=$(cluster_info_field "${NODE_IPS[$i]}" "${NODE_PORTS[$i]}" cluster_known_nodes) || return 1
    if ! is_uint "$known" || ((known < want)); then
      return 1
    fi
  done
  CHECK_OUT=$(redis_cluster_tool check "$anchor_addr") || true
  [[ "$CHECK_OUT" == *"[OK] All nodes agree about slots configuration."* ]]
}
wait_until 60 1 cluster_agrees || log_warn "nodes do not agree about the configuration yet; continuing with check"

check_rc=0
CHECK_OUT=$(redis_cluster_tool check "$anchor_addr") || check_rc=$?
if printf '%s\n' "$CHECK_OUT" | grep -Eq 'slots are open|in (migrating|importing) state'; then
  printf '%s\n' "$CHECK_OUT" | grep -E '^\[(WARNING|ERR)\]' | while read -r line; do log_warn "check: $line"; done
  log_info "open slots found: running redis-cli --cluster fix"
  rc=0
  out=$(redis_cluster_tool fix "$anchor_addr" --cluster-yes) || rc=$?
  printf '%s\n' "$out" >&2
  ((rc == 0)) || die "redis-cli --cluster fix failed (exit $rc); see its output above"
  changed=1
elif ((check_rc != 0)); then
  printf '%s\n' "$CHECK_OUT" >&2
  die "redis-cli --cluster check reports problems that reconcile does not fix (see above)"
fi

log_info "rebalancing (masters without slots get their share; no-op within the 2% threshold)"
rc=0
out=$(redis_cluster_tool rebalance "$anchor_addr" --cluster-use-empty-masters) || rc=$?
printf '%s\n' "$out" >&2
((rc == 0)) || die "redis-cli --cluster rebalance failed (exit $rc); see its output above"
if [[ "$out" == *"Moving "* ]]; then
  changed=1
fi

# --- verify -----------------------------------------------------------------------------------
members_ok() {
  local i
  for i in "${!NODE_NAMES[@]}"; do
    node_cluster_ok "${NODE_IPS[$i]}" "${NODE_PORTS[$i]}" || return 1
  done
  CHECK_OUT=$(redis_cluster_tool check "$anchor_addr") || return 1
  [[ "$CHECK_OUT" == *"[OK] All $REDIS_CLUSTER_SLOTS slots covered."* ]]
}
if ! wait_until "$REDIS_WAIT_TIMEOUT_SECONDS" 2 members_ok; then
  printf '%s\n' "$CHECK_OUT" >&2
  die "the cluster is not ok after reconciling (cluster_state / slot coverage / check, see above)"
fi

must_refresh_topology
problems=$(masters_replica_report "$CLUSTER_TEXT" "$REDIS_REPLICAS_PER_MASTER")
if [[ -n "$problems" ]]; then
  printf '%s\n' "$problems" | while read -r line; do log_warn "$line"; done
fi
if ((changed == 1)); then
  persist_hostnames 60 "${!NODE_NAMES[@]}"
  log_info "reconciled: $(live_masters_count) live master(s), cluster_state:ok, $REDIS_CLUSTER_SLOTS slots covered"
else
  log_info "nothing to do: every node is a member, no open slots, slots balanced"
fi
