#!/usr/bin/env bash
# Tools the test suite drives besides Node: PHP, Composer, PHPUnit and the Laravel 8 framework from
# Debian (clients/php, the tally/laravel package, is tested inside a real Laravel app built from them;
# Packagist is never needed).
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=/dev/null
source stack/stack-lib.sh
# A php, composer or phpunit installed some other way is used as it is; the framework must be Debian's
# (the test app loads it from /usr/share/php).
php_missing=()
command -v php >/dev/null 2>&1 || php_missing+=(php-cli)
command -v composer >/dev/null 2>&1 || php_missing+=(composer)
command -v phpunit >/dev/null 2>&1 || php_missing+=(phpunit)
[[ -f /usr/share/php/Illuminate/Foundation/Application.php ]] || php_missing+=(php-laravel-framework)
[[ ${#php_missing[@]} -eq 0 ]] || apt_install "${php_missing[@]}"
# The Compose client (v1 from Debian) validates docker-compose.yml; there is no Docker engine here.
command -v docker-compose >/dev/null 2>&1 || apt_install docker-compose
# Headless Chromium for the admin UI's browser test (driven by playwright-core, no bundled browser).
command -v chromium >/dev/null 2>&1 || apt_install chromium
# Helm for tests/helm (helm lint and helm template of deploy/helm/tally): built from the Go module
# proxy once (~6 min on 2 cores), then cached under ~/.cache/tally/helm-<version>.
bash scripts/install-helm.sh >/dev/null
# The metrics linter (tests/ops/monitoring.test.ts): the check `promtool check metrics` runs, built once
# with Go from the module proxy.
bash scripts/build-promlint.sh >/dev/null
