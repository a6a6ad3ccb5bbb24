#!/usr/bin/env bash
# MariaDB (MySQL protocol) from Debian, run as the stack's own process on 127.0.0.1.
MARIADB_TIMEOUT="${MARIADB_TIMEOUT:-60}"
MARIADB_SOCKET() { echo "$STACK_DIR/run/mariadb.sock"; }

mariadb_install() {
  apt_install mariadb-server mariadb-client
}

mariadb_run() {
  local data="$STACK_DIR/data/mariadb"
  if [[ ! -d "$data/mysql" ]]; then
    mkdir -p "$data"
    mariadb-install-db --datadir="$data" --auth-root-authentication-method=socket \
      --skip-test-db --user="$(id -un)" >/dev/null
  fi
  local user_arg=(); [[ "$(id -u)" == 0 ]] && user_arg=(--user=root)
  # Settings close to MySQL 8 defaults so SQL that runs here runs on the compose MySQL too.
  exec mariadbd --no-defaults "${user_arg[@]}" --datadir="$data" --socket="$(MARIADB_SOCKET)" \
    --port="$MYSQL_PORT" --bind-address=127.0.0.1 --pid-file="$STACK_DIR/run/mariadbd.pid" \
    --character-set-server=utf8mb4 --collation-server=utf8mb4_unicode_ci \
    --sql-mode=STRICT_TRANS_TABLES,ERROR_FOR_DIVISION_BY_ZERO,NO_ENGINE_SUBSTITUTION \
    --innodb-buffer-pool-size=256M --max-connections=500 --skip-name-resolve \
    --log-error="$STACK_DIR/logs/mariadb.err"
}

mariadb_health() {
  mariadb-admin --no-defaults --socket="$(MARIADB_SOCKET)" -uroot ping >/dev/null 2>&1
}

# The application's and the schema registry's users and databases; idempotent, runs after every
# `up` (also when MariaDB was already running, so an older data directory gets the registry's too).
mariadb_post_start() {
  mariadb --no-defaults --socket="$(MARIADB_SOCKET)" -uroot <<'SQL' || return 1
CREATE DATABASE IF NOT EXISTS tally CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
CREATE USER IF NOT EXISTS 'tally'@'127.0.0.1' IDENTIFIED BY 'tally';
CREATE USER IF NOT EXISTS 'tally'@'localhost' IDENTIFIED BY 'tally';
-- ALL on *.*: the test suites create and drop their own databases.
GRANT ALL PRIVILEGES ON *.* TO 'tally'@'127.0.0.1';
GRANT ALL PRIVILEGES ON *.* TO 'tally'@'localhost';
SQL
  # Apicurio's storage (stack/servers/registry.sh): its own database, and a user that may touch only it
  # (when the registry keeps its data here, not in another MySQL or in memory).
  [[ "$REGISTRY_STORAGE" == sql && "$REGISTRY_DB_PORT" == "$MYSQL_PORT" && "$REGISTRY_DB_HOST" =~ ^(127\.0\.0\.1|localhost)$ ]] || return 0
  local db="$REGISTRY_DB_NAME" user="$REGISTRY_DB_USER" pw="${REGISTRY_DB_PASSWORD//\'/\'\'}"
  mariadb --no-defaults --socket="$(MARIADB_SOCKET)" -uroot <<SQL
CREATE DATABASE IF NOT EXISTS \`$db\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
CREATE USER IF NOT EXISTS '$user'@'127.0.0.1' IDENTIFIED BY '$pw';
CREATE USER IF NOT EXISTS '$user'@'localhost' IDENTIFIED BY '$pw';
GRANT ALL PRIVILEGES ON \`$db\`.* TO '$user'@'127.0.0.1';
GRANT ALL PRIVILEGES ON \`$db\`.* TO '$user'@'localhost';
SQL
}
