# tokencheck: static server and client binaries in a small non-root image (plus `echo`, which compose's
# what-next service prints with: the image has no shell).
#
#   docker build -t tokencheck .                       # needs the public base images below
#   docker build --build-arg GO_IMAGE=... --build-arg RUNTIME_IMAGE=... .   # other (e.g. local) base images
#
# Modules: with a vendor/ directory in the build context (`go mod vendor`, as CI does when the build has no
# network) the build uses it; otherwise go build downloads just the modules it needs through GOPROXY.
# Works with both BuildKit and the classic builder (docker-compose 1.29), so it uses no RUN --mount.
ARG GO_IMAGE=golang:1.26-bookworm
ARG RUNTIME_IMAGE=gcr.io/distroless/static-debian12:nonroot

FROM ${GO_IMAGE} AS build
WORKDIR /src
ENV CGO_ENABLED=0 GOFLAGS=-buildvcs=false
COPY . .
# One go build for all binaries so they share compiled packages; the build cache is dropped in the same step to
# keep the layer small. test/brokenapi is the deliberately broken test-only API; only its own stage copies it.
# /out/echo prints its arguments, one a line: the image has no shell, and compose's what-next service needs
# something to print its text with. Its 5-line source is written here rather than kept as a package of the module.
RUN set -e; \
    if [ -f vendor/modules.txt ]; then export GOFLAGS="$GOFLAGS -mod=vendor"; fi; \
    mkdir -p /out/data /tmp/echo; \
    go build -trimpath -ldflags='-s -w' -o /out/ ./server ./client ./test/brokenapi; \
    printf '%s\n' 'module echo' 'go 1.22' >/tmp/echo/go.mod; \
    printf '%s\n' 'package main' 'import ("fmt"; "os")' \
      'func main() { for _, a := range os.Args[1:] { fmt.Println(a) } }' >/tmp/echo/main.go; \
    (cd /tmp/echo && GOFLAGS=-buildvcs=false go build -trimpath -ldflags='-s -w' -o /out/echo .); \
    rm -rf "$(go env GOCACHE)" /tmp/echo

# Test-only image for docker-compose.broken.yml (build target "brokenapi"). Never the default target.
FROM ${RUNTIME_IMAGE} AS brokenapi
COPY --from=build /out/brokenapi /usr/local/bin/brokenapi
COPY --from=build /out/client /usr/local/bin/client
USER 65532:65532
EXPOSE 3010
ENV PATH=/usr/local/bin:/usr/bin:/bin
CMD ["brokenapi"]

# The default target: server (the API) and client (token, call, test, load, tenant) on the PATH, so
# `docker compose run --rm tester client token` works.
FROM ${RUNTIME_IMAGE} AS runtime
COPY --from=build /out/server /usr/local/bin/server
COPY --from=build /out/client /usr/local/bin/client
COPY --from=build /out/echo /usr/local/bin/echo
# /data is where the stand-in tenant keeps its keys (--key-file /data/keys.pem); a named volume mounted there
# inherits this non-root owner, so the tenant can write it.
COPY --from=build --chown=65532:65532 /out/data /data
USER 65532:65532
WORKDIR /home/nonroot
EXPOSE 3010 4000
ENV PATH=/usr/local/bin:/usr/bin:/bin
CMD ["server"]
