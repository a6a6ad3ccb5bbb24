#!/usr/bin/env bash
# Helpers shared by the server modules (sourced; defines functions only).

# Installs Debian packages once; `apt-get update` runs at most once per stack run.
apt_install() {
  local missing=() p
  for p in "$@"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  [[ ${#missing[@]} -eq 0 ]] && return 0
  if [[ "$(id -u)" != 0 ]]; then
    echo "stack: needs the Debian packages ${missing[*]}: run 'sudo apt-get install -y ${missing[*]}' (or run the stack as root)" >&2
    return 1
  fi
  echo "stack: installing Debian packages: ${missing[*]}" >&2
  if [[ ! -f "$STACK_DIR/run/apt-updated" ]]; then
    apt-get update -qq >&2 && mkdir -p "$STACK_DIR/run" && touch "$STACK_DIR/run/apt-updated"
  fi
  # policy-rc.d-free machines would start the distro's own daemons on the default ports:
  # RUNLEVEL=1 keeps invoke-rc.d from starting them, so only the stack's own processes run.
  DEBIAN_FRONTEND=noninteractive RUNLEVEL=1 apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
}

need_cmd() { # need_cmd <server> <command> <what to do>
  command -v "$2" >/dev/null 2>&1 || { echo "stack: $1 needs '$2' on PATH: $3" >&2; return 1; }
}

http_ok() { curl -sf --max-time 2 -o /dev/null "$1"; }

# A content hash of files, so a changed build recipe rebuilds into a new cache folder.
files_hash() { cat "$@" | sha256sum | cut -c1-12; }

# Java 21+ for Apicurio 3.x; Java 17 for Kafka and OpenSearch 2.19.
java21_home() {
  local d
  for d in "${JAVA21_HOME:-}" /usr/lib/jvm/temurin-25-jdk-amd64 /usr/lib/jvm/temurin-21-jdk-amd64 \
           /usr/lib/jvm/java-25-openjdk-amd64 /usr/lib/jvm/java-21-openjdk-amd64; do
    [[ -n "$d" && -x "$d/bin/java" ]] && { echo "$d"; return 0; }
  done
  return 1
}

# Runs an install step with its output in a log file; on failure prints the tail and the log path.
run_logged() { # run_logged <server> <command…>
  local s="$1"; shift
  mkdir -p "$STACK_DIR/logs"
  local lf="$STACK_DIR/logs/$s-install.log"
  if ! "$@" >>"$lf" 2>&1; then
    echo "stack: $s: '$*' failed; last lines of $lf:" >&2
    tail -n 20 "$lf" >&2
    return 1
  fi
}
