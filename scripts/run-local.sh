#!/usr/bin/env bash
# make run: the stand-in tenant (127.0.0.1:4000) and the API (:3010) on this machine, in the foreground.
# Ctrl-C stops both. Needs bin/client and bin/server (make build). Override with TENANT_ADDR, PORT, BIN:
#   make run PORT=3011 TENANT_ADDR=127.0.0.1:4001
# The banner is printed only when both processes started here are alive and the API answers /readyz: both ports
# must be free before the start (another `make run` or the compose stack would otherwise answer for them).
set -euo pipefail
cd "$(dirname "$0")/.."

BIN="${BIN:-bin}"
TENANT_ADDR="${TENANT_ADDR:-127.0.0.1:4000}"
TENANT_URL="http://${TENANT_ADDR/#0.0.0.0/localhost}/"
TENANT_URL="${TENANT_URL/127.0.0.1/localhost}"
PORT="${PORT:-3010}"
AUDIENCE="${AUTH0_AUDIENCE:-https://quickstarts/api}"
KEY_FILE="${TENANT_KEY_FILE:-$BIN/tenant-keys.pem}"

for b in "$BIN/client" "$BIN/server"; do
  [ -x "$b" ] || { echo "run-local: $b is missing; run 'make build' first" >&2; exit 2; }
done

# in_use HOST PORT: something accepts TCP connections there.
in_use() { (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; }
tenant_host="${TENANT_ADDR%:*}"
tenant_port="${TENANT_ADDR##*:}"
[ "$tenant_host" = 0.0.0.0 ] || [ -z "$tenant_host" ] && tenant_host=127.0.0.1
busy=()
in_use "$tenant_host" "$tenant_port" && busy+=("tenant $TENANT_ADDR (TENANT_ADDR)")
in_use 127.0.0.1 "$PORT" && busy+=("API port $PORT (PORT)")
if [ ${#busy[@]} -gt 0 ]; then
  {
    echo "run-local: already in use: ${busy[*]}."
    echo "  Another 'make run', or the compose stack (docker compose down), is listening there. Stop it, or pick"
    echo "  other ports: make run PORT=3011 TENANT_ADDR=127.0.0.1:4001"
  } >&2
  exit 2
fi

pids=()
stop() {
  trap - INT TERM EXIT
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap 'stop' EXIT
trap 'echo; echo "run-local: stopping"; exit 0' INT TERM

"$BIN/client" tenant --addr "$TENANT_ADDR" --issuer "$TENANT_URL" --key-file "$KEY_FILE" &
tenant_pid=$!
pids+=("$tenant_pid")

# The API loads the key set in the background and answers 503 until it has; no need to wait for the tenant.
# env -u: the local stand-in is meant here even when the shell (or .env) points at a real tenant. RESOURCE_URL: the
# RFC 9728 metadata names the URL clients reach the API at (the audience https://quickstarts/api is not one).
env -u AUTH0_DOMAIN PORT="$PORT" ISSUER_URL="$TENANT_URL" ALLOW_INSECURE_ISSUER=true AUTH0_AUDIENCE="$AUDIENCE" \
  RESOURCE_URL="${RESOURCE_URL:-http://localhost:$PORT}" "$BIN/server" &
server_pid=$!
pids+=("$server_pid")

# alive: both processes started above still run (a failed bind, a bad setting: they exit at once).
alive() {
  kill -0 "$tenant_pid" 2>/dev/null || { echo "run-local: the tenant exited (its error is above); nothing started" >&2; return 1; }
  kill -0 "$server_pid" 2>/dev/null || { echo "run-local: the API server exited (its error is above); nothing started" >&2; return 1; }
}
api="http://localhost:$PORT"
ready=0
for _ in $(seq 1 100); do
  alive || exit 1
  if [ "$(curl -s -o /dev/null -m 2 -w '%{http_code}' "$api/readyz" 2>/dev/null)" = 200 ]; then ready=1; break; fi
  sleep 0.2
done
# Once more after the first 200: a server that lost the race for its port exits just after another one answered.
sleep 0.3
alive || exit 1
if [ "$ready" != 1 ]; then
  echo "run-local: the API at $api/readyz is not ready after 20 s (is the tenant at $TENANT_URL answering?); still trying" >&2
fi

cat <<MSG

run-local: tenant $TENANT_URL   API $api   (Ctrl-C stops both)

  # a token for a client with read:messages (the tenant's built-in quickstart-read client)
  TOKEN=\$(curl -s -X POST ${TENANT_URL}oauth/token \\
    -d grant_type=client_credentials -d client_id=quickstart-read -d client_secret=read-secret \\
    -d audience=$AUDIENCE | sed -n 's/.*"access_token":"\\([^"]*\\)".*/\\1/p')
  curl -i $api/api/public
  curl -i $api/api/private                                   # 401
  curl -i -H "Authorization: Bearer \$TOKEN" $api/api/private-scoped   # 200

  # or with the client:
  export ISSUER_URL=$TENANT_URL AUTH0_AUDIENCE=$AUDIENCE API_URL=$api
  $BIN/client call /api/private --token "\$($BIN/client token --client-id quickstart-read --client-secret read-secret)"
  $BIN/client test

MSG

# Stop everything as soon as either process exits on its own.
wait -n "${pids[@]}"
rc=$?
echo "run-local: a process exited (status $rc); stopping the other" >&2
exit "$rc"
