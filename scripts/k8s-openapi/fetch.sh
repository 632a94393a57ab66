#!/usr/bin/env bash
# Fetches the official Kubernetes OpenAPI v3 documents of the given minor versions (default: 1.30
# plus every deploy.kubernetesVersion named in Pulumi.*.yaml) into .tools/k8s-openapi/<minor>/,
# for `npm run check`. Source: the k8s.io/kubernetes Go module of the newest patch release the Go
# module proxy serves (api/openapi-spec/v3 of that exact release), cached in the Go module cache.
# The same release's generated Go definitions give the enum values the published documents omit.
# Idempotent: a version already fetched is skipped.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."

log() { printf '[k8s-openapi %(%H:%M:%S)T] %s\n' -1 "$*"; }

versions=("$@")
if [ ${#versions[@]} -eq 0 ]; then
  mapfile -t versions < <({ echo 1.30; sed -n 's/^\s*kubernetesVersion:\s*["'"'"']\?\(1\.[0-9]\+\).*/\1/p' Pulumi.*.yaml 2>/dev/null; } | sort -u)
fi

for minor in "${versions[@]}"; do
  if ! [[ $minor =~ ^1\.[0-9]+$ ]]; then
    echo "k8s-openapi: \"$minor\" is not a Kubernetes minor version such as 1.30" >&2
    exit 2
  fi
  dest=".tools/k8s-openapi/$minor"
  if [ -f "$dest/VERSION" ]; then
    log "Kubernetes $minor OpenAPI present ($(cat "$dest/VERSION"))"
    continue
  fi
  command -v go >/dev/null 2>&1 || { echo "k8s-openapi: Go is required to fetch the Kubernetes OpenAPI documents" >&2; exit 1; }
  release=$(go list -m -versions k8s.io/kubernetes | tr ' ' '\n' | grep -E "^v${minor//./\\.}\.[0-9]+$" | sort -V | tail -n 1 || true)
  if [ -z "$release" ]; then
    echo "k8s-openapi: the Go module proxy serves no k8s.io/kubernetes release for $minor" >&2
    exit 1
  fi
  log "downloading k8s.io/kubernetes@$release (Kubernetes $minor)"
  moddir=$(go mod download -json "k8s.io/kubernetes@$release" | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{const j=JSON.parse(s);if(j.Error){console.error(j.Error);process.exit(1)}console.log(j.Dir)})')
  mkdir -p .tools
  tmp=$(mktemp -d ".tools/k8s-openapi-$minor.XXXXXX")
  trap 'rm -rf "$tmp"' EXIT
  mkdir -p "$tmp/v3"
  cp "$moddir"/api/openapi-spec/v3/*.json "$tmp/v3/"
  chmod -R u+w "$tmp"
  (cd scripts/k8s-openapi/enums && GOWORK=off go run . "$moddir/pkg/generated/openapi/zz_generated.openapi.go" "$OLDPWD/$tmp/enums.json") >/dev/null
  echo "$release" > "$tmp/VERSION"
  mkdir -p "$(dirname "$dest")"
  rm -rf "$dest"
  mv "$tmp" "$dest"
  trap - EXIT
  docs=("$dest"/v3/*.json)
  log "Kubernetes $minor OpenAPI ready in $dest ($release, ${#docs[@]} documents)"
done
