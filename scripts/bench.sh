#!/usr/bin/env bash
# Benchmarks tokencheck: the Go benchmarks of pkg/auth and pkg/api, then an end-to-end load with wrk on loopback.
#
# It builds and starts a bare Gin baseline (internal/benchbase: gin.New(), release mode, one GET /api/public
# answering the same body, no middleware, pkg/apiserver's http.Server timeouts), bin/server and the stand-in
# tenant (bin/client tenant), mints BENCH_UNIQUE (10 000) distinct tokens per round from the tenant's /dev/mint, and
# runs wrk (one thread, BENCH_CONNECTIONS connections), BENCH_ROUNDS times in turn, for:
#
#   bare             the baseline's /api/public
#   public           the server's /api/public
#   public-authz     /api/public carrying that same Authorization header, which the route ignores: what net/http
#                    alone pays to read and validate the header (not a target; it bounds reused/public from above)
#   private-reused   /api/private with one token (wrk -H), served from the verified-token cache
#   private-unique   /api/private, each of the round's 10 000 tokens sent exactly once (scripts/wrk/tokens.lua):
#                    every request is a cache miss and a full RS256 verification. The run ends when the 10 000th
#                    answer arrives and is timed from the first request to that answer; the at most
#                    BENCH_CONNECTIONS requests still in flight then reuse the first tokens and are not counted.
#
# and then once
#
#   memory           a fresh server (same settings and CPU), /api/private cycling through the first round's
#                    10 000 tokens until BENCH_MIN_REQUESTS (100 000) answers, so it has served that many requests
#                    with exactly 10 000 distinct tokens; then its VmRSS is read from /proc/PID/status. The RSS of
#                    the server of the rounds (30 000 distinct tokens by then, a full verified-token cache) is
#                    printed beside it, for information.
#
# It prints every run's requests/s, latency, and the server's CPU time per request (utime+stime from
# /proc/PID/stat over the run, divided by the requests), the ratios of each round (runs seconds apart, so under
# about the same machine load) and their medians against the targets, with pass/fail: public >= 0.75x bare,
# private-reused >= 0.90x public, private-unique >= 0.40x public, RSS < 64 MiB. Below them it prints two floors,
# costs outside the server's code that bound the ratios whatever the server does: public/public-authz (the most
# reused/public can be) and public / (public-authz + one RS256 verification, timed by BenchmarkRSAVerify on the
# servers' CPU), the most unique/public can be.
#
# Servers are pinned to CPU 0 and wrk to CPU 1 (taskset) when there are 2 or more cores; the tenant is not pinned
# (it only mints before the measured runs). Loopback only, bounded in time (timeouts on every step), and it stops
# everything it started on exit or on a signal. Needs curl and wrk; when wrk is missing and this runs as root on a
# Debian-like system it installs it (apt-get update, apt-get install -y wrk), otherwise it says how to.
#
# Tuning (environment): BENCH_DURATION (wrk -d of the fixed-duration runs, 3s), BENCH_ROUNDS (3),
# BENCH_CONNECTIONS (wrk -c, 32), BENCH_UNIQUE (distinct tokens per round, 10000), BENCH_MIN_REQUESTS (memory run,
# 100000), BENCH_TIME (go test -benchtime, 1s), BENCH_SKIP_GO=1 skips the Go benchmarks, BENCH_PROFILE=DIR starts
# the server with PPROF_ADDR on loopback and saves a CPU profile of each server run into DIR (the figures then
# include the profiler's own overhead), BENCH_SERVER=PATH measures another server binary (e.g. one built from an
# older commit) in place of bin/server.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

DURATION=${BENCH_DURATION:-3s}
ROUNDS=${BENCH_ROUNDS:-3}
CONNS=${BENCH_CONNECTIONS:-32}
UNIQUE=${BENCH_UNIQUE:-10000}
MIN_REQUESTS=${BENCH_MIN_REQUESTS:-100000}
BENCHTIME=${BENCH_TIME:-1s}
PROFILE_DIR=${BENCH_PROFILE:-}
SERVER_BIN=${BENCH_SERVER:-$ROOT/bin/server}
AUDIENCE=https://quickstarts/api

die() { echo "bench: $*" >&2; exit 2; }

for bin in bin/server bin/client; do
  [[ -x $bin ]] || die "$bin is missing: run 'make build' first (or 'make bench', which builds)"
done
command -v curl >/dev/null || die "curl is needed (to wait for the servers and to mint tokens)"
command -v go >/dev/null || die "go is needed to build the baseline server (internal/benchbase)"
[[ $DURATION =~ ^[0-9]+[smh]?$ ]] || die "BENCH_DURATION=$DURATION: use wrk's form, e.g. 5s"
for v in CONNS UNIQUE MIN_REQUESTS ROUNDS; do
  [[ ${!v} =~ ^[1-9][0-9]*$ ]] || die "$v=${!v}: a positive integer is needed"
done

# --- 0. wrk ------------------------------------------------------------------------------------------------------
if ! command -v wrk >/dev/null; then
  if [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null; then
    echo "== wrk is missing: installing the Debian package (apt-get update; apt-get install -y wrk)"
    timeout 300 apt-get update -qq || die "apt-get update failed; install wrk yourself"
    DEBIAN_FRONTEND=noninteractive timeout 300 apt-get install -y -qq wrk >/dev/null ||
      die "apt-get install wrk failed; install wrk yourself"
  else
    die "wrk is not installed. Install it (Debian/Ubuntu: sudo apt-get install wrk; macOS: brew install wrk) and rerun; as root on Debian this script installs it itself"
  fi
fi

# --- 1. Go benchmarks --------------------------------------------------------------------------------------------
if [[ ${BENCH_SKIP_GO:-0} != 1 ]]; then
  echo "== go test -bench . -benchmem ./pkg/auth ./pkg/api ./pkg/dpop (benchtime $BENCHTIME; DPoP vs Bearer: BenchmarkAuthScheme; replay cache memory: BenchmarkReplayCacheMemory)"
  # In the background under timeout, so a signal stops go test and its test binaries (timeout's process group).
  timeout 900 go test -run '^$' -bench . -benchmem -benchtime "$BENCHTIME" -timeout 10m ./pkg/auth ./pkg/api ./pkg/dpop &
  GO_PID=$!
  trap 'kill "$GO_PID" 2>/dev/null; exit 130' INT TERM
  wait "$GO_PID"
  trap - INT TERM
fi

# --- 2. servers on loopback --------------------------------------------------------------------------------------
# In memory (tmpfs) when the machine has one: the servers' access logs run to hundreds of MB, and on a disk their
# writeback by kernel threads lands on the pinned CPUs and slows the later runs (measured: public fell ~8% a round).
if [[ -d /dev/shm && -w /dev/shm ]]; then WORK=$(mktemp -d -p /dev/shm); else WORK=$(mktemp -d); fi
PIDS=()
cleanup() {
  local pid
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

echo "== building the baseline (internal/benchbase)"
CGO_ENABLED=0 go build -trimpath -o "$WORK/benchbase" ./internal/benchbase
# The RS256 floor is timed by pkg/auth's BenchmarkRSAVerify, built once and run on the servers' CPU in each round.
go test -c -o "$WORK/auth.test" ./pkg/auth

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
  echo "== pinning: servers on CPU 0, wrk on CPU 1"
else
  echo "== $(nproc) core(s) or no taskset: servers and wrk share the CPU; ratios still compare"
fi

TENANT_PORT=$(free_port)
TENANT=http://127.0.0.1:$TENANT_PORT/
# Run from an empty directory so no binary picks up a developer's .env.
(cd "$WORK" && exec "$ROOT/bin/client" tenant --addr "127.0.0.1:$TENANT_PORT" --issuer "$TENANT") \
  >"$WORK/tenant.log" 2>&1 &
TENANT_PID=$!
PIDS+=("$TENANT_PID")

BASE_PORT=$(free_port)
BASE=http://127.0.0.1:$BASE_PORT
(cd "$WORK" && exec "${SERVER_CPU[@]}" "$WORK/benchbase" -addr "127.0.0.1:$BASE_PORT") >"$WORK/base.log" 2>&1 &
BASE_PID=$!
PIDS+=("$BASE_PID")

wait_for "${TENANT}.well-known/openid-configuration" "the stand-in tenant" tenant "$TENANT_PID"

PPROF_ENV=()
if [[ -n $PROFILE_DIR ]]; then
  mkdir -p "$PROFILE_DIR"
  PPROF_PORT=$(free_port)
  PPROF_ENV=(PPROF_ADDR="127.0.0.1:$PPROF_PORT")
fi
SERVER_PORT=$(free_port)
API=http://127.0.0.1:$SERVER_PORT
# start_server PORT LOG [ENV...]: the server under test on PORT; its pid in STARTED_PID. The access log (one JSON
# line per request) goes to LOG, as a deployment's would go to a collector.
start_server() {
  local port=$1 log=$2; shift 2
  (cd "$WORK" && exec env ISSUER_URL="$TENANT" ALLOW_INSECURE_ISSUER=true AUTH0_AUDIENCE="$AUDIENCE" \
    PORT="$port" "$@" "${SERVER_CPU[@]}" "$SERVER_BIN") >"$log" 2>&1 &
  STARTED_PID=$!
  PIDS+=("$STARTED_PID")
}
start_server "$SERVER_PORT" "$WORK/server.log" "${PPROF_ENV[@]}"
SERVER_PID=$STARTED_PID
wait_for "$API/readyz" "the server" server "$SERVER_PID"
wait_for "$BASE/api/public" "the baseline" base "$BASE_PID"

# --- 3. tokens ---------------------------------------------------------------------------------------------------
# One curl, 8 requests in parallel over reused connections, one answer a line; the tenant signs each (RS256).
mint() {
  local n=$1 out=$2 i
  {
    echo 'request = "POST"'
    echo 'header = "Content-Type: application/json"'
    echo "data = \"{\\\"claims\\\":{\\\"aud\\\":\\\"$AUDIENCE\\\"}}\""
    echo 'write-out = "\n"'
    for ((i = 0; i < n; i++)); do echo "url = \"${TENANT}dev/mint\""; done
  } >"$WORK/mint.curl"
  # In the background with wait, so a signal to this script is handled at once, not after the minting; killing
  # timeout stops curl too (timeout signals its whole process group).
  timeout 300 curl --no-progress-meter --fail-with-body --parallel --parallel-max 8 -K "$WORK/mint.curl" \
    >"$WORK/mint.raw" 2>"$WORK/mint.err" &
  PIDS+=($!)
  wait $! || true
  sed -n 's/.*"access_token":"\([^"]*\)".*/\1/p' "$WORK/mint.raw" >"$out"
  local got distinct
  got=$(wc -l <"$out")
  distinct=$(sort -u "$out" | wc -l)
  ((got == n && distinct == n)) || { cat "$WORK/mint.err" >&2; die "minted $got tokens, $distinct distinct, wanted $n"; }
}
echo "== minting $((UNIQUE * ROUNDS)) distinct tokens from the stand-in tenant ($UNIQUE for each round)"
mint "$((UNIQUE * ROUNDS))" "$WORK/tokens.all"
for ((r = 1; r <= ROUNDS; r++)); do
  sed -n "$(((r - 1) * UNIQUE + 1)),$((r * UNIQUE))p" "$WORK/tokens.all" >"$WORK/tokens.$r"
done
mint 1 "$WORK/token.txt"
TOKEN=$(cat "$WORK/token.txt")
echo "== tenant $TENANT, baseline $BASE (pid $BASE_PID), server $SERVER_BIN at $API (pid $SERVER_PID); wrk -t1 -c$CONNS"

# --- 4. load runs ------------------------------------------------------------------------------------------------
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
CLK_TCK=$(getconf CLK_TCK)
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
field() { sed -n "s/.*[ ]$2=\([^ ]*\).*/\1/p" "$1"; }

# run NAME PID PROFILE_SECONDS WRK_ARGS...: one wrk run against the server whose pid is PID; wrk's summary line
# goes to $WORK/NAME.out, the server CPU ticks it cost to $WORK/NAME.cpu. Ends early when the token script creates
# $WORK/NAME.done (wrk stops on SIGINT and reports).
run() {
  local name=$1 pid=$2 psec=$3; shift 3
  echo "== $name"
  local before code=0 wpid ppid= watch=0
  [[ " $* " == *" -s scripts/wrk/tokens.lua "* ]] && watch=1 # only the token runs end on a .done file
  rm -f "$WORK/$name.done"
  if [[ -n $PROFILE_DIR && $pid == "$SERVER_PID" && $psec -gt 0 ]]; then
    curl -sS --max-time 120 -o "$PROFILE_DIR/$name.pprof" \
      "http://127.0.0.1:$PPROF_PORT/debug/pprof/profile?seconds=$psec" &
    ppid=$!
    sleep 0.2
  fi
  before=$(cpu_ticks "$pid")
  timeout 600 "${LOAD_CPU[@]}" wrk -t1 -c"$CONNS" --timeout 5s "$@" >"$WORK/$name.wrk" 2>&1 &
  wpid=$!
  # Polled without forking: an external sleep 20 times a second costs the pinned processes a quarter of their
  # throughput (measured: the baseline's 99k requests/s fell to 75k). read -t on a FIFO nobody writes is a
  # builtin wait.
  while [[ $watch == 1 ]] && kill -0 "$wpid" 2>/dev/null; do
    if [[ -e $WORK/$name.done ]]; then kill -INT "$wpid" 2>/dev/null || true; break; fi
    read -r -t 0.05 -u 9 || true
  done
  wait "$wpid" || code=$?
  echo $(($(cpu_ticks "$pid") - before)) >"$WORK/$name.cpu"
  [[ -n $ppid ]] && { wait "$ppid" || echo "bench: warning: no CPU profile for $name" >&2; }
  grep '^wrk-result' "$WORK/$name.wrk" >"$WORK/$name.out" || { cat "$WORK/$name.wrk" >&2; die "wrk $name exited $code without a result"; }
  local bad
  bad=$(($(field "$WORK/$name.out" errors) + $(field "$WORK/$name.out" non2xx_or_3xx)))
  if ((bad > 0)); then
    echo "bench: warning: $name had $bad failed requests (socket errors or status >= 400):" >&2
    cat "$WORK/$name.wrk" >&2
  fi
}

mkfifo "$WORK/tick" && exec 9<>"$WORK/tick" # the polling loop's timer (see run)

DUR_S=${DURATION%s}
[[ $DUR_S =~ ^[0-9]+$ ]] || DUR_S=5
# Rounds interleave the runs, so each ratio compares runs made seconds apart, under the same machine load.
for ((r = 1; r <= ROUNDS; r++)); do
  run "bare.$r" "$BASE_PID" 0 -d "$DURATION" --latency -s scripts/wrk/report.lua "$BASE/api/public"
  run "public.$r" "$SERVER_PID" "$DUR_S" -d "$DURATION" --latency -s scripts/wrk/report.lua "$API/api/public"
  run "public-authz.$r" "$SERVER_PID" "$DUR_S" -d "$DURATION" --latency -s scripts/wrk/report.lua \
    -H "Authorization: Bearer $TOKEN" "$API/api/public"
  run "private-reused.$r" "$SERVER_PID" "$DUR_S" -d "$DURATION" --latency -s scripts/wrk/report.lua \
    -H "Authorization: Bearer $TOKEN" "$API/api/private"
  run "private-unique.$r" "$SERVER_PID" 2 -d 120s --latency -s scripts/wrk/tokens.lua "$API" -- \
    "$WORK/tokens.$r" /api/private "$UNIQUE" "$WORK/private-unique.$r.done"
  echo "== rsa-verify.$r (BenchmarkRSAVerify)"
  (cd "$WORK" && timeout 120 "${SERVER_CPU[@]}" "$WORK/auth.test" -test.run '^$' -test.bench '^BenchmarkRSAVerify$' \
    -test.benchtime 1s) >"$WORK/rsa.$r.out" 2>&1 || { cat "$WORK/rsa.$r.out" >&2; die "BenchmarkRSAVerify failed"; }
  awk '/^BenchmarkRSAVerify/ { for (i = 1; i < NF; i++) if ($(i + 1) == "ns/op") printf "%.1f\n", $i / 1000 }' \
    "$WORK/rsa.$r.out" >"$WORK/rsa.$r"
  [[ -s $WORK/rsa.$r ]] || { cat "$WORK/rsa.$r.out" >&2; die "no ns/op in BenchmarkRSAVerify's output"; }
done
ROUNDS_RSS_KB=$(awk '/^VmRSS:/ { print $2 }' "/proc/$SERVER_PID/status")
MEM_PORT=$(free_port)
start_server "$MEM_PORT" "$WORK/server-memory.log"
MEM_PID=$STARTED_PID
wait_for "http://127.0.0.1:$MEM_PORT/readyz" "the memory run's server" server-memory "$MEM_PID"
run memory "$MEM_PID" 0 -d 300s --latency -s scripts/wrk/tokens.lua "http://127.0.0.1:$MEM_PORT" -- \
  "$WORK/tokens.1" /api/private "$MIN_REQUESTS" "$WORK/memory.done"
RSS_KB=$(awk '/^VmRSS:/ { print $2 }' "/proc/$MEM_PID/status")

# --- 5. results --------------------------------------------------------------------------------------------------
rps() { field "$WORK/$1.out" rps; }
cpu_us() { # server CPU microseconds per request of run $1
  awk -v t="$(cat "$WORK/$1.cpu")" -v q="$(field "$WORK/$1.out" requests)" -v hz="$CLK_TCK" \
    'BEGIN { printf "%.1f", (q > 0 ? t * 1e6 / hz / q : 0) }'
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }'; }
median() { sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else printf "%.2f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

echo
printf '%-18s %9s %8s %11s %8s %8s %8s %10s\n' run requests seconds "requests/s" "p50 ms" "p99 ms" failed "CPU us/req"
total=0
names=()
for ((r = 1; r <= ROUNDS; r++)); do names+=("bare.$r" "public.$r" "public-authz.$r" "private-reused.$r" "private-unique.$r"); done
names+=(memory)
for name in "${names[@]}"; do
  f=$WORK/$name.out
  q=$(field "$f" requests)
  [[ $name != bare.* && $name != memory ]] && total=$((total + q))
  printf '%-18s %9d %8.2f %11.0f %8.2f %8.2f %8d %10s\n' "$name" "$q" "$(field "$f" seconds)" "$(field "$f" rps)" \
    "$(field "$f" p50_ms)" "$(field "$f" p99_ms)" "$(($(field "$f" errors) + $(field "$f" non2xx_or_3xx)))" "$(cpu_us "$name")"
done
echo "(server requests in the rounds: $total, $((UNIQUE * ROUNDS)) distinct tokens among them, then VmRSS" \
  "$(awk -v k="$ROUNDS_RSS_KB" 'BEGIN { printf "%.1f", k / 1024 }') MiB; memory: a fresh server; servers on CPU" \
  "${SERVER_CPU[2]:-any}, wrk on CPU ${LOAD_CPU[2]:-any}; load average before/after: $LOAD_BEFORE / $(cut -d' ' -f1-3 /proc/loadavg))"

echo
printf '%-6s %14s %16s %16s   %s\n' round "public/bare" "reused/public" "unique/public" "(by server CPU per request: public/bare, reused/public, unique/public)"
for ((r = 1; r <= ROUNDS; r++)); do
  a=$(ratio "$(rps "public.$r")" "$(rps "bare.$r")")
  b=$(ratio "$(rps "private-reused.$r")" "$(rps "public.$r")")
  c=$(ratio "$(rps "private-unique.$r")" "$(rps "public.$r")")
  echo "$a" >>"$WORK/r1"; echo "$b" >>"$WORK/r2"; echo "$c" >>"$WORK/r3"
  printf '%-6s %13sx %15sx %15sx   (%sx, %sx, %sx)\n' "$r" "$a" "$b" "$c" \
    "$(ratio "$(cpu_us "bare.$r")" "$(cpu_us "public.$r")")" "$(ratio "$(cpu_us "public.$r")" "$(cpu_us "private-reused.$r")")" \
    "$(ratio "$(cpu_us "public.$r")" "$(cpu_us "private-unique.$r")")"
done
echo
verdict() { awk -v v="$1" -v t="$2" -v op="$3" 'BEGIN { ok = (op == ">=" ? v >= t : v < t); exit !ok }' && echo pass || echo FAIL; }
r1=$(median <"$WORK/r1") r2=$(median <"$WORK/r2") r3=$(median <"$WORK/r3")
rss=$(awk -v k="$RSS_KB" 'BEGIN { printf "%.1f", k / 1024 }')
printf '%-40s %9s  %-8s %s\n' "target (median of $ROUNDS rounds)" value goal result
printf '%-40s %9s  %-8s %s\n' "public / bare Gin" "${r1}x" ">= 0.75" "$(verdict "$r1" 0.75 '>=')"
printf '%-40s %9s  %-8s %s\n' "private reused token / public" "${r2}x" ">= 0.90" "$(verdict "$r2" 0.90 '>=')"
printf '%-40s %9s  %-8s %s\n' "private every token new / public" "${r3}x" ">= 0.40" "$(verdict "$r3" 0.40 '>=')"
printf '%-40s %9s  %-8s %s\n' "VmRSS, $(field "$WORK/memory.out" requests) requests, $UNIQUE tokens" "$rss MiB" "< 64" "$(verdict "$rss" 64 '<')"

# Floors: what net/http (reading the Authorization header) and crypto/rsa (one verification) cost whatever the
# server does, by server CPU per request; the ratios above cannot go past them.
echo
printf '%-6s %22s %28s   %s\n' round "public/public-authz" "public/(public-authz+RSA)" "(CPU us/req: public, public-authz, RS256 verify)"
for ((r = 1; r <= ROUNDS; r++)); do
  p=$(cpu_us "public.$r") h=$(cpu_us "public-authz.$r") v=$(cat "$WORK/rsa.$r")
  f1=$(ratio "$p" "$h") f2=$(ratio "$p" "$(awk -v a="$h" -v b="$v" 'BEGIN { print a + b }')")
  echo "$f1" >>"$WORK/f1"; echo "$f2" >>"$WORK/f2"
  printf '%-6s %21sx %27sx   (%s, %s, %s)\n' "$r" "$f1" "$f2" "$p" "$h" "$v"
done
printf '%-40s %9s   %s\n' "floor of reused/public (median)" "$(median <"$WORK/f1")x" "net/http reading a ${#TOKEN}-byte token's header"
printf '%-40s %9s   %s\n' "floor of unique/public (median)" "$(median <"$WORK/f2")x" "the header plus one RSA-2048 verification (crypto/rsa)"
if [[ -n $PROFILE_DIR ]]; then
  echo
  echo "CPU profiles in $PROFILE_DIR: go tool pprof -top bin/server $PROFILE_DIR/public.1.pprof"
fi
