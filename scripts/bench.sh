#!/usr/bin/env bash
# Benchmarks tokencheck: the Go benchmarks of pkg/auth and pkg/api, then an end-to-end load on loopback against
# bin/server with the stand-in tenant (bin/client tenant): the public route, the private route with one reused
# token (served from the verified-token cache) and with many distinct tokens (an RS256 verification each). It
# prints requests/s of each, the private/public ratios and the server's resident memory afterwards.
#
# Run by `make bench` after `make build`. Needs curl. Loopback only, bounded in time, and it always stops what it
# started. With 2 or more cores the server is pinned to CPU 0 and the load generator to CPU 1 (taskset), so they do
# not compete for one core; the figures still depend on whatever else the machine runs.
#
# Tuning (environment): BENCH_DURATION (5s per run), BENCH_WORKERS (32), BENCH_UNIQUE (10000 distinct tokens, each
# sent once, so that run ends after BENCH_UNIQUE requests or BENCH_DURATION, whichever comes first),
# BENCH_TIME (go test -benchtime, 1s), BENCH_SKIP_GO=1 skips the Go benchmarks.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

DURATION=${BENCH_DURATION:-5s}
WORKERS=${BENCH_WORKERS:-32}
UNIQUE=${BENCH_UNIQUE:-10000}
BENCHTIME=${BENCH_TIME:-1s}
AUDIENCE=https://quickstarts/api

die() { echo "bench: $*" >&2; exit 2; }

for bin in bin/server bin/client; do
  [[ -x $bin ]] || die "$bin is missing: run 'make build' first (or 'make bench', which builds)"
done
command -v curl >/dev/null || die "curl is needed to wait for the server to be ready"

# --- 1. Go benchmarks --------------------------------------------------------------------------------------------
if [[ ${BENCH_SKIP_GO:-0} != 1 ]]; then
  pkgs=()
  for p in ./pkg/auth ./pkg/api; do [[ -d $p ]] && pkgs+=("$p"); done
  if ((${#pkgs[@]})); then
    echo "== go test -bench . -benchmem ${pkgs[*]} (benchtime $BENCHTIME)"
    go test -run '^$' -bench . -benchmem -benchtime "$BENCHTIME" -timeout 10m "${pkgs[@]}"
  fi
fi

# --- 2. tenant and server on loopback ---------------------------------------------------------------------------
WORK=$(mktemp -d)
PIDS=()
LOAD_PID=
cleanup() {
  local pid
  [[ -n $LOAD_PID ]] && PIDS+=("$LOAD_PID")
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# free_port prints a loopback TCP port nothing listens on (a connect attempt is refused).
free_port() {
  local p i
  for i in $(seq 1 50); do
    p=$((20000 + RANDOM % 40000))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then echo "$p"; return 0; fi
  done
  die "no free loopback port found"
}

# wait_for URL WHAT LOG PID: poll until URL answers 200, for at most 20 s, giving up early if PID has exited.
wait_for() {
  local i
  for i in $(seq 1 200); do
    if curl -fsS -o /dev/null --max-time 1 "$1" 2>/dev/null; then return 0; fi
    if ! kill -0 "$4" 2>/dev/null; then
      cat "$WORK/$3.log" >&2 || true
      die "$2 exited before $1 answered (its output is above)"
    fi
    sleep 0.1
  done
  cat "$WORK/$3.log" >&2 || true
  die "$2 at $1 not ready after 20s (its output is above)"
}

SERVER_CPU=() LOAD_CPU=()
if (($(nproc) >= 2)) && command -v taskset >/dev/null; then
  SERVER_CPU=(taskset -c 0) LOAD_CPU=(taskset -c 1)
  echo "== pinning: server on CPU 0, load generator on CPU 1"
else
  echo "== $(nproc) core(s) or no taskset: server and load generator share the CPU; ratios still compare"
fi

TENANT_PORT=$(free_port)
TENANT=http://127.0.0.1:$TENANT_PORT/
# Run from an empty directory so neither binary picks up a developer's .env.
# The tenant is not pinned: it only works before the measured runs (minting), and may use every core for that.
(cd "$WORK" && exec "$ROOT/bin/client" tenant --addr "127.0.0.1:$TENANT_PORT" --issuer "$TENANT") \
  >"$WORK/tenant.log" 2>&1 &
TENANT_PID=$!
PIDS+=("$TENANT_PID")
wait_for "${TENANT}.well-known/openid-configuration" "the stand-in tenant" tenant "$TENANT_PID"

SERVER_PORT=$(free_port)
API=http://127.0.0.1:$SERVER_PORT
(cd "$WORK" && exec env ISSUER_URL="$TENANT" ALLOW_INSECURE_ISSUER=true AUTH0_AUDIENCE="$AUDIENCE" \
  PORT="$SERVER_PORT" "${SERVER_CPU[@]}" "$ROOT/bin/server") >"$WORK/server.log" 2>&1 &
SERVER_PID=$!
PIDS+=("$SERVER_PID")
wait_for "$API/readyz" "the server" server "$SERVER_PID"
echo "== tenant $TENANT, server $API (pid $SERVER_PID), $DURATION per run, rate 0, $WORKERS workers"

# --- 3. load runs ------------------------------------------------------------------------------------------------
# json_num FILE KEY prints the first numeric value of "KEY" in the indented JSON report.
json_num() { sed -n "s/.*\"$2\": \([-0-9.e+]*\).*/\1/p" "$1" | head -n 1; }

# server_cpu_ticks prints the server's user+system CPU time so far, in clock ticks (/proc/PID/stat fields 14, 15).
server_cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$SERVER_PID/stat"; }
CLK_TCK=$(getconf CLK_TCK)

# load NAME ARGS...: one run; its JSON report goes to $WORK/NAME.json, the server CPU ticks it cost to
# $WORK/NAME.cpu, progress to the terminal.
load() {
  local name=$1; shift
  echo "== load $name"
  local code=0 before
  # Minting (--unique-tokens) happens inside the client before its load starts, so this includes no server work
  # but the JWKS fetches, which are negligible.
  before=$(server_cpu_ticks)
  # Only this tenant and audience: a developer's AUTH0_* variables must not redirect the token requests.
  # In the background with wait, so a signal to this script is handled at once rather than after the run.
  env -u AUTH0_DOMAIN -u AUTH0_CLIENT_ID -u AUTH0_CLIENT_SECRET -u API_URL ISSUER_URL="$TENANT" \
    AUTH0_AUDIENCE="$AUDIENCE" timeout 600 "${LOAD_CPU[@]}" "$ROOT/bin/client" load --api "$API" \
    --rate 0 --workers "$WORKERS" --duration "$DURATION" --format json "$@" >"$WORK/$name.json" &
  LOAD_PID=$!
  wait "$LOAD_PID" || code=$?
  LOAD_PID=
  echo $(($(server_cpu_ticks) - before)) >"$WORK/$name.cpu"
  if ((code != 0)); then
    cat "$WORK/$name.json" >&2 || true
    die "load $name exited $code"
  fi
  local ratio
  ratio=$(json_num "$WORK/$name.json" success_ratio)
  if [[ $ratio != 1 ]]; then
    echo "bench: warning: load $name success ratio $ratio (status codes follow)" >&2
    sed -n '/"status_codes"/,/}/p' "$WORK/$name.json" >&2
  fi
}

load public --path /api/public --no-token
load private-reused --path /api/private
# Each token exactly once (--requests), so every request is a cache miss and costs an RS256 verification; a second
# pass over the pool would be served from the server's verified-token cache and flatter the figure.
load private-unique --path /api/private --unique-tokens "$UNIQUE" --requests "$UNIQUE"

# --- 4. results --------------------------------------------------------------------------------------------------
RSS=$(awk '/^VmRSS:/ {print $2, $3}' "/proc/$SERVER_PID/status" 2>/dev/null || true)
pub=$(json_num "$WORK/public.json" requests_per_second)
echo
# server us/req is the server's CPU time per request: unlike requests/s it does not depend on the load generator
# keeping up, nor much on what else the machine runs.
printf '%-16s %9s %12s %9s %9s %9s %10s %14s\n' run requests "requests/s" "p50 ms" "p99 ms" "success" "vs public" \
  "server us/req"
for name in public private-reused private-unique; do
  f=$WORK/$name.json
  rps=$(json_num "$f" requests_per_second)
  awk -v n="$name" -v q="$(json_num "$f" requests)" -v r="$rps" -v p="$pub" -v p50="$(json_num "$f" p50)" \
    -v p99="$(json_num "$f" p99)" -v s="$(json_num "$f" success_ratio)" -v t="$(cat "$WORK/$name.cpu")" -v hz="$CLK_TCK" \
    'BEGIN { printf "%-16s %9d %12.0f %9.2f %9.2f %8.1f%% %9.2fx %14.1f\n", n, q, r, p50, p99, 100*s, (p > 0 ? r/p : 0),
             (q > 0 ? t * 1e6 / hz / q : 0) }'
done
echo
echo "server resident memory after the runs (VmRSS): ${RSS:-unknown}"
