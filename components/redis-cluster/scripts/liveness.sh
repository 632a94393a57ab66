#!/usr/bin/env bash
# liveness.sh - liveness probe of a Redis Cluster node.
#
# Exit 0 when the local server answers PING with PONG, or with LOADING (it is loading its
# dataset) or MASTERDOWN (a replica waiting for its master): those nodes are alive and must not
# be restarted. Exit 1 with a one-line message when the server does not answer (connection
# refused, timeout) or answers anything else (e.g. an authentication error).
#
# Environment:
#   REDIS_PASSWORD              required (Kubernetes Secret; given to redis-cli as REDISCLI_AUTH).
#   REDIS_HOST                  default 127.0.0.1.
#   REDIS_PORT                  default 6379.
#   REDIS_PROBE_TIMEOUT_SECONDS default 4; bound on the redis-cli call (keep the probe's
#                               timeoutSeconds above it).
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source-path=SCRIPTDIR/../../redis-cluster/scripts disable=SC1091
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

set_cli_timeout "${REDIS_PROBE_TIMEOUT_SECONDS:-4}"
require_password

rc=0
redis_try "$REDIS_HOST" "$REDIS_PORT" PING || rc=$?
reply=$(first_line "$REDIS_OUT")
case "$reply" in
  PONG)
    ((rc == 0)) && { echo "alive: PONG"; exit 0; }
    ;;
  LOADING*)
    echo "alive: loading the dataset ($reply)"
    exit 0
    ;;
  MASTERDOWN*)
    echo "alive: replica waiting for its master ($reply)"
    exit 0
    ;;
esac
echo "not alive: PING to $REDIS_HOST:$REDIS_PORT failed (exit $rc): ${reply:-no answer}"
exit 1
