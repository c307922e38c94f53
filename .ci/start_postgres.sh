#!/usr/bin/env bash
# Start a throwaway PostgreSQL server on loopback for the service tests and print its DSN.
# Installs Debian's postgresql package when no server binaries are present.
# Usage: eval "$(bash .ci/start_postgres.sh)"   -> exports BAOMI_TEST_PG_DSN
set -euo pipefail
PORT="${BAOMI_PG_PORT:-54329}"
BASE="${BAOMI_PG_DIR:-/tmp/baomi-pg-$PORT}"
bindir=""
for d in /usr/lib/postgresql/*/bin; do [ -x "$d/initdb" ] && bindir="$d"; done
if [ -z "$bindir" ]; then
  echo "installing postgresql (Debian package)" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq postgresql >&2
  for d in /usr/lib/postgresql/*/bin; do [ -x "$d/initdb" ] && bindir="$d"; done
fi
id postgres >/dev/null 2>&1 || useradd --system --home-dir /var/lib/postgresql postgres
RUN=()
[ "$(id -u)" = 0 ] && RUN=(runuser -u postgres --)
if ! "${RUN[@]}" "$bindir/pg_ctl" -D "$BASE/data" status >/dev/null 2>&1; then
  rm -rf "$BASE"; mkdir -p "$BASE"; chown postgres "$BASE" 2>/dev/null || true
  "${RUN[@]}" "$bindir/initdb" -D "$BASE/data" -U baomi --auth=trust -E UTF8 --locale=C.UTF-8 >&2
  "${RUN[@]}" "$bindir/pg_ctl" -D "$BASE/data" -l "$BASE/log" -w \
      -o "-c listen_addresses=127.0.0.1 -p $PORT -k $BASE -c fsync=off -c max_connections=200" start >&2
fi
echo "export BAOMI_TEST_PG_DSN=postgresql://baomi@127.0.0.1:$PORT/postgres"
