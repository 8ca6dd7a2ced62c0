"""The operator's dashboard in headless Chromium, against a running Kairos (KAIROS_URL, KAIROS_TOKEN
from scripts/with-kairos.sh), seeded through the API with: a paused job, a cron job in
Europe/Prague, a failing job, a job with missed and coalesced slots (the service paused across its
slots), and flows in several states. Checks, failing on the first miss:

- without a token the page asks for one; with it, no console error, no uncaught exception and no
  request outside Kairos;
- every seeded job is listed with its state; the misfired job's strip has missed and coalesced marks;
  the time line has the cron job's firings; the flow board matches GET /flows/summary;
- a refresh keeps the filter and the rows themselves (updated in place); Tab reaches the controls;
- pause and resume through the job page's buttons and their confirmation, checked through the API;
  the service-wide pause shows its banner;
- at 400 px nothing is wider than the window; screenshots at 1280 and 400 px land in OUTDIR;
- with 100,000 more jobs, the time from navigation to the painted jobs table, under a bound.

    python3 dashboard-browser-check.py CHROMIUM OUTDIR
"""
import base64
import json
import os
import sys
import time
from datetime import datetime, timedelta, timezone

from devtools import chromium, run_check
from kairos_api import TOKEN, URL, call

PAGE = URL + "/api/v1/ui/dashboard"
FIRST_PAINT_BOUND_MS = 5000


def ok(method, path, body=None, expect=(200, 201)):
    status, answer = call(method, path, body)
    assert status in expect, f"{method} {path}: {status} {answer}"
    return answer


def flow_job(job_id, arguments, **keys):
    return {"job_id": job_id, "handler": "FlowScheduling", "when": "2100-01-01 00:00",
            "kwargs": {"flow_name": keys.pop("flow_name", job_id), "flow_arguments": arguments}, **keys}


def claim(worker, names, limit):
    return ok("POST", "/flows/claim", {"worker": worker, "flow_names": names, "limit": limit, "lease": "10m"})["flows"]


def seed():
    ok("POST", "/jobs", flow_job("dash-paused", [None], periodically="1 hour", state="paused"))
    ok("POST", "/jobs", {"job_id": "dash-prague", "handler": "FlowScheduling", "cron": "*/30 * * * *",
                         "timezone": "Europe/Prague", "kwargs": {"flow_name": "report"}})
    # A failing job: its one flow is claimed and failed with no retry, so its run fails.
    ok("POST", "/jobs", flow_job("dash-failing", [None], flow_name="fragile"))
    ok("POST", "/jobs/dash-failing/run")
    [flow] = claim("dash-worker-2", ["fragile"], 1)
    ok("POST", f"/flows/{flow['id']}/fail", {"lease_token": flow["lease_token"], "error": "upstream said 500", "retry": False})
    # Flows in every state: one unclaimed, one held, one completed, one failed, one trashed, and
    # one waiting out a retry delay.
    ok("POST", "/jobs", flow_job("dash-flows", [1, 2, 3, 4, 5], flow_name="ingest"))
    ok("POST", "/jobs/dash-flows/run")
    held = claim("dash-worker-1", ["ingest"], 4)
    ok("POST", f"/flows/{held[0]['id']}/complete", {"lease_token": held[0]["lease_token"], "result": {"rows": 7}})
    ok("POST", f"/flows/{held[1]['id']}/fail", {"lease_token": held[1]["lease_token"], "error": "bad input", "retry": False})
    ok("POST", f"/flows/{held[2]['id']}/trash", {"lease_token": held[2]["lease_token"]})
    ok("POST", "/jobs", flow_job("dash-retry", [None], flow_name="flaky", max_attempts=3, retry_delay="1 hour"))
    ok("POST", "/jobs/dash-retry/run")
    [flow] = claim("dash-worker-3", ["flaky"], 1)
    ok("POST", f"/flows/{flow['id']}/fail", {"lease_token": flow["lease_token"], "error": "timeout", "retry": True})
    seed_misfires()


def seed_misfires():
    """A job every 10 s (slots on whole multiples of 10 s) with a 1 s grace time, and the service
    paused across two of its slots; resumed 3 s after a slot, its latest slot is too late: one
    missed run standing for the earlier slots it coalesced. The scheduler has 7 s to act on the
    resume before the next slot would be on time."""
    start = datetime.now(timezone.utc).replace(microsecond=0) - timedelta(minutes=1)
    start -= timedelta(seconds=start.second % 10)
    ok("PUT", "/service/state?state=paused")
    ok("POST", "/jobs", flow_job("dash-misfire", [None], flow_name="tick", periodically="10 seconds",
                                 misfire_grace_time="1 second", when=start.strftime("%Y-%m-%dT%H:%M:%SZ")))
    time.sleep(20)
    while not 3.0 <= time.time() % 10 <= 3.5:
        time.sleep(0.05)
    ok("PUT", "/service/state?state=running")
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        runs = ok("GET", "/jobs/dash-misfire/runs")["runs"]
        if any(run["status"] == "missed" and run["coalesced_slots"] > 0 for run in runs):
            ok("PUT", "/jobs/dash-misfire?state=paused")  # so the board stops changing under the checks
            return
        time.sleep(0.2)
    raise AssertionError(f"no missed run with coalesced slots: {runs}")


SEEDED = {"dash-paused": "paused", "dash-prague": "running", "dash-failing": "running",
          "dash-flows": "running", "dash-retry": "running", "dash-misfire": "paused"}

ROWS = """Object.fromEntries([...document.querySelectorAll('#jobs-body tr')].map((row) =>
  [row.dataset.jobId, {state: row.children[2].textContent, schedule: row.children[3].textContent,
   kinds: [...row.querySelectorAll('svg.strip g')].map((g) => g.dataset.kind)}]))"""


class Check:
    def __init__(self, page):
        self.page = page

    def problems(self, since=0):
        """Console errors, uncaught exceptions and requests outside Kairos, among events from `since`."""
        found = []
        for event in self.page.events[since:]:
            method, params = event["method"], event.get("params", {})
            if method == "Runtime.exceptionThrown":
                found.append(f"uncaught: {params['exceptionDetails'].get('exception', {}).get('description') or params['exceptionDetails']['text']}")
            elif method == "Runtime.consoleAPICalled" and params["type"] in ("error", "assert", "warning"):
                found.append(f"console.{params['type']}: {[arg.get('value', arg.get('description')) for arg in params['args']]}")
            elif method == "Log.entryAdded" and params["entry"]["level"] in ("error", "warning"):
                found.append(f"log: {params['entry']['text']} {params['entry'].get('url', '')}")
            elif method == "Network.requestWillBeSent":
                url = params["request"]["url"]
                if not url.startswith(URL + "/") and not url.startswith("data:"):
                    found.append(f"request outside Kairos: {url}")
        return found

    def screenshot(self, path, width):
        self.page.call("Emulation.setDeviceMetricsOverride", width=width, height=1400, deviceScaleFactor=1, mobile=False)
        time.sleep(0.6)  # the resize redraws the time line after 200 ms
        overflow = self.page.evaluate("document.documentElement.scrollWidth")
        shot = self.page.call("Page.captureScreenshot", format="png", captureBeyondViewport=True,
                              clip={"x": 0, "y": 0, "width": width, "height": self.page.evaluate("document.documentElement.scrollHeight"), "scale": 1})
        with open(path, "wb") as file:
            file.write(base64.b64decode(shot["data"]))
        print(f"screenshot at {width} px: {path}")
        assert overflow <= width, f"at {width} px the page is {overflow} px wide"

    def click_and_confirm(self, button):
        self.page.evaluate(f"document.getElementById({json.dumps(button)}).click()")
        self.page.wait_for("document.getElementById('confirm').open", "the confirmation dialog")
        self.page.evaluate("document.getElementById('confirm-ok').click()")
        self.page.wait_for("!document.getElementById('confirm').open", "the dialog to close")


def eventually(what, check, timeout=15):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"{what}: not within {timeout} s")


def main():
    chromium_path, outdir = sys.argv[1:3]
    seed()
    with chromium(chromium_path, 1280, 1400) as page:
        check = Check(page)
        for domain in ("Page", "Runtime", "Log", "Network"):
            page.call(f"{domain}.enable")

        # Without a token the API refuses (and Chromium logs the 401s): the page asks for one.
        page.call("Page.navigate", url=PAGE)
        page.wait_for("document.readyState === 'complete' && !!document.getElementById('jobs')", "the dashboard")
        page.wait_for("!document.getElementById('error').hidden && document.getElementById('error').textContent.includes('401')", "the token prompt")
        start = len(page.events)
        page.evaluate(f"(() => {{ const t = document.getElementById('token'); t.value = {json.dumps(TOKEN)}; t.dispatchEvent(new Event('change')); }})()")
        rows = page.wait_for(f"(() => {{ const r = {ROWS}; return Object.keys(r).length >= {len(SEEDED)} && document.getElementById('error').hidden ? r : null; }})()", "the seeded jobs")
        for job_id, state in SEEDED.items():
            assert job_id in rows, f"{job_id} is not listed: {sorted(rows)}"
            assert rows[job_id]["state"] == state, f"{job_id} shows {rows[job_id]['state']}, not {state}"
        print(f"listed with their states: {', '.join(f'{j} {s}' for j, s in SEEDED.items())}")
        assert "Europe/Prague" in rows["dash-prague"]["schedule"], rows["dash-prague"]
        kinds = rows["dash-misfire"]["kinds"]
        assert "missed" in kinds and "coalesced" in kinds, f"the misfired job's strip: {kinds}"
        assert "failed" in rows["dash-failing"]["kinds"], f"the failing job's strip: {rows['dash-failing']['kinds']}"
        print(f"dash-misfire's strip: {kinds.count('missed')} missed, {kinds.count('coalesced')} coalesced")
        firings = page.wait_for("document.querySelectorAll('#timeline line.firing[data-job-id=\"dash-prague\"]').length", "the cron job on the time line")
        assert firings >= 47, f"the time line shows {firings} firings of a half-hourly job in 24 hours"
        summary = ok("GET", "/flows/summary")
        board = page.evaluate("""Object.fromEntries([...document.querySelectorAll('#board-counts tbody tr')].map((row) =>
            [row.querySelector('th').textContent, Object.fromEntries([...row.querySelectorAll('td')].map((td) => [td.dataset.state, Number(td.textContent)]))]))""")
        for entry in summary["counts"]:
            assert board[entry["flow_name"]][entry["state"]] == entry["count"], f"board {board} vs API {summary['counts']}"
        for state in ("unclaimed", "claimed", "completed", "failed", "trashed"):
            assert board["ingest"][state] == 1, f"ingest flows by state: {board['ingest']}"
        workers = page.evaluate("document.getElementById('board-holders').textContent")
        assert "dash-worker-1" in workers, workers
        assert page.evaluate("document.querySelector('#board-waiting strong').textContent") == "1"
        print(f"flow board: {board}")

        # A refresh keeps the filter and updates rows in place.
        page.evaluate("(() => { const p = document.getElementById('prefix'); p.value = 'dash-f'; p.dispatchEvent(new Event('input')); })()")
        page.wait_for("document.querySelectorAll('#jobs-body tr').length === 2", "the prefix filter")
        page.evaluate("document.querySelector('#jobs-body tr').kept = true")
        refreshed = page.evaluate("Number(document.body.dataset.refreshes)")
        page.wait_for(f"Number(document.body.dataset.refreshes) > {refreshed}", "a refresh", timeout=12)
        assert page.evaluate("document.querySelector('#jobs-body tr').kept === true && document.getElementById('prefix').value === 'dash-f' && location.hash.includes('prefix=dash-f')"), \
            "a refresh replaced the rows or lost the filter"
        print("a refresh kept the filter and the rows")

        # The keyboard reaches every control.
        page.evaluate("document.activeElement.blur(); document.body.focus()")
        reached = set()
        for _ in range(40):
            page.call("Input.dispatchKeyEvent", type="keyDown", key="Tab", code="Tab", windowsVirtualKeyCode=9)
            page.call("Input.dispatchKeyEvent", type="keyUp", key="Tab", code="Tab", windowsVirtualKeyCode=9)
            reached.add(page.evaluate("document.activeElement.id || document.activeElement.getAttribute('href') || document.activeElement.tagName"))
        for wanted in ("service-toggle", "token", "prefix", "state", "#job=dash-failing"):
            assert wanted in reached, f"Tab never reached {wanted}: {sorted(reached)}"
        print("Tab reaches the service button, the token, the filters and the job links")

        check.screenshot(os.path.join(outdir, "dashboard-1280.png"), 1280)
        page.evaluate("(() => { const p = document.getElementById('prefix'); p.value = ''; p.dispatchEvent(new Event('input')); })()")
        page.wait_for(f"document.querySelectorAll('#jobs-body tr').length >= {len(SEEDED)}", "the whole list again")
        check.screenshot(os.path.join(outdir, "dashboard-400.png"), 400)
        check.screenshot(os.path.join(outdir, "dashboard-1280.png"), 1280)

        # The job page: resume and pause through the buttons, and run now.
        page.evaluate("location.hash = '#job=dash-paused'")
        page.wait_for("document.getElementById('job-title').textContent === 'dash-paused' && document.getElementById('job-toggle').textContent === 'Resume job'", "the job page")
        check.click_and_confirm("job-toggle")
        eventually("the job running", lambda: ok("GET", "/jobs/dash-paused")["job"]["state"] == "running")
        page.wait_for("document.getElementById('job-toggle').textContent === 'Pause job'", "the button to say Pause")
        check.click_and_confirm("job-toggle")
        eventually("the job paused", lambda: ok("GET", "/jobs/dash-paused")["job"]["state"] == "paused")
        check.click_and_confirm("job-run")
        eventually("the manual run", lambda: ok("GET", "/jobs/dash-paused/runs")["runs_count"] == 1)
        page.wait_for("document.querySelectorAll('#job-runs-body tr').length === 1", "the run on the job page")
        print("the job page resumed, paused and ran dash-paused (checked through the API)")
        page.evaluate("location.hash = '#job=dash-failing'")
        page.wait_for("!!document.querySelector('#job-runs-body tr[data-status=failed]')", "the failing job's failed run")
        check.screenshot(os.path.join(outdir, "dashboard-job-400.png"), 400)
        check.screenshot(os.path.join(outdir, "dashboard-job-1280.png"), 1280)

        # The service-wide pause, and its banner.
        page.evaluate("location.hash = ''")
        page.wait_for("document.getElementById('service-toggle').textContent === 'Pause service'", "the service button")
        check.click_and_confirm("service-toggle")
        eventually("the service paused", lambda: ok("GET", "/service/state")["state"] == "paused")
        page.wait_for("!document.getElementById('paused-banner').hidden && !!document.querySelector('#timeline .paused-label')", "the paused banner")
        check.screenshot(os.path.join(outdir, "dashboard-paused-1280.png"), 1280)
        check.click_and_confirm("service-toggle")
        eventually("the service running", lambda: ok("GET", "/service/state")["state"] == "running")
        page.wait_for("document.getElementById('paused-banner').hidden", "the banner gone")
        print("the service paused and resumed through its button; the banner followed")

        problems = check.problems(start)
        assert not problems, "; ".join(problems)
        print("no console error, no uncaught exception, no request outside Kairos")

    # 100,000 jobs more: how soon the first page of the table is painted.
    started = time.monotonic()
    for batch in range(10):
        ok("POST", "/jobs", [flow_job(f"bulk-{batch}-{index:05d}", [None]) for index in range(10000)])
    print(f"posted 100,000 jobs in {time.monotonic() - started:.1f} s")
    with chromium(chromium_path, 1280, 1400) as page:
        for domain in ("Page", "Runtime", "Log", "Network"):
            page.call(f"{domain}.enable")
        page.call("Page.addScriptToEvaluateOnNewDocument", source=f"sessionStorage.setItem('kairos-token', {json.dumps(TOKEN)})")
        page.call("Page.navigate", url=PAGE)
        painted = page.wait_for("performance.getEntriesByName('kairos-jobs-painted')[0]?.startTime", "the painted jobs table", timeout=30)
        shown = page.evaluate("document.querySelectorAll('#jobs-body tr').length")
        count = page.evaluate("document.getElementById('jobs-count').textContent")
        print(f"100,006 jobs: first page painted {painted:.0f} ms after navigation ({shown} rows, {count}); bound {FIRST_PAINT_BOUND_MS} ms")
        assert shown == 50, f"{shown} rows on the first page"
        assert painted < FIRST_PAINT_BOUND_MS, f"first paint took {painted:.0f} ms"
        problems = Check(page).problems()
        assert not problems, "; ".join(problems)


if __name__ == "__main__":
    run_check(main, "dashboard check")
