#!/usr/bin/env python3
"""examples/worker.py against a running Kairos (scripts/with-kairos.sh gives KAIROS_URL and
KAIROS_TOKEN): real worker processes claim, heartbeat, complete, fail and give back flows that
real firings posted. Checks, through the API only:

1. three workers drain a 60-flow firing: every flow completed once, the run succeeded;
2. a worker killed with SIGKILL while holding flows: after its lease another worker takes them
   over (attempt 2) and completes each once; the dead worker's tokens are refused;
3. SIGTERM: a worker exits 0 at once, its flows back on the board without using an attempt;
4. a flow that keeps failing is retried after its delay, then failed, and so is its run; an
   unexpected error in the work fails its flow, not the worker; SIGTERM mid long-poll is prompt.
"""

import json
import os
import signal
import subprocess
import sys
import time

from kairos_api import TOKEN, URL, call

WORKER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "examples", "worker.py")


def fire(job, arguments, **keys):
    """A job posting one flow per argument, fired now."""
    body = {"job_id": job, "handler": "FlowScheduling", "when": "2100-01-01 00:00",
            "kwargs": {"flow_name": job, "flow_arguments": arguments}, **keys}
    status, answer = call("POST", "/jobs", body)
    assert status == 201, answer
    status, answer = call("POST", f"/jobs/{job}/run")
    assert status == 201, answer


def flows(job, **query):
    path = f"/flows?job_id={job}&limit=1000" + "".join(f"&{key}={value}" for key, value in query.items())
    return call("GET", path)[1]["flows"]


def flow(flow_id):
    return call("GET", f"/flows/{flow_id}")[1]


def run_status(job):
    return call("GET", f"/jobs/{job}/runs")[1]["runs"][0]["status"]


def worker(*arguments):
    return subprocess.Popen(
        [sys.executable, WORKER, "--url", URL, "--token", TOKEN, *arguments],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def eventually(what, check, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.1)
    raise AssertionError(f"{what}: not within {timeout} s")


def report(process, timeout=60):
    out, err = process.communicate(timeout=timeout)
    assert process.returncode == 0, f"worker exited {process.returncode}: {err}"
    return json.loads(out.strip().splitlines()[-1])


def drain():
    fire("fan-out", [{"n": n, "sleep": 0.02} for n in range(60)])
    workers = [worker("--flow-name", "fan-out", "--batch", "5", "--exit-when-idle", "--worker", f"drain-{i}") for i in range(3)]
    done = [report(process) for process in workers]
    assert sum(item["completed"] for item in done) == 60, done
    completed = flows("fan-out", state="completed")
    assert len(completed) == 60 and {f["arguments"]["n"] for f in completed} == set(range(60)), len(completed)
    assert all(flow(f["id"])["attempt"] == 1 for f in completed)
    assert all(flow(f["id"])["result"] == {"arguments": f["arguments"]} for f in completed[:5])
    eventually("the drained run succeeded", lambda: run_status("fan-out") == "succeeded")
    print(f"drain: 3 workers completed 60 flows, each once ({[item['completed'] for item in done]})")


def takeover():
    fire("takeover", [{"n": n, "sleep": 1} for n in range(4)])
    doomed = worker("--flow-name", "takeover", "--batch", "4", "--lease", "3s", "--worker", "doomed", "--verbose")
    eventually("the doomed worker holds all four", lambda: len(flows("takeover", worker="doomed", state="claimed")) == 4)
    doomed.send_signal(signal.SIGKILL)
    doomed.wait()
    # The tokens it held, as it logged them.
    stale = [json.loads(line) for line in doomed.stderr.read().splitlines() if line.startswith("{")]
    assert len(stale) == 4, stale
    killed_at = time.monotonic()
    heir = worker("--flow-name", "takeover", "--lease", "10s", "--wait", "20s", "--worker", "heir")
    eventually("the heir completed all four", lambda: len(flows("takeover", state="completed")) == 4, timeout=90)
    took = time.monotonic() - killed_at
    for f in flows("takeover"):
        shown = flow(f["id"])
        assert shown["attempt"] == 2 and shown["state"] == "completed", shown
    heir.send_signal(signal.SIGTERM)
    done = report(heir, timeout=20)
    assert done["completed"] == 4, done
    eventually("the taken-over run succeeded", lambda: run_status("takeover") == "succeeded")
    # The dead worker's tokens are stale now: whatever it would say is refused.
    for held in stale:
        status, _ = call("POST", f"/flows/{held['claimed']}/complete", {"lease_token": held["lease_token"], "result": "late"})
        assert status == 409, status
    print(f"takeover: SIGKILLed worker's 4 flows completed by another after {took:.1f} s (lease 3 s), attempt 2, once each;"
          " its tokens refused")


def give_back():
    fire("patient", [{"n": n, "sleep": 60} for n in range(2)])
    leaving = worker("--flow-name", "patient", "--batch", "2", "--worker", "leaving")
    eventually("the leaving worker holds both", lambda: len(flows("patient", worker="leaving", state="claimed")) == 2)
    started = time.monotonic()
    leaving.send_signal(signal.SIGTERM)
    done = report(leaving, timeout=20)
    took = time.monotonic() - started
    assert done["given_back"] == 2 and took < 10, (done, took)
    back = flows("patient", state="unclaimed")
    assert len(back) == 2 and all(flow(f["id"])["attempt"] == 0 for f in back), back
    print(f"give back: SIGTERM, exit 0 after {took:.1f} s, both flows unclaimed again, attempts given back")


def retries():
    fire("flaky", [{"fail": "upstream down"}], max_attempts=2, retry_delay="1s")
    persistent = worker("--flow-name", "flaky", "--flow-name", "buggy", "--wait", "5s", "--worker", "persistent")
    eventually("the flaky flow failed after two attempts", lambda: len(flows("flaky", state="failed")) == 1, timeout=60)
    failed = flow(flows("flaky")[0]["id"])
    assert failed["attempt"] == 2 and failed["error"] == "upstream down", failed
    # A bug in the work fails its flow, not the worker, which goes on to the next.
    fire("buggy", [{"crash": True}, {"n": 1}])
    eventually("the buggy flows ended", lambda: len(flows("buggy", state="failed")) == 1 and len(flows("buggy", state="completed")) == 1)
    assert "KeyError" in flow(flows("buggy", state="failed")[0]["id"])["error"]
    assert persistent.poll() is None, "the worker died of the bug"
    # SIGTERM while it waits for work: it leaves at once, not at the end of its wait.
    started = time.monotonic()
    persistent.send_signal(signal.SIGTERM)
    report(persistent, timeout=20)
    assert time.monotonic() - started < 3, time.monotonic() - started
    eventually("the flaky run failed", lambda: run_status("flaky") == "failed")
    print("retries: failed, retried after its delay, failed for good; the run failed; a bug in the work failed its flow,"
          " not the worker; SIGTERM during a long poll left at once")


if __name__ == "__main__":
    for check in (drain, takeover, give_back, retries):
        check()
    print("worker check: passed")
