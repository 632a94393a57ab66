#!/usr/bin/env bash
# Installs everything the test suite needs beyond npm packages, idempotently and with visible
# progress: Debian packages (real Redis, Prometheus tooling, shellcheck) and the Go-built tools.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

log() { printf '[setup %(%H:%M:%S)T] %s\n' -1 "$*"; }

# Debian package -> a command it provides (checked to decide whether to install).
APT_PACKAGES=(
  "redis-server:redis-server"
  "redis-tools:redis-cli"
  "shellcheck:shellcheck"
  "prometheus:promtool"
  "prometheus-redis-exporter:prometheus-redis-exporter"
  "openssl:openssl"
)

ensure_apt_packages() {
  local missing=() entry pkg cmd
  for entry in "${APT_PACKAGES[@]}"; do
    pkg=${entry%%:*}
    cmd=${entry#*:}
    if ! command -v "$cmd" >/dev/null 2>&1 && ! dpkg -s "$pkg" >/dev/null 2>&1; then
      missing+=("$pkg")
    fi
  done
  if [ ${#missing[@]} -eq 0 ]; then
    log "Debian packages present: ${APT_PACKAGES[*]%%:*}"
    return
  fi
  local sudo=()
  if [ "$(id -u)" -ne 0 ]; then sudo=(sudo); fi
  log "installing Debian packages: ${missing[*]}"
  "${sudo[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
  # The packages start system services; tests run their own servers on loopback.
  for svc in redis-server prometheus prometheus-redis-exporter; do
    if command -v systemctl >/dev/null 2>&1; then "${sudo[@]}" systemctl stop "$svc" >/dev/null 2>&1 || true; fi
  done
  log "Debian packages installed"
}

ensure_apt_packages
# Kubernetes OpenAPI documents for `npm run check` and the schema tests (.tools/k8s-openapi/<minor>).
bash scripts/k8s-openapi/fetch.sh
# actionlint for the workflow tests (.tools/bin/actionlint, built from the Go module proxy).
bash scripts/tools/actionlint.sh
# Pulumi engine for the e2e tests and `pulumi preview` (.tools/bin: CLI, Node.js language host,
# Kubernetes provider; built from Go modules when not on PATH, rebuilt only when a pin changes).
bash scripts/pulumi-tools/build.sh >/dev/null
log "setup complete"
