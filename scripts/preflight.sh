#!/usr/bin/env bash
# Checks the toolchains Tally needs before anything is installed, and says what to do when one is
# missing. The stack itself installs MariaDB and Redis (Debian) and fetches everything else.
set -euo pipefail
problems=()
node_ok=$(node -e 'const [a,b]=process.versions.node.split(".").map(Number); console.log(a>20||(a===20&&b>=19)?1:0)' 2>/dev/null || echo 0)
[[ "$node_ok" == 1 ]] || problems+=("Node.js 20.19 or newer is needed (found: $(node --version 2>/dev/null || echo none))")
command -v npm >/dev/null || problems+=("npm is needed (it comes with Node.js)")
command -v java >/dev/null || problems+=("a JDK 17+ is needed for Kafka and OpenSearch (Debian: apt-get install openjdk-17-jdk-headless)")
command -v mvn >/dev/null || problems+=("Maven is needed to fetch Kafka, Apicurio and OpenSearch from Maven Central (Debian: apt-get install maven)")
command -v go >/dev/null || problems+=("Go 1.22+ is needed to build FerretDB (https://go.dev/dl)")
command -v curl >/dev/null || problems+=("curl is needed for health checks (Debian: apt-get install curl)")
if [[ ${#problems[@]} -gt 0 ]]; then
  echo "tally: cannot start, the machine is missing:" >&2
  printf '  - %s\n' "${problems[@]}" >&2
  exit 1
fi
