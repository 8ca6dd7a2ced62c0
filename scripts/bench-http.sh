#!/usr/bin/env bash
# The HTTP benchmark: wrk -t2 -c64 -d10s against GET /api/v1/liveness on Kairos, then against
# nginx serving the same fixed {} on loopback, in one run. Prints requests/s, p99 latency, and
# the ratio. Target: Kairos at least half of nginx's requests/s, p99 under 5 ms.
#
#   scripts/bench-http.sh [duration, default 10s]
#
# Both servers run without access logs (Kairos at --log-level warning, nginx access_log off),
# so the comparison is of the HTTP stacks.
set -euo pipefail
source "$(dirname "$0")/common.sh"
duration=${1:-10s}
setup_release_build >/dev/null
ensure_packages wrk nginx-light

dir="$KAIROS_ROOT/.bench/nginx"
mkdir -p "$dir"
kairos_log="$KAIROS_ROOT/.bench/kairos.log"
cleanup() {
  [ -n "${kairos_pid:-}" ] && kill -TERM "$kairos_pid" 2>/dev/null || true
  [ -f "$dir/nginx.pid" ] && kill -QUIT "$(cat "$dir/nginx.pid")" 2>/dev/null || true
}
trap cleanup EXIT

.build/release/kairos serve --port 0 --log-level warning >"$kairos_log" 2>&1 &
kairos_pid=$!
# The listening line is logged at notice, below warning: ask the kernel instead.
kairos_port=""
for _ in $(seq 100); do
  kairos_port=$(ss -ltnpH 2>/dev/null | grep "pid=$kairos_pid," | grep -oE '127\.0\.0\.1:[0-9]+' | head -1 | cut -d: -f2 || true)
  [ -n "$kairos_port" ] && break
  sleep 0.1
done
[ -n "$kairos_port" ] || die "kairos did not start: $(cat "$kairos_log")"

nginx_port=$((kairos_port + 1))
while (exec 3<>"/dev/tcp/127.0.0.1/$nginx_port") 2>/dev/null; do nginx_port=$((nginx_port + 1)); done
sed -e "s|@PORT@|$nginx_port|g" -e "s|@DIR@|$dir|g" bench/nginx.conf >"$dir/nginx.conf"
nginx -c "$dir/nginx.conf" -p "$dir"
sleep 0.5

# Requests/s and p99 in milliseconds from a wrk --latency report.
measure() {
  local report rps p99
  report=$(wrk -t2 -c64 -d"$duration" --latency "$1")
  rps=$(awk '/Requests\/sec/ {print $2}' <<<"$report")
  p99=$(awk '$1 == "99%" {v=$2; if (v ~ /us$/) {sub(/us$/,"",v); v/=1000} else if (v ~ /ms$/) {sub(/ms$/,"",v)} else if (v ~ /s$/) {sub(/s$/,"",v); v*=1000}; printf "%.2f", v}' <<<"$report")
  echo "$rps $p99"
}

say "warming up"
wrk -t2 -c64 -d2s "http://127.0.0.1:$kairos_port/api/v1/liveness" >/dev/null
wrk -t2 -c64 -d2s "http://127.0.0.1:$nginx_port/" >/dev/null
say "measuring ($duration each, wrk -t2 -c64)"
read -r kairos_rps kairos_p99 < <(measure "http://127.0.0.1:$kairos_port/api/v1/liveness")
read -r nginx_rps nginx_p99 < <(measure "http://127.0.0.1:$nginx_port/")

printf '\nmachine: %s cores, %s, %s\n' "$(nproc)" "$(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo)" "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
printf '%-8s %14s %10s\n' server "requests/s" "p99 (ms)"
printf '%-8s %14.0f %10s\n' kairos "$kairos_rps" "$kairos_p99"
printf '%-8s %14.0f %10s\n' nginx "$nginx_rps" "$nginx_p99"
awk -v k="$kairos_rps" -v n="$nginx_rps" -v p="$kairos_p99" 'BEGIN {
  ratio = k / n
  printf "ratio kairos/nginx: %.2f (target >= 0.50): %s\n", ratio, (ratio >= 0.5 ? "met" : "NOT met")
  printf "kairos p99: %s ms (target < 5 ms): %s\n", p, (p < 5 ? "met" : "NOT met")
}'
