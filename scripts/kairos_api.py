"""The Kairos API as the Python checks call it: KAIROS_URL and KAIROS_TOKEN come from
scripts/with-kairos.sh."""
import json
import os
import urllib.error
import urllib.request

URL = os.environ["KAIROS_URL"]
TOKEN = os.environ["KAIROS_TOKEN"]


def call(method, path, body=None, timeout=120):
    """`method` on /api/v1`path` with the token and a JSON body: (status, decoded JSON answer)."""
    request = urllib.request.Request(
        URL + "/api/v1" + path, method=method, data=None if body is None else json.dumps(body).encode(),
        headers={"auth-token": TOKEN, "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")
