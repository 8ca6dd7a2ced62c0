#!/usr/bin/env bash
# A million idle jobs: Kairos (release build, default settings) on a database of its own holding
# 1,000,000 running jobs none of which is due soon. Measures boot to ready, the idle process's
# CPU over 20 s, GET /jobs pages (the first, one by offset deep in the listing, one by the keyset
# `after` just as deep), and a burst of 10,000 one-shots due at one instant, fires per second and
# lateness; then the same burst on an empty database, for the comparison.
# Goals: boot to ready <= 2 s; idle CPU < 1 %; pages in constant time; the burst as fast as
# with no idle jobs.
#
#   scripts/bench-million.sh [jobs, default 1000000]
set -euo pipefail
source "$(dirname "$0")/common.sh"
idle_jobs=${1:-1000000}
setup_release_build >/dev/null
pg() { "$KAIROS_ROOT/scripts/postgres.sh" admin-psql "$@"; }
base_url=$DATABASE_URL
pids=()
cleanup() { for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done; }
trap cleanup EXIT

# A database of its own, dropped first: the run command's database is left alone.
fresh_database() {
  pg -c "DROP DATABASE IF EXISTS $1" -c "CREATE DATABASE $1 OWNER kairos" >/dev/null
  DATABASE_URL="${base_url%/*}/$1" .build/release/kairos migrate >/dev/null 2>&1
}

# Starts kairos on database $1; sets `port`, and `boot_ms`, the time from exec to readiness 200.
start_kairos() {
  local log="$KAIROS_ROOT/.bench/million-$1.log" started pid
  started=$(date +%s%N)
  DATABASE_URL="${base_url%/*}/$1" .build/release/kairos serve --port 0 --default-jobs-dir /nonexistent >"$log" 2>&1 &
  pid=$!
  pids+=("$pid")
  port=""
  for _ in $(seq 400); do
    port=$(grep -oE '"port":"?[0-9]+' "$log" 2>/dev/null | head -1 | grep -oE '[0-9]+$' || true)
    if [ -n "$port" ] && curl -sf -o /dev/null "http://127.0.0.1:$port/api/v1/readiness"; then break; fi
    sleep 0.01
  done
  boot_ms=$(( ($(date +%s%N) - started) / 1000000 ))
  kairos_pid=$pid
}

seconds_of() { curl -s -o /dev/null -w '%{time_total}\n' "$1"; }

# 10,000 one-shots due 5 s from now, posted in one request; waits for their flows and prints
# fires/s and lateness from the flows table.
burst() {
  local db=$1 due
  due=$(date -u -d '+5 seconds' +%Y-%m-%dT%H:%M:%SZ)
  awk -v due="$due" 'BEGIN { printf "["; for (i = 0; i < 10000; i++) { if (i) printf ","; printf "{\"job_id\":\"burst-%05d\",\"handler\":\"FlowScheduling\",\"when\":\"%s\",\"kwargs\":{\"flow_name\":\"burstFlow\"}}", i, due }; printf "]" }' \
    | curl -s -o /dev/null -H 'Content-Type: application/json' --data-binary @- "http://127.0.0.1:$port/api/v1/jobs"
  for _ in $(seq 600); do
    [ "$(pg -d "$db" -tAc "SELECT count(*) FROM flows WHERE flow_name = 'burstFlow'")" -ge 10000 ] && break
    sleep 0.1
  done
  pg -d "$db" -tAc "SELECT format('%s flows; all posted %s s after the due time: %s fires/s; lateness p50 %s ms, p99 %s ms',
      count(*), round(extract(epoch FROM max(created_at) - min(scheduled_for))::numeric, 3),
      round(count(*) / extract(epoch FROM max(created_at) - min(scheduled_for))::numeric),
      round(percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM created_at - scheduled_for) * 1000)::numeric, 1),
      round(percentile_cont(0.99) WITHIN GROUP (ORDER BY extract(epoch FROM created_at - scheduled_for) * 1000)::numeric, 1))
    FROM flows WHERE flow_name = 'burstFlow'"
}

say "seeding $idle_jobs idle jobs"
fresh_database kairos_million
pg -d kairos_million -c "INSERT INTO jobs (job_id, handler, kwargs, start_at, interval_us, state, next_run_time, origin)
  SELECT 'idle-' || lpad(n::text, 7, '0'), 'FlowScheduling', '{\"flow_name\": \"idleFlow\"}', now(), 86400000000, 'running',
         now() + interval '1 day' + n * interval '1 millisecond', 'api'
  FROM generate_series(1, $idle_jobs) AS n" -c "VACUUM ANALYZE jobs" >/dev/null

say "boot, idle, pages"
start_kairos kairos_million
echo "boot to ready with $idle_jobs jobs: ${boot_ms} ms (goal <= 2,000)"
cpu_before=$(awk '{print $14 + $15}' "/proc/$kairos_pid/stat")
sleep 20
cpu_after=$(awk '{print $14 + $15}' "/proc/$kairos_pid/stat")
ticks=$(getconf CLK_TCK)
idle_cpu=$(awk -v a="$cpu_before" -v b="$cpu_after" -v t="$ticks" 'BEGIN { printf "%.2f", (b - a) / t / 20 * 100 }')
echo "idle CPU over 20 s: $idle_cpu % of one core (goal < 1 %)"
bench_row "boot to ready with $idle_jobs jobs" "$boot_ms ms" "-" "-" "<= 2,000 ms: $([ "$boot_ms" -le 2000 ] && echo met || echo NOT met)"
bench_row "idle CPU with $idle_jobs jobs" "$idle_cpu % of a core" "-" "-" "< 1 %: $(awk -v c="$idle_cpu" 'BEGIN { print (c < 1 ? "met" : "NOT met") }')"
api="http://127.0.0.1:$port/api/v1"
deep=$((idle_jobs - 2000))
deep_id=$(printf 'idle-%07d' "$deep")
for i in 1 2; do seconds_of "$api/jobs?limit=1000" >/dev/null; done
first_page=$(seconds_of "$api/jobs?limit=1000")
offset_page=$(seconds_of "$api/jobs?limit=1000&offset=$deep")
keyset_page=$(seconds_of "$api/jobs?limit=1000&after=$deep_id")
echo "GET /jobs?limit=1000, first page:              $first_page s"
echo "GET /jobs?limit=1000&offset=$deep:       $offset_page s"
echo "GET /jobs?limit=1000&after=$deep_id: $keyset_page s"
bench_row "GET /jobs?limit=1000, $deep jobs in (keyset after=)" "$keyset_page s" "$first_page s (first page)" \
  "$(awk -v k="$keyset_page" -v f="$first_page" 'BEGIN { printf "%.2f", k / f }')" "constant per page (offset as deep: $offset_page s)"
echo "RSS: $(awk '$1 == "VmRSS:" {printf "%.1f MB", $2 / 1024}' "/proc/$kairos_pid/status")"

fires_per_second() { grep -oE '[0-9]+ fires/s' <<<"$1" | cut -d' ' -f1; }
say "burst of 10,000 one-shots beside $idle_jobs idle jobs"
million_burst=$(burst kairos_million)
echo "$million_burst"
kill -TERM "$kairos_pid"

say "the same burst with no idle jobs"
fresh_database kairos_empty
start_kairos kairos_empty
echo "boot to ready with no jobs: ${boot_ms} ms"
empty_burst=$(burst kairos_empty)
echo "$empty_burst"
kill -TERM "$kairos_pid"
million_rate=$(fires_per_second "$million_burst")
empty_rate=$(fires_per_second "$empty_burst")
bench_row "burst of 10,000 beside $idle_jobs idle jobs" "$million_rate fires/s" "$empty_rate fires/s (no idle jobs)" \
  "$(awk -v m="$million_rate" -v e="$empty_rate" 'BEGIN { printf "%.2f", m / e }')" "as fast as with none (>= 0.90): $(awk -v m="$million_rate" -v e="$empty_rate" 'BEGIN { print (m / e >= 0.9 ? "met" : "NOT met") }')"
pg -c "DROP DATABASE kairos_million" -c "DROP DATABASE kairos_empty" >/dev/null 2>&1 || true
