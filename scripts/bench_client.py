"""What the benchmarks' Python clients share: one keep-alive HTTP/1.1 connection to Kairos
(KAIROS_URL, KAIROS_TOKEN), as a worker or a poller holds it, and a percentile."""

import http.client
import json
import os
import urllib.parse

URL = urllib.parse.urlsplit(os.environ.get("KAIROS_URL", "http://127.0.0.1:34000"))
TOKEN = os.environ.get("KAIROS_TOKEN", "")


class Client:
    """One keep-alive connection to Kairos."""

    def __init__(self):
        self.connection = http.client.HTTPConnection(URL.hostname, URL.port, timeout=120)

    def call(self, method, path, body=None):
        """`method` on /api/v1`path`: (status, decoded JSON answer)."""
        status, data = self.call_text(method, path, body)
        return status, json.loads(data or "null")

    def call_text(self, method, path, body=None, base="/api/v1"):
        """`method` on `base``path`: (status, the answer as text)."""
        headers = {"auth-token": TOKEN, "Content-Type": "application/json"}
        for attempt in range(3):
            try:
                self.connection.request(method, base + path, None if body is None else json.dumps(body), headers)
                response = self.connection.getresponse()
                return response.status, response.read().decode()
            except (http.client.HTTPException, ConnectionError):
                self.connection.close()
                if attempt == 2:
                    raise
                self.connection = http.client.HTTPConnection(URL.hostname, URL.port, timeout=120)


def percentile(values, fraction):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] if ordered else float("nan")


def bench_row(figure, kairos, reference, ratio, goal):
    """One figure for the table scripts/bench.sh prints (see bench_row in scripts/common.sh)."""
    table = os.environ.get("KAIROS_BENCH_TABLE")
    if table:
        with open(table, "a") as out:
            out.write("\t".join([figure, kairos, reference, ratio, goal]) + "\n")
