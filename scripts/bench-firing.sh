#!/usr/bin/env bash
# Firing as clients see it, on the private PostgreSQL, with a release build of kairos serving at
# its default settings (access logs at info, a token) in a schema of its own:
#   burst     - 10,000 one-shots due at one instant, watched by a poller reading GET /flows
#               (goal >= 15,000 fires/s, lateness p99 <= 0.7 s as the poller sees it);
#   retention - 1,000 jobs every second beside 10,000,000 old runs: lateness p99 while Kairos
#               keeps everything (KAIROS_RETAIN=forever), then, restarted with the default
#               retention, while its sweep prunes them (goal: within 20 %).
# See scripts/bench-firing.py for how each is measured.
#
#   scripts/bench-firing.sh [scenario ...]     (default: burst retention)
#   RETENTION_ARGUMENTS="--old-runs 1000000" scripts/bench-firing.sh retention    (a shorter run)
set -euo pipefail
source "$(dirname "$0")/common.sh"
setup_release_build kairos >/dev/null
scenarios=("$@")
[ ${#scenarios[@]} -gt 0 ] || scenarios=(burst retention)
BENCH_DIR="$KAIROS_ROOT/.bench/firing"
mkdir -p "$BENCH_DIR"
export BENCH_DIR

schema=bench_firing_retention
kairos_pid=""
stop_kairos() {
  [ -n "$kairos_pid" ] || return 0
  kill -TERM "$kairos_pid" 2>/dev/null || true
  wait "$kairos_pid" 2>/dev/null || true
  kairos_pid=""
}
cleanup() {
  stop_kairos
  "$KAIROS_ROOT/scripts/postgres.sh" psql -qc "DROP SCHEMA IF EXISTS $schema CASCADE" >/dev/null 2>&1 || true
}
trap cleanup EXIT

# kairos serve on $KAIROS_URL in $schema, at the default settings but those given as VAR=value.
start_kairos() {
  env PGOPTIONS="-c search_path=$schema" KAIROS_API_TOKENS="$KAIROS_TOKEN" KAIROS_DEFAULT_JOBS_DIR="$BENCH_DIR/none" "$@" \
    .build/release/kairos serve --port "${KAIROS_URL##*:}" 2>>"$BENCH_DIR/kairos.log" &
  kairos_pid=$!
  for _ in $(seq 1 150); do
    curl -fsS "$KAIROS_URL/api/v1/readiness" >/dev/null 2>&1 && return 0
    sleep 0.2
  done
  tail -20 "$BENCH_DIR/kairos.log" >&2
  die "kairos did not become ready"
}

retention() {
  "$KAIROS_ROOT/scripts/postgres.sh" psql -qc "DROP SCHEMA IF EXISTS $schema CASCADE; CREATE SCHEMA $schema" >/dev/null 2>&1
  KAIROS_TOKEN="bench-$RANDOM$RANDOM"
  KAIROS_URL="http://127.0.0.1:$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
  export KAIROS_TOKEN KAIROS_URL KAIROS_SCHEMA=$schema
  : >"$BENCH_DIR/kairos.log"
  start_kairos KAIROS_RETAIN=forever
  python3 "$KAIROS_ROOT/scripts/bench-firing.py" retention-quiet ${RETENTION_ARGUMENTS:-}
  stop_kairos
  start_kairos
  python3 "$KAIROS_ROOT/scripts/bench-firing.py" retention-pruned
  stop_kairos
}

status=0
for scenario in "${scenarios[@]}"; do
  say "$scenario"
  case "$scenario" in
    burst)
      KAIROS_BINARY=.build/release/kairos WITH_KAIROS_LOG_LEVEL=info \
        "$KAIROS_ROOT/scripts/with-kairos.sh" bench_firing_burst python3 "$KAIROS_ROOT/scripts/bench-firing.py" burst || status=1 ;;
    retention) retention || status=1 ;;
    *) die "no scenario $scenario: burst or retention" ;;
  esac
done
exit "$status"
