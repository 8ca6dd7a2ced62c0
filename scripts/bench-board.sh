#!/usr/bin/env bash
# The flow board's benchmarks, in one run on the private PostgreSQL, with a release build of
# kairos serving as operators run it (default settings: access logs on at info, a token):
#   pgbench - pgbench -N (simple update), 8 clients, 10 s, on the same cluster: the reference;
#   batch   - 50,000 flows posted by a firing; 8 worker processes each claim up to 100 and
#             complete them in one call, until a claim finds none (goal >= 13,000 flows/s,
#             >= 4 x pgbench -N, claim p99 <= 50 ms);
#   single  - 20,000 flows, claim 1 / complete 1 (goal >= 1,500 flows/s, >= 0.5 x pgbench -N,
#             claim p99 <= 10 ms);
#   latency - an idle board, 8 workers long-polling, one flow posted every 10 ms for 10 s
#             (goal post->claim p50 <= 5 ms, p99 <= 15 ms);
#   churn   - 20,000 flows, 8 workers for 60 s, one killed with SIGKILL and restarted every
#             1-3 s: 0 completed twice, 0 lost.
# Every scenario checks that each flow ended exactly once, and fails the script otherwise.
#
#   scripts/bench-board.sh [scenario ...]     (default: all)
#   KAIROS_BINARY=/other/build/kairos scripts/bench-board.sh single   (another build, not rebuilt: an A/B)
set -euo pipefail
source "$(dirname "$0")/common.sh"
setup_release_build kairos >/dev/null
kairos_binary=${KAIROS_BINARY:-.build/release/kairos}
scenarios=("$@")
[ ${#scenarios[@]} -gt 0 ] || scenarios=(batch single latency churn)

work="$KAIROS_ROOT/.bench/board"
rm -rf "$work"
mkdir -p "$work/default_jobs"
schema=bench_board
kairos_pid=""
cleanup() {
  [ -n "$kairos_pid" ] && { kill -TERM "$kairos_pid" 2>/dev/null || true; wait "$kairos_pid" 2>/dev/null || true; }
  "$KAIROS_ROOT/scripts/postgres.sh" psql -qc "DROP SCHEMA IF EXISTS $schema CASCADE; DROP SCHEMA IF EXISTS pgbench CASCADE" >/dev/null 2>&1 || true
}
trap cleanup EXIT

say "pgbench -N (simple update), 8 clients, 10 s, on the same cluster"
pgbench=$(ls /usr/lib/postgresql/*/bin/pgbench | sort -V | tail -1)
"$KAIROS_ROOT/scripts/postgres.sh" psql -qc "DROP SCHEMA IF EXISTS pgbench CASCADE; CREATE SCHEMA pgbench" >/dev/null 2>&1
PGOPTIONS="-c search_path=pgbench" "$pgbench" "$DATABASE_URL" -i -q -s 10 >/dev/null 2>&1
tps=$(PGOPTIONS="-c search_path=pgbench" "$pgbench" "$DATABASE_URL" -N -c 8 -j 2 -T 10 2>/dev/null | grep -oE 'tps = [0-9.]+' | head -1 | cut -d' ' -f3)
"$KAIROS_ROOT/scripts/postgres.sh" psql -qc "DROP SCHEMA pgbench CASCADE" >/dev/null 2>&1
echo "pgbench -N: ${tps} transactions/s"

"$KAIROS_ROOT/scripts/postgres.sh" psql -qc "DROP SCHEMA IF EXISTS $schema CASCADE; CREATE SCHEMA $schema" >/dev/null 2>&1
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
KAIROS_TOKEN="bench-$RANDOM$RANDOM"
KAIROS_URL="http://127.0.0.1:$port"
export KAIROS_TOKEN KAIROS_URL BENCH_DIR="$work" PGBENCH_TPS="$tps"
PGOPTIONS="-c search_path=$schema" KAIROS_API_TOKENS="$KAIROS_TOKEN" KAIROS_DEFAULT_JOBS_DIR="$work/default_jobs" \
  "$kairos_binary" serve --port "$port" 2>"$work/kairos.log" &
kairos_pid=$!
for _ in $(seq 1 150); do
  curl -fsS "$KAIROS_URL/api/v1/readiness" >/dev/null 2>&1 && break
  sleep 0.2
done
curl -fsS "$KAIROS_URL/api/v1/readiness" >/dev/null || { tail -20 "$work/kairos.log" >&2; die "kairos did not become ready"; }

status=0
for scenario in "${scenarios[@]}"; do
  say "$scenario"
  python3 "$KAIROS_ROOT/scripts/bench-board.py" "$scenario" || status=1
done
echo "kairos logged $(wc -l <"$work/kairos.log") lines (access logs at info) to $work/kairos.log"
exit "$status"
