#!/usr/bin/env bash
# End-to-end check of the docker compose stack (make e2e):
#   1. stack      tenant + api + tester; the tester's exit code must be 0
#   2. host trap  tenant + api up; from the host, a token fetched from localhost:4000 (iss http://tenant:4000/)
#                 must work against localhost:3010: private 200, private-scoped 200, no-scope client 403
#   3. broken     the same tester against test/brokenapi (docker-compose.broken.yml) must FAIL with exit 1
# Uses its own compose project (tokencheck-e2e) and always tears it down. Exits non-zero if any step fails.
#
# Environment: GO_IMAGE/RUNTIME_IMAGE (base images; .ci/base-images.sh makes local ones), TENANT_PORT/API_PORT
# (host ports, default 4000/3010), E2E_TIMEOUT (seconds per compose run, default 600), E2E_BUILD_TIMEOUT
# (default 1800), COMPOSE (the compose command, default: docker compose if present, else docker-compose).
set -uo pipefail
cd "$(dirname "$0")/.."

PROJECT=tokencheck-e2e
TENANT_PORT="${TENANT_PORT:-4000}"
API_PORT="${API_PORT:-3010}"
E2E_TIMEOUT="${E2E_TIMEOUT:-600}"
E2E_BUILD_TIMEOUT="${E2E_BUILD_TIMEOUT:-1800}"
AUDIENCE=https://quickstarts/api
export TENANT_PORT API_PORT

log() { echo "e2e: $*"; }
failures=()
passed=0
pass() { log "PASS $*"; passed=$((passed + 1)); }
fail() { log "FAIL $*"; failures+=("$*"); }

if [ -z "${COMPOSE:-}" ]; then
  if docker compose version >/dev/null 2>&1; then
    COMPOSE="docker compose"
  elif command -v docker-compose >/dev/null; then
    COMPOSE=docker-compose
  else
    log "FAIL neither 'docker compose' nor 'docker-compose' is installed"; exit 1
  fi
fi
docker info >/dev/null 2>&1 || { log "FAIL the Docker daemon is not reachable (docker info); start dockerd"; exit 1; }
command -v curl >/dev/null || { log "FAIL curl is needed for the host trap check"; exit 1; }
# Without buildx the docker CLI cannot use BuildKit; make the classic builder explicit rather than fail.
if ! docker buildx version >/dev/null 2>&1; then export DOCKER_BUILDKIT=0 COMPOSE_DOCKER_CLI_BUILD=0; fi
# A user's .env or shell may point the stack at a real tenant or tune the API; the e2e run always uses the
# stand-in with the contract's defaults: an empty --env-file instead of .env, and a clean environment.
export ISSUER_URL=http://tenant:4000/ AUTH0_AUDIENCE="$AUDIENCE" ALLOW_INSECURE_ISSUER=true
unset AUTH0_DOMAIN AUTH0_CLIENT_ID AUTH0_CLIENT_SECRET JWKS_URL REQUIRED_SCOPE CORS_ALLOWED_ORIGINS CLOCK_SKEW \
  JWKS_REFRESH_INTERVAL TOKEN_CACHE_SIZE TOKENCHECK_IMAGE TOKENCHECK_BROKEN_IMAGE
env_file="$(mktemp)"

# shellcheck disable=SC2206 # COMPOSE is a command with arguments
base=($COMPOSE --env-file "$env_file" -p "$PROJECT" -f docker-compose.yml)
broken=("${base[@]}" -f docker-compose.broken.yml)
log "using: ${base[*]}"

teardown() { timeout 120 "${broken[@]}" down -v --remove-orphans >/dev/null 2>&1 || true; }
trap 'teardown; rm -f "$env_file"' EXIT
trap 'log "interrupted"; exit 130' INT TERM
teardown # a previous run killed hard may have left the project behind

# summary ends with the plain closing line CI systems read: "e2e: N passed, N failed".
summary() {
  if [ "${#failures[@]}" -eq 0 ]; then
    log "PASS all checks"
  else
    log "FAIL ${#failures[@]} check(s): ${failures[*]}"
  fi
  echo "e2e: $passed passed, ${#failures[@]} failed"
  [ "${#failures[@]}" -eq 0 ]
  exit
}

log "building images (base: ${GO_IMAGE:-golang:1.26-bookworm}, ${RUNTIME_IMAGE:-gcr.io/distroless/static-debian12:nonroot})"
if ! timeout "$E2E_BUILD_TIMEOUT" "${base[@]}" build api || ! timeout "$E2E_BUILD_TIMEOUT" "${broken[@]}" build api; then
  fail "build: docker compose build failed (see above)"
  summary
fi
pass "build"

# 1. The whole stack: the tester's exit code is the result.
log "stack: up --exit-code-from tester"
timeout "$E2E_TIMEOUT" "${base[@]}" up --no-build --exit-code-from tester
rc=$?
if [ "$rc" -eq 0 ]; then pass "stack: tester exited 0"; else fail "stack: tester exited $rc (124 = timed out)"; fi
teardown

# 2. The host-versus-container issuer trap.
# wait_ready URL SECONDS polls URL until it answers 200.
wait_ready() {
  local deadline=$((SECONDS + $2))
  until [ "$(curl -s -o /dev/null -m 3 -w '%{http_code}' "$1")" = 200 ]; do
    [ "$SECONDS" -lt "$deadline" ] || return 1
    sleep 1
  done
}
# token CLIENT SECRET prints an access token from the tenant, through the host's published port.
token() {
  curl -sS -m 10 -X POST "http://localhost:$TENANT_PORT/oauth/token" \
    --data-urlencode grant_type=client_credentials --data-urlencode "client_id=$1" \
    --data-urlencode "client_secret=$2" --data-urlencode "audience=$AUDIENCE" |
    sed -n 's/.*"access_token" *: *"\([^"]*\)".*/\1/p'
}
# expect NAME PATH TOKEN CODE calls the API from the host and checks the status code.
expect() {
  local got
  got="$(curl -s -o /dev/null -m 10 -w '%{http_code}' -H "Authorization: Bearer $3" "http://localhost:$API_PORT$2")"
  if [ "$got" = "$4" ]; then pass "host trap: $1 GET $2 = $got"; else fail "host trap: $1 GET $2 = $got, want $4"; fi
}
log "host trap: up -d tenant api"
if ! timeout "$E2E_TIMEOUT" "${base[@]}" up -d --no-build tenant api; then
  fail "host trap: could not start tenant and api"
elif ! wait_ready "http://localhost:$API_PORT/readyz" 120; then
  fail "host trap: API not ready on localhost:$API_PORT/readyz within 120s"
  "${base[@]}" logs --tail 50 tenant api
else
  read_tok="$(token quickstart-read read-secret)"
  noscope_tok="$(token quickstart-noscope noscope-secret)"
  if [ -z "$read_tok" ] || [ -z "$noscope_tok" ]; then
    fail "host trap: no token from POST http://localhost:$TENANT_PORT/oauth/token"
  else
    expect quickstart-read /api/private "$read_tok" 200
    expect quickstart-read /api/private-scoped "$read_tok" 200
    expect quickstart-noscope /api/private-scoped "$noscope_tok" 403
    expect "no token" /api/private "" 401
  fi
fi
teardown

# 3. The broken API: the tester must notice (exit 1: checks ran and some failed; 2 would mean it could not run).
log "broken: up --exit-code-from tester with docker-compose.broken.yml (the tester must FAIL)"
# The tester's closing line is reworded here: its failures are this check passing, and a CI reading summary lines
# must not take "N failed" from the broken API for failed tests of this project.
timeout "$E2E_TIMEOUT" "${broken[@]}" up --no-build --exit-code-from tester 2>&1 |
  sed -E 's/([0-9]+) passed, ([0-9]+) failed, ([0-9]+) skipped/broken API caught by \2 cases (\1 cases it still passes, \3 skipped)/'
rc=${PIPESTATUS[0]}
if [ "$rc" -eq 1 ]; then
  pass "broken: tester exited 1 against the broken API, as it must"
else
  fail "broken: tester exited $rc against the broken API, want 1 (0 = forged tokens went unnoticed)"
fi
teardown

summary
