#!/usr/bin/env bash
# The private PostgreSQL cluster Kairos runs and tests against.
#
#   scripts/postgres.sh start   create (first time) and start it; prints nothing else
#   scripts/postgres.sh env     print `export DATABASE_URL=...` for the running cluster
#   scripts/postgres.sh stop    stop it
#   scripts/postgres.sh psql    open psql on it as the kairos user
#
# The data lives in .pg/ (git-ignored), owned by the `postgres` user when run as root (initdb
# refuses root), by the caller otherwise. It listens on 127.0.0.1 only, with no Unix socket, and
# asks every client for a password. Its port is KAIROS_PG_PORT, else the first free one from
# 54329 up, chosen when the cluster is created and kept in .pg/port.
set -euo pipefail
source "$(dirname "$0")/common.sh"

PGROOT="$KAIROS_ROOT/.pg"
OWNER=$(id -un)
[ "$(id -u)" -eq 0 ] && OWNER=postgres

# Runs a command as the cluster's owner (from /, a folder every user may enter).
as_owner() {
  if [ "$(id -u)" -eq 0 ]; then (cd / && runuser -u postgres -- "$@"); else "$@"; fi
}

pg_bin() {
  local dir
  dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
  [ -n "$dir" ] || die "PostgreSQL server binaries not found under /usr/lib/postgresql; is the postgresql package installed?"
  echo "$dir"
}

# Where the cluster's data and log live: .pg/ itself, unless (as root) the `postgres` user cannot
# reach it because a parent folder shuts it out (a clone under /root, say); then a folder under
# /var/tmp named after the checkout, which .pg/data links to.
cluster_home() {
  if [ "$(id -u)" -ne 0 ] || (cd / && runuser -u postgres -- test -x "$PGROOT") 2>/dev/null; then
    echo "$PGROOT"
  else
    echo "/var/tmp/kairos-pg-$(echo -n "$KAIROS_ROOT" | md5sum | cut -c1-12)"
  fi
}

data_dir() { echo "$(cluster_home)/data"; }

password() { cat "$PGROOT/password"; }

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# The cluster's port: as recorded, else as asked, else the first free one from 54329.
choose_port() {
  if [ -n "${KAIROS_PG_PORT:-}" ]; then echo "$KAIROS_PG_PORT"; return; fi
  if [ -f "$PGROOT/port" ]; then cat "$PGROOT/port"; return; fi
  local candidate=54329
  while port_in_use "$candidate"; do candidate=$((candidate + 1)); done
  echo "$candidate"
}

database_url() { echo "postgresql://kairos:$(password)@127.0.0.1:$PORT/kairos"; }

admin_psql() {
  PGPASSWORD=$(password) "$(pg_bin)/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PORT" -U postgres "$@"
}

start() {
  local bin data
  bin=$(pg_bin)
  mkdir -p "$PGROOT"
  chmod 755 "$PGROOT"
  data=$(data_dir)
  if [ ! -f "$data/PG_VERSION" ]; then
    local chosen
    chosen=$(choose_port)
    echo "$chosen" > "$PGROOT/port"
  fi
  PORT=$(cat "$PGROOT/port")
  if [ ! -f "$PGROOT/password" ]; then
    umask 077
    head -c 18 /dev/urandom | od -An -tx1 | tr -d ' \n' > "$PGROOT/password"
    umask 022
  fi
  if [ ! -f "$data/PG_VERSION" ]; then
    say "creating the PostgreSQL cluster in $data"
    mkdir -p "$(cluster_home)" "$data"
    [ "$(id -u)" -eq 0 ] && chown postgres: "$data"
    chmod 700 "$data"
    local pwfile
    pwfile=$(mktemp)
    password > "$pwfile"
    [ "$(id -u)" -eq 0 ] && chown postgres: "$pwfile"
    as_owner "$bin/initdb" -D "$data" -U postgres --pwfile="$pwfile" --auth=scram-sha-256 \
      --encoding=UTF8 --locale=C.UTF-8 >"$PGROOT/initdb.log" 2>&1 \
      || { rm -f "$pwfile"; cat "$PGROOT/initdb.log" >&2; die "initdb failed"; }
    rm -f "$pwfile"
    cat >>"$data/postgresql.conf" <<CONF
# Kairos's private cluster: loopback only, no Unix socket.
listen_addresses = '127.0.0.1'
port = $PORT
unix_socket_directories = ''
max_connections = 400
shared_buffers = 256MB
log_min_messages = warning
CONF
    [ "$data" = "$PGROOT/data" ] || ln -sfn "$data" "$PGROOT/data"
  fi
  if ! as_owner "$bin/pg_ctl" -D "$data" status >/dev/null 2>&1; then
    say "starting PostgreSQL on 127.0.0.1:$PORT"
    local log
    log="$(cluster_home)/server.log"
    touch "$log"
    [ "$(id -u)" -eq 0 ] && chown postgres: "$log"
    as_owner "$bin/pg_ctl" -D "$data" -l "$log" -w -t 60 start >/dev/null \
      || { tail -n 20 "$log" >&2; die "PostgreSQL did not start (port $PORT in use? set KAIROS_PG_PORT)"; }
  fi
  # The application role and database, created once.
  if [ "$(admin_psql -d postgres -tAc "SELECT 1 FROM pg_roles WHERE rolname = 'kairos'")" != "1" ]; then
    admin_psql -d postgres -c "CREATE ROLE kairos LOGIN CREATEDB PASSWORD '$(password)'"
  fi
  if [ "$(admin_psql -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = 'kairos'")" != "1" ]; then
    admin_psql -d postgres -c "CREATE DATABASE kairos OWNER kairos"
  fi
}

stop() {
  local data
  data=$(data_dir)
  [ -f "$data/PG_VERSION" ] || return 0
  as_owner "$(pg_bin)/pg_ctl" -D "$data" -m fast -w stop >/dev/null 2>&1 || true
}

[ -f "$PGROOT/port" ] && PORT=$(cat "$PGROOT/port")

case "${1:-}" in
  start) start ;;
  env) echo "export DATABASE_URL='$(database_url)'" ;;
  stop) stop ;;
  psql) shift; PGPASSWORD=$(password) "$(pg_bin)/psql" -h 127.0.0.1 -p "$PORT" -U kairos kairos "$@" ;;
  admin-psql) shift; admin_psql "$@" ;;
  *) die "usage: $0 start|env|stop|psql|admin-psql" ;;
esac
