#!/usr/bin/env python3
"""A Kairos worker in plain Python (standard library only): copy it and put your work in `work()`.

It long-polls the flow board for flows it can run, heartbeats while it works on one, completes
it with a result or fails it with an error (Kairos retries it if the job allows more attempts),
and on SIGTERM or Ctrl-C gives back whatever it still holds and exits 0.

    KAIROS_URL=http://127.0.0.1:34000 KAIROS_TOKEN=... python3 examples/worker.py --flow-name bayesianFlow

The demo `work()` understands two arguments, so you can watch the board's rules: `{"sleep": 5}`
works five seconds (heartbeating), `{"fail": "why"}` fails (`"final": true` asks for no retry),
`{"crash": true}` raises an unexpected error (which fails the flow, and the worker goes on).
"""

import argparse
import json
import os
import signal
import socket
import sys
import threading
import time
import http.client
import traceback
import urllib.parse


class Stopping(Exception):
    """SIGTERM or Ctrl-C arrived: give the flows back and leave."""


class LeaseLost(Exception):
    """Kairos answered 409: another worker holds this flow now; drop it without a word."""


class Board:
    """The flow board's HTTP calls, over one keep-alive connection. Not shared between threads:
    the heartbeat thread has a board of its own."""

    def __init__(self, url, token, timeout=90):
        self.url = url
        parts = urllib.parse.urlsplit(url)
        self.host, self.port, self.https = parts.hostname, parts.port, parts.scheme == "https"
        self.prefix = parts.path.rstrip("/") + "/api/v1/flows"
        self.token = token
        self.timeout = timeout
        self.connection = None

    def call(self, path, body):
        if self.connection is None:
            kind = http.client.HTTPSConnection if self.https else http.client.HTTPConnection
            self.connection = kind(self.host, self.port, timeout=self.timeout)
        headers = {"Content-Type": "application/json", **({"auth-token": self.token} if self.token else {})}
        try:
            self.connection.request("POST", self.prefix + path, json.dumps(body), headers)
            response = self.connection.getresponse()
            detail = response.read()
        except (OSError, http.client.HTTPException):
            self.close()
            raise
        if response.status == 409:
            raise LeaseLost(detail.decode(errors="replace"))
        if response.status != 200:
            raise Unavailable(f"POST {path}: {response.status} {detail.decode(errors='replace')}")
        return json.loads(detail)

    def interrupt(self):
        """Ends a call under way at once (from a signal handler): the server gives back what a
        claim it interrupts had taken."""
        if self.connection is not None and self.connection.sock is not None:
            try:
                self.connection.sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def close(self):
        if self.connection is not None:
            self.connection.close()
            self.connection = None

    def claim(self, worker, flow_names, limit, lease, wait):
        body = {"worker": worker, "limit": limit, "lease": lease, "wait": wait}
        if flow_names:
            body["flow_names"] = flow_names
        return self.call("/claim", body)["flows"]

    def heartbeat(self, flow, progress=None):
        body = {"lease_token": flow["lease_token"]}
        if progress is not None:
            body["progress"] = progress
        return self.call(f"/{flow['id']}/heartbeat", body)

    def complete(self, flow, result):
        return self.call(f"/{flow['id']}/complete", {"lease_token": flow["lease_token"], "result": result})

    def fail(self, flow, error, retry=True):
        return self.call(f"/{flow['id']}/fail", {"lease_token": flow["lease_token"], "error": error, "retry": retry})

    def abandon(self, flow):
        return self.call(f"/{flow['id']}/abandon", {"lease_token": flow["lease_token"]})


class Unavailable(Exception):
    """Kairos did not answer 200 (a 503 while it restarts, say); worth trying again later."""


class Heartbeats(threading.Thread):
    """Extends the lease of the flow being worked on, every third of its length."""

    def __init__(self, board, flow, every):
        super().__init__(daemon=True)
        # A connection of its own: the main thread's may be in the middle of a call.
        self.board, self.flow, self.every = Board(board.url, board.token), flow, every
        self.done = threading.Event()
        self.lost = threading.Event()

    def run(self):
        while not self.done.wait(self.every):
            try:
                self.board.heartbeat(self.flow)
            except LeaseLost:
                self.lost.set()
                return
            except Exception as error:  # the next beat may get through
                print(f"heartbeat for flow {self.flow['id']} failed: {error}", file=sys.stderr)
        self.board.close()


def work(flow, stopping):
    """Your work goes here. Return the result (any JSON); raise to fail the flow."""
    arguments = flow["arguments"] if isinstance(flow["arguments"], dict) else {}
    deadline = time.monotonic() + float(arguments.get("sleep", 0))
    while time.monotonic() < deadline:
        if stopping.is_set():
            raise Stopping()
        time.sleep(0.05)
    if "fail" in arguments:
        raise WorkFailed(str(arguments["fail"]), retry=not arguments.get("final", False))
    if "crash" in arguments:
        return {}["a bug in the work"]  # any exception fails the flow, not the worker
    return {"arguments": flow["arguments"]}


class WorkFailed(Exception):
    def __init__(self, message, retry=True):
        super().__init__(message)
        self.retry = retry


def seconds(text):
    """'30s', '2m' or a number of seconds, as the worker's own timers need it."""
    text = str(text).strip()
    units = {"s": 1, "m": 60, "h": 3600}
    return float(text[:-1]) * units[text[-1]] if text[-1] in units else float(text)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", default=os.environ.get("KAIROS_URL", "http://127.0.0.1:34000"))
    parser.add_argument("--token", default=os.environ.get("KAIROS_TOKEN", ""))
    parser.add_argument("--worker", default=f"{socket.gethostname()}/pid-{os.getpid()}")
    parser.add_argument("--flow-name", action="append", dest="flow_names", help="a flow this worker runs (repeat); any when omitted")
    parser.add_argument("--batch", type=int, default=1, help="flows claimed per call (1 to 1000)")
    parser.add_argument("--lease", default="30s", help="how long a claim holds a flow before another worker may take it")
    parser.add_argument("--wait", default="30s", help="how long a claim waits for work (at most 60s)")
    parser.add_argument("--exit-when-idle", action="store_true", help="exit 0 once a claim finds no work")
    parser.add_argument("--verbose", action="store_true", help="log each flow claimed, with its lease token, to stderr")
    options = parser.parse_args()

    board = Board(options.url, options.token)
    stopping = threading.Event()
    polling = threading.Event()

    def stop(signum, frame):
        stopping.set()
        if polling.is_set():
            board.interrupt()  # a long poll ends now; Kairos gives back what it had just claimed

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)

    held = []  # claimed and not reported on yet
    completed = 0
    backoff = 0.5
    while not stopping.is_set():
        polling.set()
        try:
            held = board.claim(options.worker, options.flow_names, options.batch, options.lease,
                               "0s" if options.exit_when_idle else options.wait)
            backoff = 0.5
        except (OSError, http.client.HTTPException, Unavailable) as error:
            if stopping.is_set():
                break
            print(f"claim failed, trying again in {backoff:.1f} s: {error}", file=sys.stderr)
            time.sleep(backoff)
            backoff = min(backoff * 2, 10)
            continue
        finally:
            polling.clear()
        for flow in held if options.verbose else []:
            print(json.dumps({"claimed": flow["id"], "attempt": flow["attempt"], "lease_token": flow["lease_token"]}),
                  file=sys.stderr, flush=True)
        if not held and options.exit_when_idle:
            break
        while held and not stopping.is_set():
            flow = held[0]
            beats = Heartbeats(board, flow, seconds(options.lease) / 3)
            beats.start()
            try:
                outcome = ("complete", work(flow, stopping))
            except Stopping:
                break  # given back below
            except WorkFailed as failure:
                outcome = ("fail", str(failure), failure.retry)
            except Exception:
                # Any other error in the work fails the flow (retried if the job allows), rather
                # than the worker: a flow that crashes workers would otherwise crash them all.
                outcome = ("fail", traceback.format_exc(limit=5), True)
            finally:
                beats.done.set()
            try:
                if not beats.lost.is_set():
                    if outcome[0] == "complete":
                        board.complete(flow, outcome[1])
                        completed += 1
                    else:
                        board.fail(flow, outcome[1], retry=outcome[2])
            except LeaseLost:
                pass  # it ran out and another worker has it: its outcome is theirs
            except (OSError, http.client.HTTPException, Unavailable) as error:
                # Its lease runs out and another worker takes it: at least once, never lost.
                print(f"could not report on flow {flow['id']}: {error}", file=sys.stderr)
            held.pop(0)
    # Whatever is still held goes back on the board at once, without using an attempt.
    for flow in held:
        try:
            board.abandon(flow)
        except (LeaseLost, Unavailable, OSError, http.client.HTTPException) as error:
            print(f"could not give back flow {flow['id']}: {error}", file=sys.stderr)
    print(json.dumps({"worker": options.worker, "completed": completed, "given_back": len(held)}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
