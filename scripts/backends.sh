#!/usr/bin/env bash
# Starts (or stops) throwaway PostgreSQL and Redis servers on loopback for the production-
# backend tests, from Debian's packages. Data lives under $BACKENDS_DIR (default
# /tmp/switchboard-backends) and is deleted by `stop`.
#
#   scripts/backends.sh start   # prints the SWITCHBOARD_TEST_* variables to export:
#                               # *_DATABASE_URL and *_REDIS_URL move the whole suite onto
#                               # PostgreSQL + Redis; *_POSTGRES_URL and *_REDIS_SERVER_URL
#                               # alone serve the tests that need that very backend
#                               # (multi-instance, store twins, limits and replay guard
#                               # across instances), also in the run on the defaults
#   scripts/backends.sh stop
set -euo pipefail

DIR=${BACKENDS_DIR:-/tmp/switchboard-backends}
PG_PORT=${PG_PORT:-55432}
REDIS_PORT=${REDIS_PORT:-56379}
PG_BIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)

as_postgres() {
  # PostgreSQL refuses to run as root; use the package's postgres user then.
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

case "${1:-}" in
  start)
    if [ -z "$PG_BIN" ] || ! command -v redis-server >/dev/null; then
      echo "install the Debian packages first: apt-get install -y postgresql redis-server" >&2
      exit 1
    fi
    mkdir -p "$DIR"
    if [ "$(id -u)" = 0 ]; then chown postgres "$DIR"; fi
    if [ ! -f "$DIR/pg/PG_VERSION" ]; then
      as_postgres "$PG_BIN/initdb" -D "$DIR/pg" -U switchboard --auth=trust >/dev/null
    fi
    as_postgres "$PG_BIN/pg_ctl" -D "$DIR/pg" -l "$DIR/pg.log" -w \
      -o "-p $PG_PORT -k $DIR -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=1000" start >/dev/null
    as_postgres "$PG_BIN/createdb" -h 127.0.0.1 -p "$PG_PORT" -U switchboard switchboard 2>/dev/null || true
    redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --save '' --appendonly no \
      --daemonize yes --pidfile "$DIR/redis.pid" --logfile "$DIR/redis.log"
    echo "export SWITCHBOARD_TEST_POSTGRES_URL=postgres://switchboard@127.0.0.1:$PG_PORT/switchboard"
    echo "export SWITCHBOARD_TEST_DATABASE_URL=postgres://switchboard@127.0.0.1:$PG_PORT/switchboard"
    echo "export SWITCHBOARD_TEST_REDIS_URL=redis://127.0.0.1:$REDIS_PORT"
    echo "export SWITCHBOARD_TEST_REDIS_SERVER_URL=redis://127.0.0.1:$REDIS_PORT"
    ;;
  stop)
    [ -f "$DIR/redis.pid" ] && kill "$(cat "$DIR/redis.pid")" 2>/dev/null || true
    [ -n "$PG_BIN" ] && [ -d "$DIR/pg" ] && as_postgres "$PG_BIN/pg_ctl" -D "$DIR/pg" -m fast stop >/dev/null 2>&1 || true
    rm -rf "$DIR"
    ;;
  *)
    echo "usage: $0 start|stop" >&2
    exit 2
    ;;
esac
