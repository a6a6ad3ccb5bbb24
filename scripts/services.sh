#!/usr/bin/env bash
# Tally's own processes for the quick start (production runs them under its own supervisor or the
# compose file): started in the background on 127.0.0.1, pid files and logs beside the stack's.
#   scripts/services.sh up | down | status
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=/dev/null
source stack/stack-lib.sh
RUN="$STACK_DIR/run"; LOGS="$STACK_DIR/logs"
mkdir -p "$RUN" "$LOGS"

# name → entry point and the URL that says it is ready
SERVICES=(ingest-api event-logger counter history flusher es-sync snapshot-builder retention query-api)
entry() { echo "services/$1/dist/main.js"; }
# The ingest API answers on its HTTP port; consumers on their management ports (see README).
ready_url() {
  case "$1" in
    ingest-api) echo "http://127.0.0.1:8080/readyz" ;;
    event-logger) echo "http://127.0.0.1:9101/readyz" ;;
    counter) echo "http://127.0.0.1:9102/readyz" ;;
    history) echo "http://127.0.0.1:9103/readyz" ;;
    flusher) echo "http://127.0.0.1:9104/readyz" ;;
    es-sync) echo "http://127.0.0.1:9105/readyz" ;;
    snapshot-builder) echo "http://127.0.0.1:9106/readyz" ;;
    retention) echo "http://127.0.0.1:9107/readyz" ;;
    query-api) echo "http://127.0.0.1:8090/readyz" ;;
  esac
}

pid_of() { local f="$RUN/svc-$1.pid"; [[ -f "$f" ]] && kill -0 "$(cat "$f")" 2>/dev/null && cat "$f"; }

# Whether the build changed since this service started: a `git pull` then `npm run up` must not leave
# the old code running (the build only rewrites the files that changed).
stale() { [[ ! -f "$RUN/svc-$1.started" ]] || [[ -n "$(find "services/$1/dist" packages/*/dist -name '*.js' -newer "$RUN/svc-$1.started" -print -quit 2>/dev/null)" ]]; }

stop_one() {
  local pid="$2"
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
  rm -f "$RUN/svc-$1.pid" "$RUN/svc-$1.started"
}

up() {
  local s pid
  for s in "${SERVICES[@]}"; do
    if pid="$(pid_of "$s")"; then
      if ! stale "$s"; then echo "tally: $s already running (pid $pid)" >&2; continue; fi
      echo "tally: $s restarted on the new build (was pid $pid)" >&2
      stop_one "$s" "$pid"
    fi
    touch "$RUN/svc-$s.started"
    setsid node "$(entry "$s")" >>"$LOGS/$s.log" 2>&1 < /dev/null &
    echo $! >"$RUN/svc-$s.pid"
  done
  for s in "${SERVICES[@]}"; do
    local i
    for i in $(seq 1 120); do
      curl -sf --max-time 2 -o /dev/null "$(ready_url "$s")" && { echo "tally: $s ready ($(ready_url "$s" | sed 's#/readyz##'))" >&2; continue 2; }
      pid_of "$s" >/dev/null || { echo "tally: $s exited; last lines of $LOGS/$s.log:" >&2; tail -n 20 "$LOGS/$s.log" >&2; exit 1; }
      sleep 0.5
    done
    echo "tally: $s not ready after 60 s; last lines of $LOGS/$s.log:" >&2; tail -n 20 "$LOGS/$s.log" >&2; exit 1
  done
}

down() {
  local s pid
  for s in "${SERVICES[@]}"; do
    pid="$(pid_of "$s")" || continue
    stop_one "$s" "$pid"
    echo "tally: $s stopped" >&2
  done
}

status() {
  local s pid
  for s in "${SERVICES[@]}"; do
    if pid="$(pid_of "$s")"; then printf '%-14s %-8s %s\n' "$s" "$pid" "$(curl -s --max-time 2 "$(ready_url "$s")" || echo unreachable)"
    else printf '%-14s %-8s %s\n' "$s" - stopped; fi
  done
}

case "${1:-status}" in up) up ;; down) down ;; status) status ;; *) echo "usage: scripts/services.sh up|down|status" >&2; exit 2 ;; esac
