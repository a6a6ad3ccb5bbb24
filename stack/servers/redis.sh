#!/usr/bin/env bash
# Redis from Debian with AOF on (appendfsync everysec), as the counters' exactly-once design assumes
# (docs/exactly-once.md, "What breaks exactness if forgotten").
REDIS_TIMEOUT="${REDIS_TIMEOUT:-30}"

redis_install() { apt_install redis-server redis-tools; }

redis_run() {
  mkdir -p "$STACK_DIR/data/redis"
  exec redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --dir "$STACK_DIR/data/redis" \
    --appendonly yes --appendfsync everysec --save "" --daemonize no --protected-mode yes
}

redis_health() { [[ "$(redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping 2>/dev/null)" == PONG ]]; }
