#!/usr/bin/env python3
"""Webhooks end to end, against real kairos processes and real receivers, judged by a client
nobody here wrote: every request a receiver gets is verified with the Standard Webhooks
reference implementation (PyPI `standardwebhooks`).

  1. signed deliveries verify; 500 twice then 200 is three attempts with one webhook-id;
  2. https to a server whose certificate no CA signed is refused (no request reaches it);
  3. kill -9 of kairos while the receiver holds a request open for 5 s: a second process
     delivers again once the lease runs out, with the same webhook-id, and the run ends
     `succeeded` once;
  4. receivers that hold every call slot for 30 s beside 100 one-second jobs: those jobs'
     firing lateness stays as it was without them.

Usage: webhook-check.py KAIROS_BINARY (DATABASE_URL in the environment; psql on PATH).
"""
import http.server
import json
import os
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

from standardwebhooks.webhooks import Webhook

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
SCHEMA = "webhook_check"
TOKEN = "webhook-check-token"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def psql(sql):
    out = subprocess.run(["psql", os.environ["DATABASE_URL"], "-XAtqc", f"SET search_path = {SCHEMA}; {sql}"],
                         check=True, capture_output=True, text=True)
    return out.stdout.strip()


class Receiver:
    """Records every request, verifies it with the reference, answers as its path says."""

    def __init__(self, tls_context=None):
        self.lock = threading.Lock()
        self.arrivals = []  # (path, headers, body, verified, monotonic time)
        self.seen = {}  # webhook-id -> count
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                headers = {k: v for k, v in self.headers.items()}
                try:
                    Webhook(SECRET).verify(body, headers)
                    verified = True
                except Exception as error:  # noqa: BLE001 - what failed is the finding
                    verified = f"{type(error).__name__}: {error}"
                msg_id = self.headers.get("webhook-id")
                with receiver.lock:
                    previous = receiver.seen.get((self.path, msg_id), 0)
                    receiver.seen[(self.path, msg_id)] = previous + 1
                    receiver.arrivals.append((self.path, headers, body, verified, time.monotonic()))
                status = 200
                if self.path == "/flaky" and previous < 2:
                    status = 500
                elif self.path == "/hold":
                    time.sleep(5)
                elif self.path == "/slow":
                    time.sleep(30)
                try:
                    self.send_response(status)
                    self.send_header("Content-Length", "2")
                    self.end_headers()
                    self.wfile.write(b"ok")
                except OSError:
                    pass  # the caller is gone (killed on purpose)

            do_PUT = do_POST

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        if tls_context:
            self.server.socket = tls_context.wrap_socket(self.server.socket, server_side=True)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def on(self, path):
        with self.lock:
            return [a for a in self.arrivals if a[0] == path]


class Kairos:
    def __init__(self, binary, log_path):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = dict(os.environ, PGOPTIONS=f"-c search_path={SCHEMA}", KAIROS_API_TOKENS=TOKEN,
                   KAIROS_WEBHOOK_ALLOW="127.0.0.1/32", KAIROS_WEBHOOK_LEASE_MARGIN="1s",
                   KAIROS_DEFAULT_JOBS_DIR=tempfile.mkdtemp())
        self.log = open(log_path, "ab")
        self.process = subprocess.Popen([binary, "serve", "--port", str(self.port), "--log-level", "warning"],
                                        env=env, stdout=self.log, stderr=self.log)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if self.call("GET", "/api/v1/readiness")[0] == 200:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        raise SystemExit(f"kairos on {self.port} did not become ready; see {log_path}")

    def call(self, method, path, body=None):
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.url + path, data=data, method=method,
                                         headers={"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, json.loads(response.read() or b"null")
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read() or b"null")

    def job(self, job_id, kwargs, **keys):
        status, answer = self.call("POST", "/api/v1/jobs", dict({"job_id": job_id, "handler": "Webhook", "kwargs": kwargs}, **keys))
        if status not in (200, 201):
            check(False, f"creating {job_id}: {status} {answer}")

    def runs(self, job_id):
        return self.call("GET", f"/api/v1/jobs/{job_id}/runs")[1]["runs"]

    def stop(self, sig=signal.SIGTERM):
        self.process.send_signal(sig)
        self.process.wait(timeout=30)


failures = []


def check(condition, message):
    print(("ok   " if condition else "FAIL ") + message, flush=True)
    if not condition:
        failures.append(message)


def wait_for(predicate, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return predicate()


def signed_and_retried(kairos, receiver):
    base = f"http://127.0.0.1:{receiver.port}"
    kairos.job("signed", {"url": base + "/ok", "secret": SECRET, "headers": {"X-Check": "1"}})
    kairos.job("custom", {"url": base + "/ok", "secret": SECRET, "method": "PUT", "body": {"hello": ["wörld", 1.5, None]}})
    kairos.job("flaky", {"url": base + "/flaky", "secret": SECRET, "max_attempts": 3, "retry_delay": "1s"})
    check(wait_for(lambda: len(receiver.on("/flaky")) >= 3 and len(receiver.on("/ok")) >= 2, 60), "deliveries arrived")
    arrivals = receiver.on("/ok") + receiver.on("/flaky")
    bad = [a[3] for a in arrivals if a[3] is not True]
    check(not bad, f"the reference verified all {len(arrivals)} signatures ({bad[:2]})")
    flaky_ids = {a[1].get("webhook-id") for a in receiver.on("/flaky")}
    check(len(receiver.on("/flaky")) == 3 and len(flaky_ids) == 1, f"500 twice then 200: three attempts, one webhook-id ({flaky_ids})")
    check(wait_for(lambda: kairos.runs("flaky")[0]["status"] == "succeeded", 20), "the flaky run succeeded")
    statuses = [a["status_code"] for a in kairos.runs("flaky")[0]["delivery"]["attempts"]]
    check(statuses == [500, 500, 200], f"each attempt is recorded on the run: {statuses}")
    custom = [a for a in receiver.on("/ok") if json.loads(a[2]) == {"hello": ["wörld", 1.5, None]}]
    check(len(custom) == 1, "a job's own body is sent (and signed) as given")
    _, jobs = kairos.call("GET", "/api/v1/jobs")
    check(SECRET not in json.dumps(jobs), "no answer shows a secret")


def self_signed_refused(kairos, work):
    key, cert = os.path.join(work, "key.pem"), os.path.join(work, "cert.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert, "-days", "1",
                    "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"], check=True, capture_output=True)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    tls = Receiver(tls_context=context)
    kairos.job("untrusted", {"url": f"https://127.0.0.1:{tls.port}/ok", "max_attempts": 1})
    check(wait_for(lambda: kairos.runs("untrusted") and kairos.runs("untrusted")[0]["status"] == "failed", 30),
          "https to a self-signed certificate fails")
    error = (kairos.runs("untrusted")[0]["delivery"]["attempts"] or [{}])[0].get("error") or ""
    check("certificate" in error.lower() or "ssl" in error.lower(), f"... for its certificate: {error}")
    check(not tls.on("/ok"), "... and no request reached it")


def killed_mid_call(binary, receiver, log_path):
    first = Kairos(binary, log_path)
    first.job("held", {"url": f"http://127.0.0.1:{receiver.port}/hold", "timeout": "10s", "secret": SECRET})
    check(wait_for(lambda: len(receiver.on("/hold")) >= 1, 30), "the held call arrived")
    first.stop(signal.SIGKILL)
    killed_at = time.monotonic()
    second = Kairos(binary, log_path)
    try:
        check(wait_for(lambda: len(receiver.on("/hold")) >= 2, 40), "after kill -9, another process called again")
        held = receiver.on("/hold")
        check(len({a[1].get("webhook-id") for a in held}) == 1, "... with the same webhook-id")
        check(held[1][4] - killed_at < 25, f"... once the lease ran out ({held[1][4] - killed_at:.1f} s after the kill)")
        check(all(a[3] is True for a in held), "... signed both times")
        check(wait_for(lambda: second.runs("held")[0]["status"] == "succeeded", 20), "the run ended succeeded")
        runs = second.runs("held")
        check(len(runs) == 1 and runs[0]["delivery"]["attempts_made"] == 2, f"one run, two attempts made: {runs[0]['delivery']}")
        time.sleep(2)
        check(len(receiver.on("/hold")) == 2, "and no third call")
    finally:
        second.stop()


def lateness_p99(since, until):
    value = psql("SELECT coalesce(percentile_cont(0.99) WITHIN GROUP (ORDER BY extract(epoch FROM created_at - scheduled_for)), 0) "
                 f"FROM flows WHERE scheduled_for >= '{since}' AND scheduled_for < '{until}'")
    return float(value)


def slow_targets_beside_jobs(kairos, receiver):
    for n in range(100):
        status, answer = kairos.call("POST", "/api/v1/jobs", {"job_id": f"tick-{n}", "handler": "FlowScheduling",
                                                              "periodically": "1s", "kwargs": {"flow_name": "tick"}})
        if status != 201:
            check(False, f"creating tick-{n}: {status} {answer}")
    time.sleep(2)
    start = psql("SELECT now()")
    time.sleep(6)
    middle = psql("SELECT now()")
    # Enough calls that each holds a slot for 30 s, every slot of the dispatcher taken.
    for n in range(20):
        kairos.job(f"slow-{n}", {"url": f"http://127.0.0.1:{receiver.port}/slow", "timeout": "60s"}, periodically="1s", overlap="skip")
    check(wait_for(lambda: len(receiver.on("/slow")) >= 16, 20), "slow targets hold every call slot")
    time.sleep(6)
    end = psql("SELECT now()")
    before, beside = lateness_p99(start, middle), lateness_p99(middle, end)
    print(f"     one-second jobs' firing lateness p99: {before * 1000:.1f} ms alone, {beside * 1000:.1f} ms beside slow webhooks")
    check(beside <= max(2 * before, before + 0.05), "a slow target does not delay other jobs' firings")


def main():
    binary = sys.argv[1]
    work = tempfile.mkdtemp()
    log_path = os.path.join(work, "kairos.log")
    psql(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE; CREATE SCHEMA {SCHEMA}")
    receiver = Receiver()
    try:
        kairos = Kairos(binary, log_path)
        try:
            signed_and_retried(kairos, receiver)
            self_signed_refused(kairos, work)
        finally:
            kairos.stop()
        killed_mid_call(binary, receiver, log_path)
        kairos = Kairos(binary, log_path)
        try:
            slow_targets_beside_jobs(kairos, receiver)
        finally:
            kairos.process.kill()
            kairos.process.wait()
    finally:
        psql(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE")
    with open(log_path, "rb") as log:
        errors = [line for line in log.read().decode(errors="replace").splitlines() if '"level":"error"' in line or '"level":"critical"' in line]
    check(not errors, f"kairos logged no errors ({errors[:3]})")
    if failures:
        print(f"{len(failures)} check(s) failed; kairos's log: {log_path}")
        sys.exit(1)


if __name__ == "__main__":
    main()
