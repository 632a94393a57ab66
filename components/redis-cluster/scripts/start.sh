#!/usr/bin/env bash
# start.sh - entrypoint of the redis container of a Redis Cluster node (StatefulSet pod).
#
# 1. Writes the runtime include of redis.conf (mode 0600): requirepass and masterauth from
#    REDIS_PASSWORD, cluster-announce-hostname REDIS_ANNOUNCE_HOSTNAME. Its path is the one named
#    by the last "include" directive of REDIS_CONF (fallback: $REDIS_RUN_DIR/runtime.conf, then
#    passed to redis-server as --include).
# 2. Recovery: when nodes.conf exists (the node already belonged to a cluster and restarted,
#    possibly with every pod on a new IP), rewrites the IP of every node line - peers and
#    "myself" - with the current address of the node's hostname (Redis 7 stores
#    "ip:port@cport,hostname[,aux...]" in field 2). Names that do not resolve yet are retried
#    until REDIS_RECOVERY_TIMEOUT_SECONDS (pods start in parallel; the headless Service publishes
#    not-ready addresses); names that never resolve keep their old address (logged). nodes.conf
#    is backed up first (nodes.conf.bak-<UTC time>, last 5 kept) and never deleted.
# 3. exec redis-server "$REDIS_CONF" "$@" (extra arguments of start.sh are passed through).
#
# Environment:
#   REDIS_PASSWORD                  required (Kubernetes Secret).
#   REDIS_ANNOUNCE_HOSTNAME         this pod's stable DNS name, e.g.
#                                   redis-0.redis-headless.cache.svc.cluster.local
#                                   (default: hostname -f, with a warning).
#   REDIS_CONF                      default /etc/redis/redis.conf.
#   REDIS_DATA_DIR                  default /data; nodes.conf is the conf's cluster-config-file
#                                   (relative paths are taken under REDIS_DATA_DIR), else
#                                   $REDIS_DATA_DIR/nodes.conf.
#   REDIS_RUN_DIR                   default /run/redis (runtime include when the conf names none).
#   REDIS_RECOVERY_TIMEOUT_SECONDS  default 60; how long to retry resolving peers' hostnames.
#   REDIS_NODES_CONF_BACKUPS        default 5; nodes.conf backups kept.
#   REDIS_HOSTS_FILE                test seam only (hosts(5) file instead of DNS), see lib.sh.
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source-path=SCRIPTDIR/../../redis-cluster/scripts disable=SC1091
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

REDIS_CONF="${REDIS_CONF:-/etc/redis/redis.conf}"
REDIS_DATA_DIR="${REDIS_DATA_DIR:-/data}"
REDIS_RUN_DIR="${REDIS_RUN_DIR:-/run/redis}"
REDIS_RECOVERY_TIMEOUT_SECONDS="${REDIS_RECOVERY_TIMEOUT_SECONDS:-60}"
REDIS_NODES_CONF_BACKUPS="${REDIS_NODES_CONF_BACKUPS:-5}"

require_password
require_uint REDIS_RECOVERY_TIMEOUT_SECONDS
require_uint REDIS_NODES_CONF_BACKUPS
[[ -r "$REDIS_CONF" ]] || die "redis configuration $REDIS_CONF is not readable"

# conf_directive NAME - value of the last NAME directive of REDIS_CONF (quotes stripped).
conf_directive() {
  awk -v want="$1" '
    { sub(/^[ \t]+/, "") }
    /^#/ || NF < 2 { next }
    tolower($1) == want { v = $0; sub(/^[^ \t]+[ \t]+/, "", v); sub(/[ \t]+$/, "", v); found = 1 }
    END { if (found) { gsub(/^["'\'']|["'\'']$/, "", v); print v } }' "$REDIS_CONF"
}

# conf_quote VALUE - a double-quoted redis.conf string with every byte hex-escaped, so any
# password (quotes, spaces, #, backslashes, non-ASCII) survives the config parser.
conf_quote() {
  local hex
  hex=$(printf '%s' "$1" | od -An -v -tx1 | tr -d ' \n')
  printf '"%s"' "$(printf '%s' "$hex" | sed 's/\(..\)/\\x\1/g')"
}

write_runtime_conf() {
  local path=$1 hostname=$2 tmp
  mkdir -p "$(dirname "$path")"
  tmp=$(umask 077 && mktemp "${path}.XXXXXX")
  {
    printf '# Written by start.sh at %s; do not edit (regenerated at every start).\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)"
    printf 'requirepass %s\n' "$(conf_quote "$REDIS_PASSWORD")"
    printf 'masterauth %s\n' "$(conf_quote "$REDIS_PASSWORD")"
    printf 'cluster-announce-hostname %s\n' "$hostname"
  } >"$tmp"
  chmod 0600 "$tmp"
  mv -f "$tmp" "$path"
  log_info "wrote $path (requirepass, masterauth, cluster-announce-hostname $hostname)"
}

# backup_nodes_conf FILE - timestamped copy, keep the newest REDIS_NODES_CONF_BACKUPS.
backup_nodes_conf() {
  local file=$1 backup
  backup="${file}.bak-$(date -u +%Y%m%dT%H%M%S)-$$"
  cp -p "$file" "$backup"
  log_info "backed up $file to $backup"
  local -a backups=()
  shopt -s nullglob
  backups=("$file".bak-*)
  shopt -u nullglob
  local excess=$((${#backups[@]} - REDIS_NODES_CONF_BACKUPS))
  local i
  for ((i = 0; i < excess; i++)); do
    rm -f -- "${backups[$i]}"
  done
}

# recover_nodes_conf FILE - rewrite stale IPs in nodes.conf from the nodes' hostnames.
recover_nodes_conf() {
  local file=$1
  local -a names=()
  local -A resolved=()
  local name ip pending deadline

  mapfile -t names < <(awk '$1 != "vars" && NF >= 8 {
      n = split($2, a, ","); if (n >= 2 && a[2] != "") print a[2] }' "$file" | sort -u)
  if ((${#names[@]} == 0)); then
    log_warn "$file has no node hostnames (written before hostnames were gossiped?); addresses left as they are"
    return 0
  fi
  log_info "recovery: resolving ${#names[@]} node hostname(s) from $file (up to ${REDIS_RECOVERY_TIMEOUT_SECONDS}s)"

  deadline=$(($(now) + REDIS_RECOVERY_TIMEOUT_SECONDS))
  while true; do
    pending=0
    for name in "${names[@]}"; do
      [[ -n "${resolved[$name]:-}" ]] && continue
      if ip=$(resolve_host "$name"); then
        resolved[$name]=$ip
      else
        pending=$((pending + 1))
      fi
    done
    ((pending == 0)) && break
    (($(now) >= deadline)) && break
    sleep 1
  done
  for name in "${names[@]}"; do
    [[ -n "${resolved[$name]:-}" ]] ||
      log_warn "recovery: $name did not resolve within ${REDIS_RECOVERY_TIMEOUT_SECONDS}s; keeping its old address"
  done

  local map tmp changes
  # Scratch files next to nodes.conf: the data volume is writable even with a read-only root.
  map=$(mktemp "${file}.map.XXXXXX")
  changes=$(mktemp "${file}.changes.XXXXXX")
  for name in "${!resolved[@]}"; do
    printf '%s %s\n' "$name" "${resolved[$name]}" >>"$map"
  done
  tmp=$(mktemp "${file}.recover.XXXXXX")
  awk -v mapfile="$map" -v changes="$changes" '
    BEGIN { while ((getline line < mapfile) > 0) { split(line, f, " "); addr[f[1]] = f[2] } }
    $1 == "vars" || NF < 8 { print; next }
    {
      field = $2
      n = split(field, parts, ",")
      host = (n >= 2) ? parts[2] : ""
      hostport = parts[1]; bus = ""
      at = index(hostport, "@")
      if (at > 0) { bus = substr(hostport, at); hostport = substr(hostport, 1, at - 1) }
      if (host == "" || !(host in addr) || !match(hostport, /:[0-9]+$/)) { print; next }
      oldip = substr(hostport, 1, RSTART - 1); port = substr(hostport, RSTART + 1)
      if (port == "0" || oldip == addr[host]) { print; next }
      newfield = addr[host] ":" port bus substr(field, length(parts[1]) + 1)
      pos = index($0, field)
      line = substr($0, 1, pos - 1) newfield substr($0, pos + length(field))
      printf "%s %s %s %s -> %s\n", $1, ($3 ~ /myself/ ? "myself" : "peer"), host, (oldip == "" ? "(none)" : oldip), addr[host] >> changes
      print line
    }' "$file" >"$tmp"

  if cmp -s "$file" "$tmp"; then
    rm -f "$tmp"
    log_info "recovery: every node address in $file is current"
  else
    chmod --reference="$file" "$tmp" 2>/dev/null || true
    mv -f "$tmp" "$file"
    local id role host old arrow new
    while read -r id role host old arrow new; do
      log_info "recovery: $role ${id:0:12} $host $old $arrow $new"
    done <"$changes"
    log_info "recovery: rewrote $file"
  fi
  rm -f "$map" "$changes"
}

main() {
  local announce=${REDIS_ANNOUNCE_HOSTNAME:-}
  if [[ -z "$announce" ]]; then
    announce=$(hostname -f 2>/dev/null || hostname)
    log_warn "REDIS_ANNOUNCE_HOSTNAME is not set; announcing '$announce'"
  fi
  [[ "$announce" =~ ^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$ ]] ||
    die "REDIS_ANNOUNCE_HOSTNAME '$announce' is not a valid hostname"

  local -a extra=()
  local runtime_conf
  runtime_conf=$(conf_directive include)
  if [[ -z "$runtime_conf" ]]; then
    runtime_conf="$REDIS_RUN_DIR/runtime.conf"
    extra=(--include "$runtime_conf")
    log_warn "$REDIS_CONF has no include directive; passing --include $runtime_conf"
  fi
  write_runtime_conf "$runtime_conf" "$announce"

  local nodes_conf
  nodes_conf=$(conf_directive cluster-config-file)
  if [[ -z "$nodes_conf" ]]; then
    nodes_conf="$REDIS_DATA_DIR/nodes.conf"
  elif [[ "$nodes_conf" != /* ]]; then
    nodes_conf="$REDIS_DATA_DIR/$nodes_conf"
  fi
  if [[ -s "$nodes_conf" ]]; then
    log_info "found $nodes_conf: this node belonged to a cluster; recovering peer addresses"
    backup_nodes_conf "$nodes_conf"
    recover_nodes_conf "$nodes_conf"
  else
    log_info "no $nodes_conf: fresh node (bootstrap.sh/reconcile.sh will add it to the cluster)"
  fi

  # redis-server reads the password from the runtime include; keep it out of its environment.
  unset REDISCLI_AUTH REDIS_PASSWORD
  log_info "exec redis-server $REDIS_CONF ${extra[*]} $*"
  exec redis-server "$REDIS_CONF" "${extra[@]}" "$@"
}

main "$@"
