#!/usr/bin/env bash
# Builds local stand-ins for the Dockerfile's two base images, for machines with a Docker engine but no registry
# (CI here): nothing can be pulled, so the images are made from what this machine already has.
#
#   tokencheck-ci/golang:local   busybox-static shell + the Go toolchain at $GOROOT (default /usr/local/go)
#   tokencheck-ci/static:local   FROM scratch: /etc/passwd (nonroot 65532), /etc/group, CA certificates, /tmp
#
# Prints the two build arguments for the caller to eval or export:
#   eval "$(.ci/base-images.sh)"   # sets GO_IMAGE and RUNTIME_IMAGE
# Idempotent: each image carries a label with a digest of its inputs and is rebuilt only when they change.
# Needs root only to install busybox-static with apt-get when it is missing.
set -euo pipefail

GO_TAG="${CI_GO_IMAGE_TAG:-tokencheck-ci/golang:local}"
RUNTIME_TAG="${CI_RUNTIME_IMAGE_TAG:-tokencheck-ci/static:local}"
GOROOT_HOST="${GOROOT_HOST:-/usr/local/go}"
CA_BUNDLE="${CA_BUNDLE:-/etc/ssl/certs/ca-certificates.crt}"
LABEL=tokencheck.ci.inputs

log() { echo "base-images: $*" >&2; }
die() { log "$*"; exit 1; }

command -v docker >/dev/null || die "docker CLI not found; install docker.io"
docker info >/dev/null 2>&1 || die "the Docker daemon is not reachable (docker info failed); start dockerd"
[ -x "$GOROOT_HOST/bin/go" ] || die "no Go toolchain at $GOROOT_HOST; set GOROOT_HOST"
[ -r "$CA_BUNDLE" ] || die "no CA bundle at $CA_BUNDLE; install ca-certificates or set CA_BUNDLE"

busybox=""
for b in /bin/busybox /usr/bin/busybox; do
  if [ -x "$b" ] && { ldd "$b" 2>&1 || true; } | grep -q 'not a dynamic executable'; then
    busybox="$b"; break
  fi
done
if [ -z "$busybox" ]; then
  log "installing busybox-static (a static shell for the Go stand-in image)"
  if [ "$(id -u)" -ne 0 ]; then die "busybox-static is missing and this is not root; apt-get install busybox-static"; fi
  (apt-get install -y --no-install-recommends busybox-static >/dev/null 2>&1 ||
    { apt-get update >/dev/null && apt-get install -y --no-install-recommends busybox-static >/dev/null; }) ||
    die "apt-get install busybox-static failed"
  busybox=/bin/busybox
fi

# current_key TAG prints the inputs label of TAG, or nothing when the image does not exist.
current_key() { docker image inspect -f "{{index .Config.Labels \"$LABEL\"}}" "$1" 2>/dev/null || true; }

go_version="$("$GOROOT_HOST/bin/go" env GOVERSION)"
go_key="$(printf '%s\n' "v1" "$go_version" "$(sha256sum "$busybox" "$CA_BUNDLE" | cut -c1-64)" | sha256sum | cut -c1-16)"
runtime_key="$(printf '%s\n' "v1" "$(sha256sum "$CA_BUNDLE" | cut -c1-64)" | sha256sum | cut -c1-16)"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# skeleton DIR writes the files both images share: passwd/group with root and nonroot (65532, as distroless), the
# CA bundle, and a world-writable /tmp.
skeleton() {
  local d="$1"
  mkdir -p "$d/etc/ssl/certs" "$d/tmp" "$d/home/nonroot" "$d/root"
  chmod 1777 "$d/tmp"
  chmod 700 "$d/root"
  chown 65532:65532 "$d/home/nonroot"
  printf '%s\n' 'root:x:0:0:root:/root:/sbin/nologin' 'nobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin' \
    'nonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin' >"$d/etc/passwd"
  printf '%s\n' 'root:x:0:' 'nobody:x:65534:' 'nonroot:x:65532:' >"$d/etc/group"
  cp "$CA_BUNDLE" "$d/etc/ssl/certs/ca-certificates.crt"
}

if [ "$(current_key "$GO_TAG")" = "$go_key" ]; then
  log "$GO_TAG is up to date ($go_version)"
else
  log "building $GO_TAG from $GOROOT_HOST ($go_version) and $busybox"
  root="$work/go"
  skeleton "$root"
  mkdir -p "$root/bin" "$root/usr/local" "$root/go/bin" "$root/go/pkg" "$root/work"
  cp "$busybox" "$root/bin/busybox"
  for applet in $("$busybox" --list); do
    [ "$applet" = busybox ] || ln -sf busybox "$root/bin/$applet"
  done
  # The toolchain is streamed into the same tarball rather than copied: it is large and read-only here.
  tar -C "$root" -cf "$work/skel.tar" .
  tar -C "$(dirname "$GOROOT_HOST")" --exclude="$(basename "$GOROOT_HOST")/test" \
    --transform "s,^$(basename "$GOROOT_HOST"),usr/local/go," -cf "$work/go.tar" "$(basename "$GOROOT_HOST")"
  tar -Af "$work/skel.tar" "$work/go.tar"
  docker import \
    --change 'ENV PATH=/go/bin:/usr/local/go/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'ENV GOPATH=/go' --change 'ENV HOME=/root' --change 'ENV GOTOOLCHAIN=local' \
    --change 'ENV CGO_ENABLED=0' --change 'WORKDIR /go' --change 'CMD ["/bin/sh"]' \
    --change "LABEL $LABEL=$go_key" \
    "$work/skel.tar" "$GO_TAG" >/dev/null
  rm -f "$work/skel.tar" "$work/go.tar"
fi

if [ "$(current_key "$RUNTIME_TAG")" = "$runtime_key" ]; then
  log "$RUNTIME_TAG is up to date"
else
  log "building $RUNTIME_TAG (scratch + passwd, CA certificates, /tmp)"
  root="$work/static"
  skeleton "$root"
  tar -C "$root" -cf "$work/static.tar" .
  docker import --change 'USER 65532:65532' --change 'WORKDIR /home/nonroot' \
    --change "LABEL $LABEL=$runtime_key" "$work/static.tar" "$RUNTIME_TAG" >/dev/null
fi

# Smoke-test the Go image: a shell and the toolchain must both work, or every later build fails obscurely.
docker run --rm --network none "$GO_TAG" sh -c 'go version >/dev/null' ||
  die "$GO_TAG does not run 'go version'; remove it (docker rmi $GO_TAG) and re-run"

echo "export GO_IMAGE=$GO_TAG"
echo "export RUNTIME_IMAGE=$RUNTIME_TAG"
