#!/usr/bin/env bash
# The webhook benchmark: 1,000 Webhook jobs due at one instant, delivered to nginx answering
# 204 on loopback. A release build serves with default settings (access logs at info, a token,
# 16 calls at once). Prints deliveries/s (from the due time to the last arrival), lateness p50,
# p99 and max (the arrival at nginx minus the due time), and the process's threads and peak RSS.
# Goal: >= 2,000 deliveries/s and p99 <= 1 s.
#
#   scripts/bench-webhooks.sh [jobs, default 1000]
set -euo pipefail
source "$(dirname "$0")/common.sh"
jobs=${1:-1000}
setup_release_build kairos >/dev/null
ensure_packages nginx-light

work="$KAIROS_ROOT/.bench/webhooks"
rm -rf "$work"
mkdir -p "$work/default_jobs" "$work/nginx"
schema=bench_webhooks
kairos_pid=""
cleanup() {
  [ -n "$kairos_pid" ] && { kill -TERM "$kairos_pid" 2>/dev/null || true; wait "$kairos_pid" 2>/dev/null || true; }
  [ -f "$work/nginx/nginx.pid" ] && kill -QUIT "$(cat "$work/nginx/nginx.pid")" 2>/dev/null || true
  "$KAIROS_ROOT/scripts/postgres.sh" psql -qc "DROP SCHEMA IF EXISTS $schema CASCADE" >/dev/null 2>&1 || true
}
trap cleanup EXIT
"$KAIROS_ROOT/scripts/postgres.sh" psql -qc "DROP SCHEMA IF EXISTS $schema CASCADE; CREATE SCHEMA $schema" >/dev/null 2>&1

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
nginx_port=$(free_port)
sed -e "s|@PORT@|$nginx_port|g" -e "s|@DIR@|$work/nginx|g" bench/nginx-webhooks.conf >"$work/nginx/nginx.conf"
nginx -c "$work/nginx/nginx.conf" -p "$work/nginx"

port=$(free_port)
token="bench-$RANDOM$RANDOM"
PGOPTIONS="-c search_path=$schema" KAIROS_API_TOKENS="$token" KAIROS_DEFAULT_JOBS_DIR="$work/default_jobs" \
  KAIROS_WEBHOOK_ALLOW=127.0.0.1/32 .build/release/kairos serve --port "$port" >"$work/kairos.log" 2>&1 &
kairos_pid=$!
for _ in $(seq 100); do curl -fsS "http://127.0.0.1:$port/api/v1/readiness" >/dev/null 2>&1 && break; sleep 0.2; done

python3 - "$port" "$token" "$nginx_port" "$jobs" "$work/nginx/arrivals.log" "$kairos_pid" <<'PY'
import datetime, http.client, json, sys, time
port, token, nginx_port, count, arrivals, pid = int(sys.argv[1]), sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5], sys.argv[6]
due = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0) + datetime.timedelta(seconds=15)
connection = http.client.HTTPConnection("127.0.0.1", port)
for n in range(count):
    body = {"job_id": f"hook-{n}", "handler": "Webhook", "when": due.isoformat().replace("+00:00", "Z"),
            "kwargs": {"url": f"http://127.0.0.1:{nginx_port}/hook", "secret": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}}
    connection.request("POST", "/api/v1/jobs", json.dumps(body), {"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    response = connection.getresponse()
    response.read()
    assert response.status == 201, response.status
print(f"{count} webhook jobs due at {due.isoformat()}", flush=True)
peak_threads = 0
deadline = due.timestamp() + 60
while time.time() < deadline:
    with open(f"/proc/{pid}/status") as status:
        peak_threads = max(peak_threads, int(next(l for l in status if l.startswith("Threads:")).split()[1]))
    try:
        with open(arrivals) as log:
            if sum(1 for _ in log) >= count:
                break
    except FileNotFoundError:
        pass
    time.sleep(0.05)
with open(f"/proc/{pid}/status") as status:
    fields = dict(l.split(":", 1) for l in status)
times = sorted(float(line.split()[0]) for line in open(arrivals) if line.split()[1:] and line.split()[1] != "-")
ids = [line.split()[1] for line in open(arrivals)]
lateness = [t - due.timestamp() for t in times]
def pick(q): return lateness[min(len(lateness) - 1, int(q * len(lateness)))]
span = times[-1] - due.timestamp()
print(f"delivered {len(times)} of {count} (distinct webhook-ids {len(set(ids))}) in {span:.3f} s after the due time: "
      f"{len(times) / span:,.0f} deliveries/s")
print(f"lateness first {lateness[0] * 1000:.0f} ms, p50 {pick(0.5) * 1000:.0f} ms, p99 {pick(0.99) * 1000:.0f} ms, max {lateness[-1] * 1000:.0f} ms")
print(f"kairos: {peak_threads} threads at most during the run; peak RSS {int(fields['VmHWM'].split()[0]) / 1024:.1f} MiB")
if len(times) != count or len(set(ids)) != count:
    sys.exit("some deliveries were lost or repeated")
PY
