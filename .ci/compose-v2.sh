#!/usr/bin/env bash
# Installs Docker Compose v2 as a Docker CLI plugin (~/.docker/cli-plugins/docker-compose), built from source
# through the Go module proxy: this machine has no registry and no package with the v2 plugin.
#
#   .ci/compose-v2.sh            # then `docker compose version` works
#
# The module is copied out of the module cache (read-only there) and built with `go build ./cmd`, as compose's own
# Makefile does, with the version stamped in. The built binary is cached per version under
# $(go env GOCACHE)/../tokencheck-ci/ (beside Go's build cache, so whatever keeps that cache between CI runs keeps
# this too): a second run installs it in a second instead of building it for ~4 minutes on 2 cores.
# Environment: COMPOSE_V2_VERSION (default v2.40.3), COMPOSE_V2_CACHE (the cache directory).
set -euo pipefail

version="${COMPOSE_V2_VERSION:-v2.40.3}"
module=github.com/docker/compose/v2
cache="${COMPOSE_V2_CACHE:-$(go env GOCACHE)/../tokencheck-ci}"
cached="$cache/docker-compose-$version-$(go env GOOS)-$(go env GOARCH)"
plugins="${DOCKER_CONFIG:-$HOME/.docker}/cli-plugins"
log() { echo "compose-v2: $*" >&2; }

install_plugin() {
  mkdir -p "$plugins"
  install -m 0755 "$cached" "$plugins/docker-compose.tmp"
  mv -f "$plugins/docker-compose.tmp" "$plugins/docker-compose"
  docker compose version >&2
}

if [ -x "$cached" ] && "$cached" version --short >/dev/null 2>&1; then
  log "cached build $cached"
  install_plugin
  exit 0
fi

log "building $module@$version from the Go module proxy (a few minutes on 2 cores)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
# Outside any module (and without the caller's GOFLAGS), so this repository's go.mod is neither read nor touched.
dir="$(cd "$work" && GOFLAGS= go mod download -json "$module@$version" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')"
[ -n "$dir" ] && [ -d "$dir" ] || { log "go mod download $module@$version gave no module directory"; exit 1; }
cp -r "$dir" "$work/compose"
chmod -R u+w "$work/compose"
mkdir -p "$cache"
# -mod=mod: the module has no vendor/ and the caller's GOFLAGS (this repository's) must not apply to it.
(cd "$work/compose" && GOFLAGS=-mod=mod CGO_ENABLED=0 GOWORK=off go build -trimpath \
  -ldflags "-s -w -X $module/internal.Version=$version" -o "$cached.tmp" ./cmd)
mv -f "$cached.tmp" "$cached"
install_plugin
