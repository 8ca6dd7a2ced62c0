#!/usr/bin/env python3
"""The flow board's benchmarks, against a running Kairos (KAIROS_URL, KAIROS_TOKEN), with worker
processes that talk HTTP/1.1 keep-alive as a real worker fleet would (Python's http.client).
Flows are posted by real firings (one-shot jobs the scheduler fires). Prints one line per figure;
every scenario checks that each flow ended exactly once.

    scripts/bench-board.py batch|single|latency|churn [--workers 8]
"""

import argparse
import multiprocessing
import os
import random
import signal
import statistics
import sys
import time
from datetime import datetime, timezone

from bench_client import Client, percentile


def post_flows(client, job, count, arguments=lambda n: n):
    """A one-shot job posting `count` flows, fired by the scheduler 2 s from now; waits until they are on the board."""
    when = datetime.fromtimestamp(time.time() + 2, timezone.utc).isoformat()
    body = {"job_id": job, "handler": "FlowScheduling", "when": when,
            "kwargs": {"flow_name": job, "flow_arguments": [arguments(n) for n in range(count)]}}
    status, answer = client.call("POST", "/jobs", body)
    assert status == 201, (status, answer)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        status, answer = client.call("GET", f"/flows?job_id={job}&limit=1")
        if answer["flows_count"] == count:
            return
        time.sleep(0.2)
    raise SystemExit(f"{job}: the firing did not post {count} flows in time")


def count(client, job, state):
    return client.call("GET", f"/flows?job_id={job}&state={state}&limit=1")[1]["flows_count"]


def drain_worker(job, limit, batch_complete, start, results):
    """Claims up to `limit`, completes them (one batch call, or one call each), until a claim finds none."""
    client = Client()
    claims, completed, conflicts = [], 0, 0
    start.wait()
    while True:
        began = time.perf_counter()
        status, answer = client.call("POST", "/flows/claim", {"worker": f"bench-{os.getpid()}", "flow_names": [job], "limit": limit, "lease": "60s"})
        claims.append(time.perf_counter() - began)
        assert status == 200, answer
        flows = answer["flows"]
        if not flows:
            break
        if batch_complete:
            status, answer = client.call("POST", "/flows/complete", {"flows": [{"id": f["id"], "lease_token": f["lease_token"], "result": None} for f in flows]})
            assert status == 200, answer
            outcomes = [item["outcome"] for item in answer["flows"]]
            completed += outcomes.count("completed")
            conflicts += len(outcomes) - outcomes.count("completed")
        else:
            for f in flows:
                status, answer = client.call("POST", f"/flows/{f['id']}/complete", {"lease_token": f["lease_token"], "result": None})
                completed += status == 200
                conflicts += status != 200
    results.put((claims, completed, conflicts, time.perf_counter()))


def drain(name, total, limit, batch_complete, workers):
    client = Client()
    post_flows(client, name, total)
    start = multiprocessing.Event()
    results = multiprocessing.Queue()
    processes = [multiprocessing.Process(target=drain_worker, args=(name, limit, batch_complete, start, results)) for _ in range(workers)]
    for process in processes:
        process.start()
    time.sleep(0.5)
    began = time.perf_counter()
    start.set()
    reports = [results.get(timeout=600) for _ in processes]
    for process in processes:
        process.join()
    elapsed = max(report[3] for report in reports) - began
    claims = [latency for report in reports for latency in report[0]]
    completed = sum(report[1] for report in reports)
    conflicts = sum(report[2] for report in reports)
    in_database = count(client, name, "completed")
    ok = completed == total == in_database and conflicts == 0
    print(f"{name}: {total} flows, {workers} workers, claim {limit} / complete {'batch' if batch_complete else 'one'}: "
          f"{total / elapsed:,.0f} flows/s; claim p50 {percentile(claims, 0.5) * 1000:.1f} ms, p99 {percentile(claims, 0.99) * 1000:.1f} ms; "
          f"completed once each: {'yes' if ok else 'NO'} ({completed} by workers, {in_database} in the database, {conflicts} refused)")
    return ok


def waiting_worker(job, start, stop, results):
    client = Client()
    latencies = []
    start.wait()
    while not stop.is_set():
        status, answer = client.call("POST", "/flows/claim", {"worker": f"bench-{os.getpid()}", "flow_names": [job], "limit": 1, "wait": "2s"})
        received = time.time()
        assert status == 200, answer
        for f in answer["flows"]:
            posted = datetime.fromisoformat(f["created_at"].replace("Z", "+00:00")).timestamp()
            latencies.append(received - posted)
            client.call("POST", f"/flows/{f['id']}/complete", {"lease_token": f["lease_token"], "result": None})
    results.put(latencies)


def latency(workers, seconds=10, every=0.01):
    """An idle board, workers long-polling; one flow posted every 10 ms (a manual run of a one-flow job)."""
    name = "latency"
    client = Client()
    when = datetime.fromtimestamp(time.time() + 86_400, timezone.utc).isoformat()
    status, answer = client.call("POST", "/jobs", {"job_id": name, "handler": "FlowScheduling", "when": when,
                                                   "kwargs": {"flow_name": name, "flow_arguments": [None]}})
    assert status == 201, answer
    start, stop = multiprocessing.Event(), multiprocessing.Event()
    results = multiprocessing.Queue()
    processes = [multiprocessing.Process(target=waiting_worker, args=(name, start, stop, results)) for _ in range(workers)]
    for process in processes:
        process.start()
    start.set()
    time.sleep(1)  # every worker waiting
    posted = 0
    next_post = time.perf_counter()
    end = next_post + seconds
    while next_post < end:
        status, answer = client.call("POST", f"/jobs/{name}/run")
        assert status == 201, answer
        posted += 1
        next_post += every
        time.sleep(max(0, next_post - time.perf_counter()))
    deadline = time.monotonic() + 30
    while count(client, name, "completed") < posted and time.monotonic() < deadline:
        time.sleep(0.1)
    stop.set()
    latencies = [value for _ in processes for value in results.get(timeout=60)]
    for process in processes:
        process.join()
    done = count(client, name, "completed")
    ok = done == posted == len(latencies)
    print(f"latency: {posted} flows posted one every {every * 1000:.0f} ms to {workers} waiting workers: post->claim "
          f"p50 {percentile(latencies, 0.5) * 1000:.1f} ms, p99 {percentile(latencies, 0.99) * 1000:.1f} ms, max {max(latencies) * 1000:.1f} ms; "
          f"each claimed once: {'yes' if ok else 'NO'} ({len(latencies)} claims, {done} completed)")
    return ok


def churn_worker(job, log_path):
    """Works until killed: claims, 'works' 1-5 ms, completes, and logs each completion it was told of."""
    client = Client()
    with open(log_path, "a", buffering=1) as log:
        while True:
            status, answer = client.call("POST", "/flows/claim", {"worker": f"churn-{os.getpid()}", "flow_names": [job], "limit": 10, "lease": "2s", "wait": "1s"})
            for f in answer["flows"]:
                time.sleep(random.uniform(0.001, 0.005))
                status, _ = client.call("POST", f"/flows/{f['id']}/complete", {"lease_token": f["lease_token"], "result": None})
                if status == 200:
                    log.write(f"{f['id']}\n")


def churn(workers, seconds=60, total=20_000):
    name = "churn"
    client = Client()
    post_flows(client, name, total)
    log_path = os.path.join(os.environ.get("BENCH_DIR", "/tmp"), f"churn-{os.getpid()}.log")
    open(log_path, "w").close()
    fleet = [multiprocessing.Process(target=churn_worker, args=(name, log_path)) for _ in range(workers)]
    for process in fleet:
        process.start()
    kills = 0
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        time.sleep(random.uniform(1, 3))
        index = random.randrange(len(fleet))
        os.kill(fleet[index].pid, signal.SIGKILL)
        fleet[index].join()
        kills += 1
        fleet[index] = multiprocessing.Process(target=churn_worker, args=(name, log_path))
        fleet[index].start()
    # Let the fleet finish what is left, taking over what killed workers held.
    deadline = time.monotonic() + 120
    while count(client, name, "completed") + count(client, name, "failed") < total and time.monotonic() < deadline:
        time.sleep(0.5)
    for process in fleet:
        os.kill(process.pid, signal.SIGKILL)
        process.join()
    with open(log_path) as log:
        told = [int(line) for line in log if line.strip()]
    twice = len(told) - len(set(told))
    completed, failed = count(client, name, "completed"), count(client, name, "failed")
    lost = total - completed - failed
    ok = twice == 0 and lost == 0
    print(f"churn: {total} flows, {workers} workers for {seconds} s, {kills} killed with SIGKILL and restarted: "
          f"{completed} completed, {failed} failed, {lost} lost, {twice} completed twice: {'ok' if ok else 'NOT OK'}")
    return ok


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("scenario", choices=["batch", "single", "latency", "churn"])
    parser.add_argument("--workers", type=int, default=8)
    parser.add_argument("--seconds", type=int, default=60)
    options = parser.parse_args()
    if options.scenario == "batch":
        ok = drain("batch", 50_000, 100, True, options.workers)
    elif options.scenario == "single":
        ok = drain("single", 20_000, 1, False, options.workers)
    elif options.scenario == "latency":
        ok = latency(options.workers)
    else:
        ok = churn(options.workers, options.seconds)
    sys.exit(0 if ok else 1)
