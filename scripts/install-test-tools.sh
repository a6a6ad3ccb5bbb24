#!/usr/bin/env bash
# Tools the test suite drives besides Node: PHP, Composer, PHPUnit and the Laravel 8 framework from
# Debian (clients/php, the tally/laravel package, is tested inside a real Laravel app built from them;
# Packagist is never needed).
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=/dev/null
source stack/stack-lib.sh
# apt_install skips what dpkg already has, so listing all four costs nothing on a second run.
apt_install php-cli composer phpunit php-laravel-framework
# The Compose client (v1 from Debian) validates docker-compose.yml; there is no Docker engine here.
command -v docker-compose >/dev/null 2>&1 || apt_install docker-compose
# Headless Chromium for the admin UI's browser test (driven by playwright-core, no bundled browser).
command -v chromium >/dev/null 2>&1 || apt_install chromium
