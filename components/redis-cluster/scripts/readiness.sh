#!/usr/bin/env bash
# readiness.sh - readiness probe of a Redis Cluster node.
#
# Exit 0 only when the local server answers PING with PONG and CLUSTER INFO reports
# cluster_state:ok; otherwise print one line saying why and exit 1. A node of a cluster that is
# not formed yet (before bootstrap.sh) is therefore not ready: the StatefulSet must use
# podManagementPolicy: Parallel and the headless Service publishNotReadyAddresses: true, so that
# peers can find each other before they are ready.
#
# Environment:
#   REDIS_PASSWORD              required (Kubernetes Secret; given to redis-cli as REDISCLI_AUTH).
#   REDIS_HOST                  default 127.0.0.1.
#   REDIS_PORT                  default 6379.
#   REDIS_PROBE_TIMEOUT_SECONDS default 4; bound on each redis-cli call (keep the probe's
#                               timeoutSeconds above it).
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source-path=SCRIPTDIR/../../redis-cluster/scripts disable=SC1091
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

set_cli_timeout "${REDIS_PROBE_TIMEOUT_SECONDS:-4}"
require_password

if ! ping_node "$REDIS_HOST" "$REDIS_PORT"; then
  echo "not ready: PING to $REDIS_HOST:$REDIS_PORT answered '$(first_line "$REDIS_OUT")', not PONG"
  exit 1
fi
if ! redis_try "$REDIS_HOST" "$REDIS_PORT" CLUSTER INFO; then
  echo "not ready: CLUSTER INFO failed: $(first_line "$REDIS_OUT")"
  exit 1
fi
state=$(printf '%s\n' "$REDIS_OUT" | info_field cluster_state)
if [[ "$state" != "ok" ]]; then
  echo "not ready: cluster_state:${state:-unknown} (slots ok $(printf '%s\n' "$REDIS_OUT" | info_field cluster_slots_ok)/$REDIS_CLUSTER_SLOTS, known nodes $(printf '%s\n' "$REDIS_OUT" | info_field cluster_known_nodes))"
  exit 1
fi
echo "ready: PONG, cluster_state:ok"
