#!/usr/bin/env bash
# Starts or stops a throw-away PostgreSQL for the tests: scripts/postgres.sh start|stop|url
# The cluster lives in $KOERS_PG_DIR (default /tmp/koers-pg-$UID) and listens on 127.0.0.1 only.
set -euo pipefail
dir=${KOERS_PG_DIR:-/tmp/koers-pg-$(id -u)}
port=${KOERS_PG_PORT:-55432}
bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
[ -n "$bin" ] || bin=$(dirname "$(command -v pg_ctl)")
as_owner() {
  # PostgreSQL refuses to run as root; use the postgres account then
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}
case "${1:-}" in
  start)
    if [ ! -f "$dir/PG_VERSION" ]; then
      mkdir -p "$dir"
      [ "$(id -u)" = 0 ] && chown postgres: "$dir"
      as_owner "$bin/initdb" -D "$dir" -U koers --auth=trust -E UTF8 >/dev/null
    fi
    if ! as_owner "$bin/pg_ctl" -D "$dir" status >/dev/null 2>&1; then
      as_owner "$bin/pg_ctl" -D "$dir" -l "$dir/server.log" -w -t 60 \
        -o "-h 127.0.0.1 -p $port -k $dir -F" start >/dev/null
    fi
    for db in koers_test koers_e2e; do
      as_owner "$bin/psql" -h 127.0.0.1 -p "$port" -U koers -d postgres -tAc \
        "SELECT 1 FROM pg_database WHERE datname='$db'" | grep -q 1 \
        || as_owner "$bin/createdb" -h 127.0.0.1 -p "$port" -U koers "$db"
    done
    echo "postgresql+psycopg://koers@127.0.0.1:$port/koers_test"
    ;;
  stop)
    if [ -f "$dir/PG_VERSION" ]; then
      as_owner "$bin/pg_ctl" -D "$dir" -m fast -w stop >/dev/null 2>&1 || true
    fi
    ;;
  url)
    echo "postgresql+psycopg://koers@127.0.0.1:$port/koers_test"
    ;;
  *)
    echo "usage: $0 start|stop|url" >&2; exit 2 ;;
esac
