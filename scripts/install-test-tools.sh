#!/usr/bin/env bash
# Tools the test suite drives besides Node: PHP (the SDK's Laravel example is run for real).
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=/dev/null
source stack/stack-lib.sh
command -v php >/dev/null 2>&1 || apt_install php-cli
# The Compose client (v1 from Debian) validates docker-compose.yml; there is no Docker engine here.
command -v docker-compose >/dev/null 2>&1 || apt_install docker-compose
# Headless Chromium for the admin UI's browser test (driven by playwright-core, no bundled browser).
command -v chromium >/dev/null 2>&1 || apt_install chromium
