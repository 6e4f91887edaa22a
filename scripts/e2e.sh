#!/usr/bin/env bash
# End-to-end check of the docker compose stack (make e2e):
#   1. stack      what a newcomer runs (`up tester what-next`): the tester's exit code must be 0, what-next must
#                 print its block, and `up` must return with the tenant, the API and the web app still up
#   2. host trap  tenant + api up; from the host, a token fetched from localhost:4000 (iss http://tenant:4000/)
#                 must work against localhost:3010: private 200, private-scoped 200, no-scope client 403
#   3. browser    tenant + api + app up; the web app driven in headless Chromium from the host
#                 (internal/browsertest with E2E_APP_URL=http://localhost:3000): alice logs in through the
#                 tenant's page, public/private/scoped 200, private without token 401, logout, bob scoped 403
#   4. broken     the same tester against test/brokenapi (docker-compose.broken.yml) must FAIL with exit 1
# Uses its own compose project (tokencheck-e2e) and always tears it down. Exits non-zero if any step fails.
#
# Environment: E2E_COMPOSE=v2|v1 (compose v2, `docker compose`, or docker-compose 1.29; default v2 when the plugin
# is installed, else v1), COMPOSE (the compose command itself, overriding E2E_COMPOSE), GO_IMAGE/RUNTIME_IMAGE
# (base images; .ci/base-images.sh makes local ones), TENANT_PORT/API_PORT (host ports, default 4000/3010),
# E2E_TIMEOUT (seconds per compose run, default 600), E2E_BUILD_TIMEOUT (default 1800), E2E_BUILD=0 (use the
# images already built, e.g. by the previous run with the other compose version), E2E_BROWSER=0 (leave out the
# browser check, e.g. on a machine without Chromium; it is then not counted), CHROMIUM_PATH and ARTIFACTS_DIR
# (the browser test's binary and where it saves its screenshot). The app's host port stays 3000: the stand-in
# tenant's spa client and the API's default CORS origin name http://localhost:3000.
set -uo pipefail
cd "$(dirname "$0")/.."

PROJECT=tokencheck-e2e
TENANT_PORT="${TENANT_PORT:-4000}"
API_PORT="${API_PORT:-3010}"
APP_URL=http://localhost:3000
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
  case "${E2E_COMPOSE:-}" in
    v2) docker compose version >/dev/null 2>&1 ||
          { log "FAIL E2E_COMPOSE=v2 but 'docker compose' (the v2 plugin) is not installed; .ci/compose-v2.sh installs it"; exit 1; }
        COMPOSE="docker compose" ;;
    v1) command -v docker-compose >/dev/null || { log "FAIL E2E_COMPOSE=v1 but docker-compose is not installed"; exit 1; }
        COMPOSE=docker-compose ;;
    "") if docker compose version >/dev/null 2>&1; then
          COMPOSE="docker compose"
        elif command -v docker-compose >/dev/null; then
          COMPOSE=docker-compose
        else
          log "FAIL neither 'docker compose' nor 'docker-compose' is installed"; exit 1
        fi ;;
    *) log "FAIL E2E_COMPOSE=${E2E_COMPOSE}: want v2 or v1"; exit 1 ;;
  esac
fi
docker info >/dev/null 2>&1 || { log "FAIL the Docker daemon is not reachable (docker info); start dockerd"; exit 1; }
command -v curl >/dev/null || { log "FAIL curl is needed for the host trap check"; exit 1; }
# Without buildx the docker CLI cannot use BuildKit; make the classic builder explicit rather than fail.
if ! docker buildx version >/dev/null 2>&1; then export DOCKER_BUILDKIT=0 COMPOSE_DOCKER_CLI_BUILD=0; fi
# A user's .env or shell may point the stack at a real tenant or tune the API; the e2e run always uses the
# stand-in with the contract's defaults: an empty --env-file instead of .env, and a clean environment.
export ISSUER_URL=http://tenant:4000/ AUTH0_AUDIENCE="$AUDIENCE" ALLOW_INSECURE_ISSUER=true
unset AUTH0_DOMAIN AUTH0_CLIENT_ID AUTH0_CLIENT_SECRET JWKS_URL REQUIRED_SCOPE CORS_ALLOWED_ORIGINS CLOCK_SKEW \
  JWKS_REFRESH_INTERVAL TOKEN_CACHE_SIZE TOKENCHECK_IMAGE TOKENCHECK_BROKEN_IMAGE \
  APP_API_URL APP_ISSUER_URL APP_CLIENT_ID APP_AUDIENCE APP_SCOPE APP_PORT APP_BIND
env_file="$(mktemp)"

# shellcheck disable=SC2206 # COMPOSE is a command with arguments
base=($COMPOSE --env-file "$env_file" -p "$PROJECT" -f docker-compose.yml)
broken=("${base[@]}" -f docker-compose.broken.yml)
# shellcheck disable=SC2086 # COMPOSE is a command with arguments
compose_version="$($COMPOSE version --short 2>/dev/null || $COMPOSE version 2>/dev/null | head -n 1)"
log "compose: $COMPOSE, version ${compose_version:-unknown}"
log "using: ${base[*]}"

teardown() { timeout 120 "${broken[@]}" down -v --remove-orphans >/dev/null 2>&1 || true; }
stack_log="$(mktemp)"
trap 'teardown; rm -f "$env_file" "$stack_log"' EXIT
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

if [ "${E2E_BUILD:-1}" = 0 ]; then
  log "E2E_BUILD=0: using the images already built"
  for image in tokencheck:local tokencheck-brokenapi:local; do
    docker image inspect "$image" >/dev/null 2>&1 || { fail "build: E2E_BUILD=0 but there is no image $image"; summary; }
  done
else
  log "building images (base: ${GO_IMAGE:-golang:1.26-bookworm}, ${RUNTIME_IMAGE:-gcr.io/distroless/static-debian12:nonroot})"
  if ! timeout "$E2E_BUILD_TIMEOUT" "${base[@]}" build api || ! timeout "$E2E_BUILD_TIMEOUT" "${broken[@]}" build api; then
    fail "build: docker compose build failed (see above)"
    summary
  fi
  pass "build"
fi

# 1. The whole stack as README tells a newcomer to start it: `up tester what-next` attaches to those two, starts
# the tenant and the API as their dependencies and returns once what-next has printed, leaving those two up.
log "stack: up tester what-next"
timeout "$E2E_TIMEOUT" "${base[@]}" up --no-build tester what-next 2>&1 | tee "$stack_log"
rc=${PIPESTATUS[0]}
tester_id="$("${base[@]}" ps -a -q tester 2>/dev/null | head -n 1)"
tester_rc="$(docker inspect -f '{{.State.ExitCode}}' "$tester_id" 2>/dev/null || echo none)"
if [ "$rc" -ne 0 ]; then fail "stack: up exited $rc (124 = timed out)"; fi
if [ "$tester_rc" = 0 ]; then pass "stack: tester exited 0"; else fail "stack: tester exited $tester_rc"; fi
if grep -q 'docker compose down -v' "$stack_log" && grep -q 'What next' "$stack_log"; then
  pass "stack: what-next printed its block"
else
  fail "stack: no what-next block in the output"
fi
if [ "$rc" -eq 0 ] && [ "$(curl -s -o /dev/null -m 5 -w '%{http_code}' "http://localhost:$API_PORT/readyz")" = 200 ]; then
  pass "stack: the API is still up on localhost:$API_PORT after up returned"
else
  fail "stack: the API is not up on localhost:$API_PORT after up returned"
fi
if [ "$rc" -eq 0 ] && [ "$(curl -s -o /dev/null -m 5 -w '%{http_code}' "$APP_URL/")" = 200 ]; then
  pass "stack: the web app is up on $APP_URL after up returned"
else
  fail "stack: the web app is not up on $APP_URL after up returned"
fi
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

# 3. The web app in a real browser, from the host as a user opens it. The Go test fails (rather than skips) when
# no Chromium is found, so a missing browser cannot pass for a working page.
if [ "${E2E_BROWSER:-1}" = 0 ]; then
  log "browser: E2E_BROWSER=0, not run"
else
  log "browser: up -d tenant api app"
  # The app talks to the tenant and the API through the host ports, as the browser does.
  export APP_API_URL="http://localhost:$API_PORT" APP_ISSUER_URL="http://localhost:$TENANT_PORT/"
  if ! command -v go >/dev/null; then
    fail "browser: go is needed to run internal/browsertest"
  elif ! timeout "$E2E_TIMEOUT" "${base[@]}" up -d --no-build tenant api app; then
    fail "browser: could not start tenant, api and app"
  elif ! wait_ready "http://localhost:$API_PORT/readyz" 120 || ! wait_ready "$APP_URL/" 120; then
    fail "browser: the API ($API_PORT/readyz) or the app ($APP_URL/) not ready within 120s"
    "${base[@]}" logs --tail 50 tenant api app
  else
    browser_log="$(mktemp)"
    E2E_APP_URL="$APP_URL" TOKENCHECK_REQUIRE_BROWSER=1 timeout 300 \
      go test -count=1 -v -run '^TestBrowserFlow$' ./internal/browsertest >"$browser_log" 2>&1
    rc=$?
    sed 's/^/  | /' "$browser_log"
    if [ "$rc" -eq 0 ] && grep -q -- '--- PASS: TestBrowserFlow' "$browser_log"; then
      pass "browser: $(sed -n 's/^browsertest: browser //p' "$browser_log" | head -n 1): login, calls 200/200/200/401, logout, bob 403"
    else
      fail "browser: internal/browsertest against $APP_URL exited $rc (see above)"
      "${base[@]}" logs --tail 30 tenant app
    fi
    rm -f "$browser_log"
  fi
  unset APP_API_URL APP_ISSUER_URL
fi
teardown

# 4. The broken API: the tester must notice (exit 1: checks ran and some failed; 2 would mean it could not run).
log "broken: up --exit-code-from tester with docker-compose.broken.yml (the tester must FAIL)"
# The tester's closing line is reworded here: its failures are this check passing, and a CI reading summary lines
# must not take "N failed" from the broken API for failed tests of this project.
# Only the tester (and its dependencies): what-next waits for a tester that passes, which this one must not.
timeout "$E2E_TIMEOUT" "${broken[@]}" up --no-build --exit-code-from tester tester 2>&1 |
  sed -E 's/([0-9]+) passed, ([0-9]+) failed, ([0-9]+) skipped/broken API caught by \2 cases (\1 cases it still passes, \3 skipped)/'
rc=${PIPESTATUS[0]}
if [ "$rc" -eq 1 ]; then
  pass "broken: tester exited 1 against the broken API, as it must"
else
  fail "broken: tester exited $rc against the broken API, want 1 (0 = forged tokens went unnoticed)"
fi
teardown

summary
