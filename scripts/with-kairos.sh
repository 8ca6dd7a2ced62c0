#!/usr/bin/env bash
# Runs a command against a kairos of its own: the one the test command built, on a free loopback
# port, with a fresh database schema named SCHEMA, no default jobs and a random API token. The
# command sees KAIROS_URL, KAIROS_TOKEN and KAIROS_SCHEMA; its exit status is this script's.
# Afterwards kairos stops and the schema is dropped. Errors kairos logs during the run fail it too.
# KAIROS_BINARY picks another build (a benchmark's release build); WITH_KAIROS_LOG_LEVEL another
# log level than warning (a benchmark runs at the default, info).
#
#   scripts/with-kairos.sh SCHEMA COMMAND [ARG...]
set -euo pipefail
source "$(dirname "$0")/common.sh"
[ $# -ge 2 ] || die "usage: scripts/with-kairos.sh SCHEMA COMMAND [ARG...]"
schema=$1
shift
cd "$KAIROS_ROOT"
eval "$("$KAIROS_ROOT/scripts/postgres.sh" env)"

kairos=${KAIROS_BINARY:-.build/debug/kairos}
[ -x "$kairos" ] || die "no $kairos: build first (swift build)"
[[ "$schema" =~ ^[a-z_][a-z0-9_]*$ ]] || die "the schema name must be a plain lower-case identifier, not $schema"
work=$(mktemp -d)
kairos_pid=""
cleanup() {
  [ -n "$kairos_pid" ] && { kill "$kairos_pid" 2>/dev/null || true; wait "$kairos_pid" 2>/dev/null || true; }
  "$KAIROS_ROOT/scripts/postgres.sh" psql -qc "DROP SCHEMA IF EXISTS $schema CASCADE" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
"$KAIROS_ROOT/scripts/postgres.sh" psql -qc "DROP SCHEMA IF EXISTS $schema CASCADE; CREATE SCHEMA $schema" >/dev/null 2>&1

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
KAIROS_TOKEN="check-$RANDOM$RANDOM$RANDOM"
KAIROS_URL="http://127.0.0.1:$port"
KAIROS_SCHEMA=$schema
export KAIROS_TOKEN KAIROS_URL KAIROS_SCHEMA
PGOPTIONS="-c search_path=$schema" KAIROS_API_TOKENS="$KAIROS_TOKEN" KAIROS_DEFAULT_JOBS_DIR="$work" \
  "$kairos" serve --port "$port" --log-level "${WITH_KAIROS_LOG_LEVEL:-warning}" 2>"$work/kairos.log" &
kairos_pid=$!
for _ in $(seq 1 150); do
  curl -fsS "$KAIROS_URL/api/v1/readiness" >/dev/null 2>&1 && break
  sleep 0.2
done
curl -fsS "$KAIROS_URL/api/v1/readiness" >/dev/null || { cat "$work/kairos.log" >&2; die "kairos did not become ready"; }

status=0
"$@" || status=$?
if grep -q '"level":"\(error\|critical\)"' "$work/kairos.log"; then
  say "kairos logged errors during the run:"
  grep '"level":"\(error\|critical\)"' "$work/kairos.log" | head -20 >&2
  status=1
fi
exit "$status"
