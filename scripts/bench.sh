#!/usr/bin/env bash
# Every figure of "fast with the lights on" in one run (`make bench`), then one table: each
# figure, its reference measured in the same run (nginx, pgbench, Kairos itself in another
# setting), the ratio and the goal with its verdict. The benchmarks it runs print their own
# details as they go:
#   scripts/bench-http.sh     liveness beside nginx, reads and writes beside pgbench, bulk, memory
#   scripts/bench-firing.sh   the burst read by a poller; steady firing, quiet and while pruning
#   scripts/bench-million.sh  a million idle jobs: boot, idle CPU, pages, the burst beside them
# About 15 minutes. Absolute numbers on a shared 2-core machine move by 20 % and more between
# runs: judge by the ratios, and run it twice.
#
#   scripts/bench.sh
set -euo pipefail
source "$(dirname "$0")/common.sh"
KAIROS_BENCH_TABLE=$(mktemp)
export KAIROS_BENCH_TABLE
trap 'rm -f "$KAIROS_BENCH_TABLE"' EXIT
status=0
for bench in bench-http bench-firing bench-million; do
  say "$bench"
  "$KAIROS_ROOT/scripts/$bench.sh" || status=1
done
say "the table (markdown, for the README)"
printf '| figure | Kairos | reference, same run | ratio | goal |\n| --- | --- | --- | --- | --- |\n'
awk -F'\t' '{ printf "| %s | %s | %s | %s | %s |\n", $1, $2, $3, $4, $5 }' "$KAIROS_BENCH_TABLE"
exit "$status"
