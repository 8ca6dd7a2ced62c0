#!/usr/bin/env python3
"""Firing as clients see it, against a running Kairos at its default log level (scripts/bench-firing.sh
starts one; KAIROS_URL, KAIROS_TOKEN, KAIROS_SCHEMA). Prints one line per figure.

    burst      10,000 one-shots created in one bulk POST, due at one instant; a poller reads
               GET /flows (keep-alive, as a worker fleet's monitor would) while they fire, and a
               flow's lateness is when the poller first saw it minus the due time. Goal >= 15,000
               fires/s and lateness p99 <= 0.7 s.
    retention  1,000 jobs firing every second beside 10,000,000 old runs; lateness p50/p99 (a flow's
               created_at minus its scheduled_for) over a quiet window (retention-quiet, Kairos
               keeping everything), then while the retention sweep of a Kairos restarted with the
               default retention prunes them (retention-pruned). Goal: p99 within 20 % of the quiet one.

    scripts/bench-firing.py burst|retention-quiet|retention-pruned [--jobs N] [--old-runs N] [--seconds S]
"""

import argparse
import os
import re
import subprocess
import sys
import time
from datetime import datetime, timezone

from bench_client import Client, bench_row, percentile

ROOT = os.environ.get("KAIROS_ROOT", os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SCHEMA = os.environ["KAIROS_SCHEMA"]


def iso(seconds):
    return datetime.fromtimestamp(seconds, timezone.utc).isoformat(timespec="milliseconds")


def sql(statement):
    """One statement in the benchmark's schema, through the project's psql; its output, trimmed."""
    environment = dict(os.environ, PGOPTIONS=f"-c search_path={SCHEMA}")
    done = subprocess.run([f"{ROOT}/scripts/postgres.sh", "psql", "-qAtX", "-v", "ON_ERROR_STOP=1", "-c", statement],
                          env=environment, capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"psql failed: {done.stderr.strip()}")
    return done.stdout.strip()


def create(client, bodies):
    for start in range(0, len(bodies), 10_000):
        status, answer = client.call("POST", "/jobs", bodies[start:start + 10_000])
        assert status == 201, (status, str(answer)[:300])


def burst(jobs):
    client, poller = Client(), Client()
    name = f"burst{int(time.time())}"
    due = time.time() + 4
    due = round(due, 3)
    create(client, [{"job_id": f"{name}-{n}", "handler": "FlowScheduling", "when": iso(due),
                     "kwargs": {"flow_name": name, "flow_arguments": [{"n": n}]}} for n in range(jobs)])
    seen = {}
    polls = 0
    deadline = due + 60
    # Flows are listed in id order, but ids are not handed out in commit order: the scheduler's
    # two firing lanes (and any other replica) commit batches whose ids interleave, so a flow can
    # become visible behind ones already seen. Each look reads on from a window behind what was
    # seen, wider than the batches in flight; a last full read below catches any the window
    # missed (counted late).
    window = 1000
    while len(seen) < jobs and time.time() < deadline:
        offset, fresh = max(0, len(seen) - window), 0
        while True:
            status, answer = poller.call("GET", f"/flows?flow_name={name}&limit=1000&offset={offset}")
            assert status == 200, (status, answer)
            polls += 1
            now = time.time()
            for flow in answer["flows"]:
                if flow["id"] not in seen:
                    seen[flow["id"]] = (now, flow)
                    fresh += 1
            offset += len(answer["flows"])
            if len(answer["flows"]) < 1000:
                break
        if not fresh:
            time.sleep(0.002)
    offset = 0
    while True:
        status, answer = poller.call("GET", f"/flows?flow_name={name}&limit=1000&offset={offset}")
        now = time.time()
        for flow in answer["flows"]:
            seen.setdefault(flow["id"], (now, flow))
        offset += len(answer["flows"])
        if len(answer["flows"]) < 1000:
            break
    jobs_seen = {flow["job_id"] for _, flow in seen.values()}
    lateness = [at - due for at, _ in seen.values()]
    posted = [parse(flow["created_at"]) - due for _, flow in seen.values()]
    last = max(lateness)
    rate = jobs / last
    once = len(seen) == jobs and len(jobs_seen) == jobs
    print(f"burst: {jobs} one-shots due at once, read by a poller ({polls} GET /flows while they fired): "
          f"{len(seen)} flows seen, one per job: {'yes' if once else 'NO'}")
    print(f"  the poller saw the last one {last:.3f} s after the due time: {rate:,.0f} fires/s (goal >= 15,000): "
          f"{'met' if rate >= 15_000 else 'NOT met'}")
    p99 = percentile(lateness, 0.99)
    print(f"  lateness as the poller saw it: first {min(lateness) * 1000:.0f} ms, p50 {percentile(lateness, 0.5) * 1000:.0f} ms, "
          f"p99 {p99 * 1000:.0f} ms (goal <= 700 ms): {'met' if p99 <= 0.7 else 'NOT met'}")
    print(f"  as posted (created_at): p50 {percentile(posted, 0.5) * 1000:.0f} ms, p99 {percentile(posted, 0.99) * 1000:.0f} ms, "
          f"last {max(posted) * 1000:.0f} ms")
    bench_row(f"{jobs:,} one-shots due at once, read by a GET /flows poller", f"{rate:,.0f} fires/s, p99 {p99 * 1000:.0f} ms", "-", "-",
              f">= 15,000/s, p99 <= 700 ms: {'met' if rate >= 15_000 and p99 <= 0.7 else 'NOT met'}")
    return 0 if once else 1


def parse(text):
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def lateness(since, until):
    """p50 and p99 of created_at - scheduled_for, in ms, of the steady jobs' flows scheduled in [since, until)."""
    row = sql(f"""SELECT count(*), coalesce(percentile_cont(0.5) WITHIN GROUP (ORDER BY lag), 0),
                         coalesce(percentile_cont(0.99) WITHIN GROUP (ORDER BY lag), 0)
                  FROM (SELECT extract(epoch FROM created_at - scheduled_for) * 1000 AS lag FROM flows
                        WHERE job_id LIKE 'steady-%' AND scheduled_for >= '{iso(since)}' AND scheduled_for < '{iso(until)}') f""")
    count, p50, p99 = row.split("|")
    return int(count), float(p50), float(p99)


def deleted_runs(client):
    status, text = client.call_text("GET", "/metrics", base="")
    match = re.search(r'^kairos_retention_deleted_total\{kind="runs"\} (\d+)', text, re.M)
    return int(match.group(1)) if match else 0


QUIET = os.path.join(os.environ.get("BENCH_DIR", "/tmp"), "retention-quiet.txt")


def retention_quiet(jobs, old_runs, seconds):
    """Phase one, on a Kairos that keeps everything (KAIROS_RETAIN=forever): the jobs, the old
    runs (vacuumed and checkpointed, so the pruning window does not pay for their insert), then
    the quiet window's lateness, saved for phase two."""
    client = Client()
    start = int(time.time()) + 3
    create(client, [{"job_id": f"steady-{n}", "handler": "FlowScheduling", "when": iso(start), "periodically": "1s",
                     "kwargs": {"flow_name": "heartbeatFlow"}} for n in range(jobs)])
    # A job for the old runs to belong to, never due in the run.
    create(client, [{"job_id": "retention-history", "handler": "FlowScheduling", "when": "2099-01-01T00:00:00Z",
                     "kwargs": {"flow_name": "never"}}])
    inserting = time.time()
    # Old enough for any retention of up to a year: finished in 2025, one a second from its start.
    sql(f"""INSERT INTO runs (job_id, scheduled_for, cause, outcome, claimed_at, started_at, finished_at, status)
            SELECT 'retention-history', t, 'schedule', 'succeeded', t, t, t + interval '1 second', 'succeeded'
            FROM (SELECT timestamptz '2025-01-01' + g * interval '1 second' AS t FROM generate_series(1, {old_runs}) g) s""")
    sql("VACUUM ANALYZE runs")
    subprocess.run([f"{ROOT}/scripts/postgres.sh", "admin-psql", "-c", "CHECKPOINT"], check=True)
    print(f"retention: {old_runs:,} old runs inserted, vacuumed and checkpointed in {time.time() - inserting:.0f} s")
    quiet_from = int(time.time()) + 2
    time.sleep(max(0, quiet_from + seconds - time.time()))
    quiet = lateness(quiet_from, quiet_from + seconds)
    print(f"  {jobs} jobs every second, the old runs kept: {seconds} s, {quiet[0]} flows, lateness p50 {quiet[1]:.1f} ms, p99 {quiet[2]:.1f} ms")
    bench_row(f"steady: {jobs:,} jobs every second, lateness p50 / p99", f"{quiet[1]:.1f} / {quiet[2]:.1f} ms", "-", "-",
              f"p99 <= 20 ms: {'met' if quiet[2] <= 20 else 'NOT met'}")
    with open(QUIET, "w") as out:
        out.write(f"{jobs} {old_runs} {quiet[1]} {quiet[2]}\n")
    return 0


def retention_pruned(cap):
    """Phase two, on a Kairos restarted with the default retention: its sweep at boot finds the
    old runs; lateness while it prunes them, against the quiet window's."""
    with open(QUIET) as saved:
        jobs, old_runs, quiet_p50, quiet_p99 = saved.read().split()
    jobs, old_runs, quiet_p99 = int(jobs), int(old_runs), float(quiet_p99)
    client = Client()
    began = time.time()
    while deleted_runs(client) == 0 and time.time() < began + 60:
        time.sleep(0.1)
    pruning_from = time.time()
    while deleted_runs(client) < old_runs and time.time() < pruning_from + cap:
        time.sleep(0.5)
    pruning_until = time.time()
    deleted = deleted_runs(client)
    # Whole seconds of slots inside the window, after the restart's own catching up.
    since, until = int(pruning_from) + 2, int(pruning_until)
    pruned = lateness(since, until)
    left = int(sql("SELECT count(*) FROM runs WHERE job_id = 'retention-history'"))
    ratio = pruned[2] / quiet_p99 if quiet_p99 > 0 else float("inf")
    elapsed = max(0.001, pruning_until - pruning_from)
    print(f"  the sweep deleted {deleted:,} old runs in {elapsed:.0f} s ({deleted / elapsed:,.0f} rows/s); {left:,} left")
    print(f"  while it pruned ({until - since} s): {pruned[0]} flows, lateness p50 {pruned[1]:.1f} ms, p99 {pruned[2]:.1f} ms "
          f"(quiet: p50 {float(quiet_p50):.1f} ms, p99 {quiet_p99:.1f} ms); p99 ratio {ratio:.2f} (goal <= 1.20): "
          f"{'met' if ratio <= 1.2 else 'NOT met'}")
    bench_row(f"lateness p99, {jobs:,} jobs/s, while {deleted:,} old runs are pruned", f"{pruned[2]:.1f} ms", f"{quiet_p99:.1f} ms quiet",
              f"{ratio:.2f}", f"<= 1.20: {'met' if ratio <= 1.2 else 'NOT met'}")
    return 0 if left == 0 else 1


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("scenario", choices=["burst", "retention-quiet", "retention-pruned"])
    parser.add_argument("--jobs", type=int)
    parser.add_argument("--old-runs", type=int, default=10_000_000)
    parser.add_argument("--seconds", type=int, default=30, help="retention: the quiet window")
    parser.add_argument("--cap", type=int, default=600, help="retention: the longest pruning window measured")
    arguments = parser.parse_args()
    if arguments.scenario == "burst":
        return burst(arguments.jobs or 10_000)
    if arguments.scenario == "retention-quiet":
        return retention_quiet(arguments.jobs or 1_000, arguments.old_runs, arguments.seconds)
    return retention_pruned(arguments.cap)


if __name__ == "__main__":
    sys.exit(main())
