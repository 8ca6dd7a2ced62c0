#!/usr/bin/env python3
"""Drives kairos through a network partition and checks what its clients and jobs see.

Run by scripts/partition-test.sh, which puts PostgreSQL in a network namespace. Here: kairos
starts with a job due every second; clients call the API and readiness without pause; the veth
then drops every packet (iptables DROP both ways, so nothing is reset) for --partition-seconds,
and the network comes back. Goals (issue 12):
  - during the partition no API call takes more than 2 s, and each answers 503 with a reason;
  - readiness says 503 within 3 s of the partition, and every probe answers within 3 s;
  - firing resumes within 2 s of the network's return;
  - no kairos session holds a lock on `jobs` for more than ~15 s after the partition began;
  - every 1 s slot is accounted for exactly once (run, or coalesced into a run), no flow twice.
Prints the measurements, and exits 1 naming every goal missed.
"""
import argparse
import http.client
import json
import os
import subprocess
import sys
import tempfile
import threading
import time

API_GOAL = 2.0
READINESS_GOAL = 3.0
RESUME_GOAL = 2.0
LOCK_GOAL = 17.0  # idle_in_transaction_session_timeout is 15 s; allow the server a moment


class Recorder:
    """Calls made by one kind of client: (start, duration, status, body), on the monotonic clock."""

    def __init__(self):
        self.lock = threading.Lock()
        self.calls = []

    def add(self, start, duration, status, body):
        with self.lock:
            self.calls.append((start, duration, status, body))

    def between(self, begin, end):
        """Calls begun in [begin, end)."""
        with self.lock:
            return [c for c in self.calls if begin <= c[0] < end]

    def overlapping(self, begin, end):
        """Calls under way at any moment of [begin, end): begun in it, or before and still waiting."""
        with self.lock:
            return [c for c in self.calls if c[0] < end and c[0] + c[1] > begin]


def error_of(text):
    """The `error` of a JSON error body, or the text itself when it is not one."""
    try:
        return json.loads(text).get("error", text)
    except (ValueError, AttributeError):
        return text


def call(port, method, path, body=None, timeout=60):
    """One HTTP call on a fresh connection: (duration, status, body); status 0 if it failed."""
    start = time.monotonic()
    try:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
        headers = {"Content-Type": "application/json"} if body is not None else {}
        connection.request(method, path, body=json.dumps(body) if body is not None else None, headers=headers)
        response = connection.getresponse()
        text = response.read().decode("utf-8", "replace")
        connection.close()
        return time.monotonic() - start, response.status, text
    except Exception as error:  # a hang past the timeout, or a reset
        return time.monotonic() - start, 0, repr(error)


def api_client(port, number, recorder, stop):
    """Creates, reads, lists, pauses and deletes jobs of its own, over and over."""
    cycle = 0
    while not stop.is_set():
        job_id = f"client-{number}-{cycle}"
        definition = {"job_id": job_id, "handler": "FlowScheduling", "periodically": "1 hour",
                      "kwargs": {"flow_name": "partitionFlow", "flow_arguments": [{"n": cycle}]}}
        for method, path, body in [
            ("POST", "/api/v1/jobs", definition),
            ("GET", f"/api/v1/jobs/{job_id}", None),
            ("GET", "/api/v1/jobs?job_type=all", None),
            ("PUT", f"/api/v1/jobs/{job_id}?state=paused", None),
            ("DELETE", f"/api/v1/jobs/{job_id}", None),
        ]:
            start = time.monotonic()
            duration, status, text = call(port, method, path, body)
            recorder.add(start, duration, status, text)
            if status == 503:
                time.sleep(0.05)  # a client backing off a little, as clients do
        cycle += 1


def readiness_prober(port, recorder, stop):
    while not stop.is_set():
        start = time.monotonic()
        duration, status, text = call(port, "GET", "/api/v1/readiness")
        recorder.add(start, duration, status, text)
        time.sleep(0.25)


class Database:
    """psql inside the namespace, over its loopback: it answers whatever the veth does."""

    def __init__(self, namespace, psql):
        self.base = ["ip", "netns", "exec", namespace, psql, "-X", "-q", "-At", "-h", "127.0.0.1",
                     "-U", "postgres", "-d", "kairos", "-c"]

    def query(self, sql):
        result = subprocess.run(self.base + [sql], capture_output=True, text=True, timeout=30)
        if result.returncode != 0:
            raise RuntimeError(f"psql failed: {result.stderr.strip()}")
        return [line.split("|") for line in result.stdout.splitlines() if line]


def lock_watcher(database, samples, stop):
    """Every half second: how many kairos sessions hold a lock on `jobs` (row locks included)."""
    while not stop.is_set():
        try:
            rows = database.query(
                "SELECT count(DISTINCT l.pid) FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
                "WHERE a.application_name LIKE 'kairos%' AND l.relation = 'jobs'::regclass")
            samples.append((time.monotonic(), int(rows[0][0])))
        except Exception as error:
            samples.append((time.monotonic(), -1))
            print(f"lock watcher: {error}", file=sys.stderr)
        time.sleep(0.5)


def iptables(namespace, action, interface):
    for chain, direction in [("INPUT", "-i"), ("OUTPUT", "-o")]:
        subprocess.run(["ip", "netns", "exec", namespace, "iptables", action, chain, direction, interface, "-j", "DROP"],
                       check=True)


def start_kairos(binary, database_url, jobs_directory, log_path):
    environment = dict(os.environ, DATABASE_URL=database_url, KAIROS_PORT="0", KAIROS_DEFAULT_JOBS_DIR=jobs_directory,
                       KAIROS_LOG_LEVEL="info")
    log = open(log_path, "w")
    process = subprocess.Popen([binary, "serve"], env=environment, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        with open(log_path) as lines:
            for line in lines:
                try:
                    entry = json.loads(line)
                except ValueError:
                    continue
                if entry.get("message") == "listening":
                    port = int(entry["port"])
                    while time.monotonic() < deadline:
                        if call(port, "GET", "/api/v1/readiness", timeout=5)[1] == 200:
                            return process, port
                        time.sleep(0.1)
        time.sleep(0.1)
    process.kill()
    raise RuntimeError("kairos did not become ready; its log: " + open(log_path).read()[-3000:])


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--kairos", required=True)
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--namespace", required=True)
    parser.add_argument("--namespace-interface", required=True)
    parser.add_argument("--psql", required=True)
    parser.add_argument("--partition-seconds", type=float, default=120)
    arguments = parser.parse_args()

    database = Database(arguments.namespace, arguments.psql)
    work = tempfile.mkdtemp(prefix="kairos-partition-")
    with open(os.path.join(work, "tick.yaml"), "w") as job:
        job.write("job_id: tick\nhandler: FlowScheduling\nperiodically: 1s\nmisfire_grace_time: 1s\n"
                  "flow_name: tickFlow\nflow_arguments:\n  - null\n")
    log_path = os.path.join(work, "kairos.log")
    process, port = start_kairos(arguments.kairos, arguments.database_url, work, log_path)

    stop = threading.Event()
    api, readiness, locks = Recorder(), Recorder(), []
    threads = [threading.Thread(target=api_client, args=(port, n, api, stop)) for n in range(4)]
    threads.append(threading.Thread(target=readiness_prober, args=(port, readiness, stop)))
    threads.append(threading.Thread(target=lock_watcher, args=(database, locks, stop)))
    for thread in threads:
        thread.daemon = True
        thread.start()

    failures = []
    try:
        time.sleep(5)  # traffic flowing, jobs firing
        partitioned = time.monotonic()
        iptables(arguments.namespace, "-I", arguments.namespace_interface)
        print(f"partitioned for {arguments.partition_seconds:.0f} s")
        time.sleep(arguments.partition_seconds)
        healed_wall = time.time()
        healed = time.monotonic()
        iptables(arguments.namespace, "-D", arguments.namespace_interface)
        print("network back")
        time.sleep(10)
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=90)
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            failures.append("kairos did not stop within 30 s of SIGTERM")

    # API calls under way at any moment of the partition, including any begun before it.
    during = api.overlapping(partitioned, healed)
    slowest = max((c[1] for c in during), default=0.0)
    statuses = {}
    for c in during:
        statuses[c[2]] = statuses.get(c[2], 0) + 1
    print(f"API calls during the partition: {len(during)}, slowest {slowest:.2f} s, statuses {statuses}")
    if not during:
        failures.append("no API call was made during the partition")
    if slowest > API_GOAL:
        failures.append(f"an API call during the partition took {slowest:.2f} s (goal: {API_GOAL} s)")
    # Calls begun a moment after the partition cannot have succeeded; each says why it failed.
    settled = [c for c in during if c[0] > partitioned + API_GOAL and c[0] + c[1] < healed]
    unanswered = [c for c in settled if c[2] != 503 or error_of(c[3]) == c[3]]
    if unanswered:
        failures.append(f"{len(unanswered)} calls in the partition were not a 503 with a reason, e.g. {unanswered[0][2]} {unanswered[0][3][:200]}")
    reasons = sorted({error_of(c[3]) for c in settled if c[2] == 503})
    print("503 reasons: " + "; ".join(reasons))

    # Readiness.
    probes = readiness.overlapping(partitioned, healed)
    slowest_probe = max((c[1] for c in probes), default=0.0)
    first_503 = min((c[0] + c[1] for c in probes if c[2] == 503 and c[0] >= partitioned), default=None)
    said = None if first_503 is None else first_503 - partitioned
    print(f"readiness probes during the partition: {len(probes)}, slowest {slowest_probe:.2f} s, "
          f"first 503 after {'never' if said is None else f'{said:.2f} s'}")
    if slowest_probe > READINESS_GOAL:
        failures.append(f"a readiness probe took {slowest_probe:.2f} s (goal: {READINESS_GOAL} s)")
    if said is None or said > READINESS_GOAL:
        failures.append(f"readiness did not say 503 within {READINESS_GOAL} s of the partition")
    late_ready = [c for c in probes if c[0] > partitioned + READINESS_GOAL and c[0] + c[1] < healed and c[2] != 503]
    if late_ready:
        first = late_ready[0]
        failures.append(f"{len(late_ready)} readiness probes in the partition did not answer 503, e.g. one begun "
                        f"{first[0] - partitioned:.2f} s in, after {first[1]:.2f} s: {first[2]} {first[3][:200]}")
    after = readiness.between(healed + 5, healed + 10)
    if not after or any(c[2] != 200 for c in after):
        failures.append("readiness was not 200 again 5 s after the network came back")

    # Locks held by sessions whose client is gone.
    window = [(t, count) for (t, count) in locks if partitioned <= t < healed]
    if not window or any(count < 0 for (_, count) in window):
        failures.append(f"the lock watcher could not look: {sum(1 for (_, c) in window if c < 0)} of {len(window)} samples failed")
    held = [t for (t, count) in window if count > 0]
    last_held = (max(held) - partitioned) if held else 0.0
    print(f"kairos sessions holding locks on jobs: last seen {last_held:.1f} s into the partition")
    if last_held > LOCK_GOAL:
        failures.append(f"a kairos session held a lock on jobs {last_held:.1f} s into the partition (goal: ~15 s)")

    # Firing resumed, and every slot accounted for once.
    resumed = database.query(
        f"SELECT extract(epoch FROM min(claimed_at)) FROM runs WHERE job_id = 'tick' AND claimed_at > to_timestamp({healed_wall})")
    if not resumed or not resumed[0][0]:
        failures.append("no firing after the network came back")
    else:
        delay = float(resumed[0][0]) - healed_wall
        print(f"firing resumed {delay:.2f} s after the network came back")
        if delay > RESUME_GOAL:
            failures.append(f"firing resumed {delay:.2f} s after the network came back (goal: {RESUME_GOAL} s)")
    slots = database.query(
        "SELECT count(*), count(DISTINCT scheduled_for), coalesce(sum(1 + coalesced_slots), 0), "
        "extract(epoch FROM max(scheduled_for) - (SELECT start_at FROM jobs WHERE job_id = 'tick'))::bigint + 1, "
        "count(*) FILTER (WHERE outcome NOT IN ('succeeded', 'missed')), "
        "count(*) FILTER (WHERE outcome = 'succeeded') FROM runs WHERE job_id = 'tick'")[0]
    runs, distinct, accounted, expected, odd, succeeded = (int(v) for v in slots)
    flows = database.query(
        "SELECT count(*), count(DISTINCT scheduled_for) FROM flows WHERE job_id = 'tick'")[0]
    flow_count, flow_slots = int(flows[0]), int(flows[1])
    print(f"slots: {expected} due, {accounted} accounted for by {runs} runs ({succeeded} posted a flow); {flow_count} flows")
    if distinct != runs:
        failures.append(f"{runs - distinct} slots were fired twice")
    if accounted != expected:
        failures.append(f"{expected - accounted} slots were lost (due {expected}, accounted for {accounted})")
    if odd:
        failures.append(f"{odd} runs neither succeeded nor were missed")
    if flow_count != flow_slots or flow_count != succeeded:
        failures.append(f"flows do not match the runs: {flow_count} flows for {flow_slots} slots, {succeeded} successful runs")

    if failures:
        print("FAILED:\n  " + "\n  ".join(failures), file=sys.stderr)
        print("kairos's log (last lines):\n" + "".join(open(log_path).readlines()[-40:]), file=sys.stderr)
        sys.exit(1)
    print("partition goals met")


if __name__ == "__main__":
    main()
