#!/usr/bin/env bash
# The test command: `swift test` with a throwaway PostgreSQL server on 127.0.0.1 for the store
# tests (started here unless FIXBRIDGE_TEST_POSTGRES_URL already names one), and the system
# packages the build needs (libsqlite3-dev for GRDB, postgresql for the server).
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
dpkg -s libsqlite3-dev >/dev/null 2>&1 || need_apt+=(libsqlite3-dev)
if [ -z "${FIXBRIDGE_TEST_POSTGRES_URL:-}" ] && [ "${FIXBRIDGE_SKIP_POSTGRES:-}" != 1 ]; then
  ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need_apt+=(postgresql)
fi
if [ ${#need_apt[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}"
  else
    echo "missing system packages: ${need_apt[*]} (sudo apt-get install ${need_apt[*]})" >&2
    exit 1
  fi
fi

pg_dir=""
stop_pg() {
  if [ -n "$pg_dir" ]; then
    run_pg "$pg_bin/pg_ctl" -D "$pg_dir/data" -m immediate stop >/dev/null 2>&1 || true
    rm -rf "$pg_dir"
  fi
}
trap stop_pg EXIT

if [ -z "${FIXBRIDGE_TEST_POSTGRES_URL:-}" ] && [ "${FIXBRIDGE_SKIP_POSTGRES:-}" != 1 ]; then
  pg_bin=$(dirname "$(ls -d /usr/lib/postgresql/*/bin/initdb | sort -V | tail -1)")
  pg_dir=$(mktemp -d /tmp/fixbridge-pg.XXXXXX)
  # PostgreSQL refuses to run as root: run it as the postgres user then.
  if [ "$(id -u)" = 0 ]; then
    chown postgres "$pg_dir"
    run_pg() { su postgres -s /bin/sh -c "$(printf '%q ' "$@")"; }
  else
    run_pg() { "$@"; }
  fi
  pg_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  run_pg "$pg_bin/initdb" -D "$pg_dir/data" -A trust -U fixbridge >/dev/null
  run_pg "$pg_bin/pg_ctl" -D "$pg_dir/data" -l "$pg_dir/log" -w \
    -o "-p $pg_port -k $pg_dir -c listen_addresses=127.0.0.1 -c fsync=off" start >/dev/null
  export FIXBRIDGE_TEST_POSTGRES_URL="postgres://fixbridge@127.0.0.1:$pg_port/postgres"
  echo "PostgreSQL for the store tests: $FIXBRIDGE_TEST_POSTGRES_URL"
fi

swift test "$@"
