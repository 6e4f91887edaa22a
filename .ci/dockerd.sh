#!/usr/bin/env bash
# Makes sure a Docker daemon answers: if `docker info` fails, starts dockerd in the background (logging to
# /tmp/dockerd.log) and waits for it, at most DOCKERD_WAIT seconds (default 60). Exits non-zero if it never comes up.
set -euo pipefail
wait_s="${DOCKERD_WAIT:-60}"
docker info >/dev/null 2>&1 && exit 0
command -v dockerd >/dev/null || { echo "dockerd: not installed (apt-get install docker.io)" >&2; exit 1; }
echo "dockerd: not running; starting it (log: /tmp/dockerd.log)" >&2
nohup dockerd >/tmp/dockerd.log 2>&1 &
for _ in $(seq 1 "$wait_s"); do
  docker info >/dev/null 2>&1 && { echo "dockerd: up" >&2; exit 0; }
  sleep 1
done
echo "dockerd: no answer after ${wait_s}s; last log lines:" >&2
tail -n 20 /tmp/dockerd.log >&2 || true
exit 1
