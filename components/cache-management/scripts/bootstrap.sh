#!/usr/bin/env bash
# bootstrap.sh - form the Redis Cluster once, idempotently (cache-management Job).
#
# Steps:
#   1. If a reachable node among the first REDIS_MASTERS * (1 + REDIS_REPLICAS_PER_MASTER)
#      nodes of REDIS_NODES already knows other nodes (cluster_known_nodes > 1), the cluster is
#      formed: nothing is created again; exit 0 (even if some pods are down).
#   2. Otherwise wait (bounded by REDIS_WAIT_TIMEOUT_SECONDS) until each of those nodes resolves
#      and answers PING (an authentication error fails at once), and look again: a formed
#      cluster means exit 0 (nodes that are not members yet are reported and left to
#      reconcile.sh).
#   3. Refuse (exit 1) when a node holds keys (DBSIZE > 0) or has slots assigned while no
#      cluster is formed: creating would need FLUSHALL / CLUSTER RESET, which these scripts never
#      run on a node. An operator must look at it.
#   4. Otherwise: redis-cli --cluster create <ip:port ...> --cluster-replicas R --cluster-yes.
#      Names are resolved to IPs first: Redis 7.0's CLUSTER MEET only accepts IP addresses
#      (with hostnames, create assigns the slots but the nodes never meet).
#   5. Wait for cluster_state:ok with all 16384 slots covered on every node, verify every master
#      has R replicas on another host (IP), then wait for the nodes' hostnames to be gossiped
#      and CLUSTER SAVECONFIG everywhere so nodes.conf lets start.sh recover from IP changes.
#
# Environment:
#   REDIS_PASSWORD              required (Kubernetes Secret; given to redis-cli as REDISCLI_AUTH).
#   REDIS_NODES                 required; space-separated "hostname[:port]" in pod-ordinal order,
#                               e.g. "redis-0.redis-headless.cache.svc.cluster.local ...".
#   REDIS_PORT                  default 6379 (entries without ":port").
#   REDIS_MASTERS               required integer >= 3.
#   REDIS_REPLICAS_PER_MASTER   required integer >= 0.
#   REDIS_WAIT_TIMEOUT_SECONDS  default 600; bound on each wait (nodes up, cluster ok).
#   REDIS_CREATE_TIMEOUT_SECONDS default 300; bound on "redis-cli --cluster create" (which
#                               otherwise waits forever when the nodes cannot meet).
#   REDIS_CLI_TIMEOUT_SECONDS   default 10; REDIS_CLUSTER_OP_TIMEOUT_SECONDS default 1800.
#   REDIS_HOSTS_FILE            test seam only (hosts(5) file instead of DNS), see lib.sh.
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source-path=SCRIPTDIR/../../redis-cluster/scripts disable=SC1091
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

REDIS_WAIT_TIMEOUT_SECONDS="${REDIS_WAIT_TIMEOUT_SECONDS:-600}"
REDIS_CREATE_TIMEOUT_SECONDS="${REDIS_CREATE_TIMEOUT_SECONDS:-300}"

require_password
require_uint REDIS_MASTERS
require_uint REDIS_REPLICAS_PER_MASTER
require_uint REDIS_WAIT_TIMEOUT_SECONDS
require_uint REDIS_CREATE_TIMEOUT_SECONDS
((REDIS_MASTERS >= 3)) || die "REDIS_MASTERS must be at least 3 (Redis Cluster needs 3 masters), got $REDIS_MASTERS"

parse_nodes
wanted=$((REDIS_MASTERS * (1 + REDIS_REPLICAS_PER_MASTER)))
((${#NODE_NAMES[@]} >= wanted)) ||
  die "REDIS_NODES lists ${#NODE_NAMES[@]} node(s); $REDIS_MASTERS master(s) x (1 + $REDIS_REPLICAS_PER_MASTER replica(s)) need $wanted"
# Bootstrap forms the initial shape from the first nodes; later ones are reconcile.sh's job.
NODE_NAMES=("${NODE_NAMES[@]:0:wanted}")
NODE_PORTS=("${NODE_PORTS[@]:0:wanted}")
NODE_IPS=("${NODE_IPS[@]:0:wanted}")
indexes=("${!NODE_NAMES[@]}")

# A re-run after the cluster was formed must not need every pod up (one may be down for good):
# if a reachable node already knows others, the cluster exists and there is nothing to create.
check_nodes_up || true
for i in "${indexes[@]}"; do
  [[ -z "${NODE_PROBLEM[$i]:-}" ]] || continue
  known=$(cluster_info_field "${NODE_IPS[$i]}" "${NODE_PORTS[$i]}" cluster_known_nodes) || continue
  if is_uint "$known" && ((known > 1)); then
    log_info "cluster already formed: $(node_label "$i") knows $known node(s); not creating it again"
    for j in "${indexes[@]}"; do
      if [[ -n "${NODE_PROBLEM[$j]:-}" ]]; then
        log_warn "node $(node_label "$j") is not reachable right now (${NODE_PROBLEM[$j]})"
      fi
    done
    if node_cluster_ok "${NODE_IPS[$i]}" "${NODE_PORTS[$i]}"; then
      log_info "cluster_state:ok with all $REDIS_CLUSTER_SLOTS slots covered; nothing to do (new or missing members: reconcile.sh)"
    else
      log_warn "the cluster is formed but not healthy right now (see check.sh / reconcile.sh); bootstrap does not touch it"
    fi
    exit 0
  fi
done

wait_nodes_up "$REDIS_WAIT_TIMEOUT_SECONDS"

# --- inspect every node -----------------------------------------------------------------------
formed_by=""
max_known=1
loners=()
holding_data=()
lone_with_slots=()
for i in "${indexes[@]}"; do
  ip=${NODE_IPS[$i]}
  port=${NODE_PORTS[$i]}
  redis_try "$ip" "$port" CLUSTER INFO ||
    die "CLUSTER INFO failed on $(node_label "$i"): $(first_line "$REDIS_OUT") (is cluster-enabled yes?)"
  known=$(printf '%s\n' "$REDIS_OUT" | info_field cluster_known_nodes)
  assigned=$(printf '%s\n' "$REDIS_OUT" | info_field cluster_slots_assigned)
  redis_try "$ip" "$port" DBSIZE || die "DBSIZE failed on $(node_label "$i"): $(first_line "$REDIS_OUT")"
  keys=$REDIS_OUT
  if ! is_uint "$known" || ! is_uint "$assigned" || ! is_uint "$keys"; then
    die "unexpected CLUSTER INFO/DBSIZE reply from $(node_label "$i"): '$known' '$assigned' '$keys'"
  fi
  log_info "node $(node_label "$i"): cluster_known_nodes=$known cluster_slots_assigned=$assigned keys=$keys"
  if ((known > 1)); then
    if ((known > max_known)); then
      max_known=$known
      formed_by=$i
    fi
  else
    loners+=("$i")
    if ((keys > 0)); then
      holding_data+=("$(node_label "$i") holds $keys key(s)")
    fi
    if ((assigned > 0)); then
      lone_with_slots+=("$(node_label "$i") has $assigned slot(s)")
    fi
  fi
done

if [[ -n "$formed_by" ]]; then
  log_info "cluster already formed: $(node_label "$formed_by") knows $max_known node(s); not creating it again"
  if ((${#loners[@]} > 0)); then
    for i in "${loners[@]}"; do
      log_warn "node $(node_label "$i") is not a member of the cluster yet; leaving it to reconcile.sh"
    done
  fi
  if node_cluster_ok "${NODE_IPS[$formed_by]}" "${NODE_PORTS[$formed_by]}"; then
    log_info "cluster_state:ok with all $REDIS_CLUSTER_SLOTS slots covered; nothing to do"
  else
    log_warn "the cluster is formed but not healthy right now (see check.sh / reconcile.sh); bootstrap does not touch it"
  fi
  exit 0
fi

if ((${#holding_data[@]} > 0)); then
  for m in "${holding_data[@]}"; do log_error "$m"; done
  die "refusing to create the cluster: node(s) above hold data but no cluster is formed; creating would mean FLUSHALL / CLUSTER RESET, which bootstrap never does - empty or replace those nodes by hand"
fi
if ((${#lone_with_slots[@]} > 0)); then
  for m in "${lone_with_slots[@]}"; do log_error "$m"; done
  die "refusing to create the cluster: node(s) above have slots assigned but know no other node (interrupted create?); inspect them (CLUSTER NODES) and CLUSTER RESET them by hand if they are empty"
fi

# --- create -----------------------------------------------------------------------------------
addrs=()
for i in "${indexes[@]}"; do
  addrs+=("${NODE_IPS[$i]}:${NODE_PORTS[$i]}")
done
log_info "creating the cluster: $REDIS_MASTERS master(s) x $REDIS_REPLICAS_PER_MASTER replica(s) on ${addrs[*]}"
create_rc=0
# "--cluster create" waits forever for the nodes to meet: bound it.
create_out=$(REDIS_CLUSTER_OP_TIMEOUT_SECONDS=$REDIS_CREATE_TIMEOUT_SECONDS redis_cluster_tool create "${addrs[@]}" \
  --cluster-replicas "$REDIS_REPLICAS_PER_MASTER" --cluster-yes) || create_rc=$?
printf '%s\n' "$create_out" >&2
if ((create_rc == 124)); then
  die "redis-cli --cluster create did not finish within ${REDIS_CREATE_TIMEOUT_SECONDS}s: the nodes could not meet - check that the cluster bus port (port + 10000) is open between the pods"
fi
((create_rc == 0)) || die "redis-cli --cluster create failed (exit $create_rc); see its output above"

log_info "waiting up to ${REDIS_WAIT_TIMEOUT_SECONDS}s for cluster_state:ok and $REDIS_CLUSTER_SLOTS slots on every node"
wait_until "$REDIS_WAIT_TIMEOUT_SECONDS" 1 all_nodes_cluster_ok "$wanted" "${indexes[@]}" ||
  die "the cluster did not reach cluster_state:ok with $wanted nodes and all slots covered within ${REDIS_WAIT_TIMEOUT_SECONDS}s"

# Replica roles propagate by gossip: wait for the layout, then verify it.
layout_ok() {
  local text
  text=$(cluster_nodes "${NODE_IPS[0]}" "${NODE_PORTS[0]}")
  LAYOUT_PROBLEMS=$(masters_replica_report "$text" "$REDIS_REPLICAS_PER_MASTER")
  [[ -z "$LAYOUT_PROBLEMS" ]]
}
LAYOUT_PROBLEMS=""
if ! wait_until 60 1 layout_ok; then
  printf '%s\n' "$LAYOUT_PROBLEMS" | while read -r line; do log_error "$line"; done
  die "cluster created but the replica layout is wrong (see above)"
fi
log_info "every master has $REDIS_REPLICAS_PER_MASTER replica(s) on another host"

persist_hostnames 60 "${indexes[@]}"
log_info "cluster formed: cluster_state:ok, $REDIS_CLUSTER_SLOTS slots covered, $wanted node(s)"
