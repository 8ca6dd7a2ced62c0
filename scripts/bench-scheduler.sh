#!/usr/bin/env bash
# The scheduler benchmarks, on the private PostgreSQL, with a release build:
#   burst  - 10,000 one-shot FlowScheduling jobs due at one instant: time to post every flow,
#            fires per second, lateness p50/p99/max; beside it, pgbench's simple-update TPS
#            (pgbench -N) on the same cluster. Targets: >= 10,000 fires/s, p99 lateness < 1 s.
#   steady - 100 jobs on 1-second intervals for 30 s. Target: lateness p99 < 20 ms.
#   boot   - 1,000 default job files. Target: loaded and scheduling in < 1 s.
#
#   scripts/bench-scheduler.sh
set -euo pipefail
source "$(dirname "$0")/common.sh"
setup_release_build kairos-bench >/dev/null
kairos=.build/release/kairos-bench

say "pgbench -N (simple update) on the same cluster, 2 clients, 10 s"
pgbench=$(ls /usr/lib/postgresql/*/bin/pgbench | sort -V | tail -1)
# Its tables go in a schema of their own, out of Kairos's way.
"$KAIROS_ROOT/scripts/postgres.sh" psql -qc "DROP SCHEMA IF EXISTS pgbench CASCADE; CREATE SCHEMA pgbench" >/dev/null 2>&1
export PGOPTIONS="-c search_path=pgbench"
"$pgbench" "$DATABASE_URL" -i -q -s 10 >/dev/null 2>&1
tps=$("$pgbench" "$DATABASE_URL" -N -c 2 -j 2 -T 10 2>/dev/null | grep -oE 'tps = [0-9.]+' | head -1 | cut -d' ' -f3)
unset PGOPTIONS
"$KAIROS_ROOT/scripts/postgres.sh" psql -qc "DROP SCHEMA pgbench CASCADE" >/dev/null 2>&1
echo "pgbench -N: ${tps} transactions per second"

say "burst"
"$kairos" burst
say "burst, due at a minute's start: one-shots only, then half of them cron jobs (* * * * * in Europe/Prague)"
"$kairos" burst --cron-share 0
"$kairos" burst --cron-share 50
say "steady"
"$kairos" steady --seconds 30
say "steady from a minute's start: 1-second jobs only, then half the firings from cron jobs (* * * * *, 59 s of jitter)"
"$kairos" steady --seconds 30 --cron-share 0
"$kairos" steady --seconds 30 --cron-share 50
say "boot"
"$kairos" boot
