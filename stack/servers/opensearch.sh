# shellcheck shell=bash
# OpenSearch for the local stack: a real OpenSearch 2.19 node embedded in a small Java launcher
# (stack/opensearch/), because neither Docker nor the distribution tarball is available here;
# everything comes from Maven Central.
#
# Sourced by the stack CLI (stack/stack), which provides STACK_DIR, CACHE_DIR, REPO_ROOT and
# exports OPENSEARCH_PORT. Must stay safe under `set -euo pipefail`: every optional variable is
# read with a default.
#
# Defines: opensearch_install, opensearch_run, opensearch_health, OPENSEARCH_TIMEOUT.

# Start-to-healthy is ~10 s on 2 cores (~25 s when they are busy); allow for slow CI machines.
OPENSEARCH_TIMEOUT="${OPENSEARCH_TIMEOUT:-180}"

# Must match <opensearch.version> in stack/opensearch/pom.xml (it names the cache dir only).
_OPENSEARCH_VERSION=2.19.6

_opensearch_src() { printf '%s\n' "$REPO_ROOT/stack/opensearch"; }

# Cache dir keyed by a hash of the pom and all sources, so an edit to the launcher or a version
# bump builds afresh while an unchanged tree reuses the previous build.
_opensearch_build_dir() {
  local src hash
  src=$(_opensearch_src)
  hash=$(cd "$src" && find pom.xml src -type f -print0 | LC_ALL=C sort -z \
    | xargs -0 sha256sum | sha256sum | cut -c1-12)
  printf '%s\n' "${CACHE_DIR:-$HOME/.cache/tally}/opensearch-$_OPENSEARCH_VERSION-$hash"
}

opensearch_install() {
  if ! command -v java >/dev/null 2>&1 || ! command -v mvn >/dev/null 2>&1; then
    echo "opensearch: needs a JDK 17+ (java) and Maven (mvn) on PATH to build and run the embedded node" \
         "(e.g. apt-get install openjdk-17-jdk-headless maven)" >&2
    return 1
  fi
  local dir
  dir=$(_opensearch_build_dir)
  # The marker is written last, so an interrupted build is never mistaken for a finished one.
  if [[ -f "$dir/.complete" ]]; then
    return 0
  fi
  echo "opensearch: building launcher into $dir (first time downloads ~50 MB from Maven Central)" >&2
  rm -rf "$dir"
  mkdir -p "$dir"
  # Build output goes to the cache (tally.build.dir), never into the work tree.
  if ! (cd "$(_opensearch_src)" && mvn -q -B package \
          -Dtally.build.dir="$dir/build" -Dtally.lib.dir="$dir/lib") >"$dir/build.log" 2>&1; then
    echo "opensearch: build failed (mvn package in stack/opensearch); last lines of $dir/build.log:" >&2
    tail -n 30 "$dir/build.log" >&2
    return 1
  fi
  if [[ ! -f "$dir/lib/opensearch-launcher-1.jar" ]]; then
    echo "opensearch: build produced no launcher jar in $dir/lib" >&2
    return 1
  fi
  rm -rf "$dir/build"
  touch "$dir/.complete"
}

opensearch_run() {
  local dir port
  dir=$(_opensearch_build_dir)
  port=${OPENSEARCH_PORT:-9200}
  if [[ ! -f "$dir/.complete" ]]; then
    echo "opensearch: not built for the current sources; run opensearch_install first" >&2
    return 1
  fi
  mkdir -p "$STACK_DIR/data/opensearch" "$STACK_DIR/opensearch-home/tmp"
  # JVM flags, after the distribution's jvm.options, trimmed for a dev node:
  #  - 512m fixed heap: enough for test data, keeps RSS well under 1 GB on a 2-core box.
  #  - TieredStopAtLevel=1 (C1 JIT only): start-up is dominated by Painless building its
  #    whitelist lookup in the Node constructor; on 2 busy cores the C2 compiler threads compete
  #    with it and start-to-healthy roughly doubles (measured ~9-12 s vs ~18-28 s). Peak query
  #    speed is lower, which doesn't matter for a dev/CI node; for benchmarks pass
  #    OPENSEARCH_JAVA_OPTS=-XX:TieredStopAtLevel=4 to restore the full JIT.
  #  - tmpdir under the stack dir: OpenSearch and JNA unpack into it, and a shared /tmp could
  #    be cleaned under a running node.
  #  - netty flags as in the distribution: no unsafe/recycler tricks, which save memory.
  #  - log4j: no JMX MBeans (unused), and no log4j shutdown hook, which could stop logging
  #    before the launcher has closed the node (so "closed" would be missing from the log).
  # OPENSEARCH_JAVA_OPTS (optional) is appended so a developer can override heap etc.
  # shellcheck disable=SC2086
  exec java \
    -Xms512m -Xmx512m -Xss1m \
    -XX:+UseG1GC -XX:TieredStopAtLevel=1 \
    -Dfile.encoding=UTF-8 \
    -Djava.io.tmpdir="$STACK_DIR/opensearch-home/tmp" \
    -Djna.nosys=true \
    -Dio.netty.noUnsafe=true -Dio.netty.noKeySetOptimization=true \
    -Dio.netty.recycler.maxCapacityPerThread=0 \
    -Dlog4j.shutdownHookEnabled=false -Dlog4j2.disable.jmx=true \
    ${OPENSEARCH_JAVA_OPTS:-} \
    -cp "$dir/lib/*" dev.tally.stack.OpenSearchLauncher \
    --home "$STACK_DIR/opensearch-home" \
    --data "$STACK_DIR/data/opensearch" \
    --port "$port" \
    --transport-port "${OPENSEARCH_TRANSPORT_PORT:-$((port + 100))}"
}

opensearch_health() {
  local port body
  port=${OPENSEARCH_PORT:-9200}
  body=$(curl -sf --max-time 2 "http://127.0.0.1:$port/_cluster/health?filter_path=status" 2>/dev/null) || return 1
  [[ "$body" == *'"green"'* || "$body" == *'"yellow"'* ]]
}
