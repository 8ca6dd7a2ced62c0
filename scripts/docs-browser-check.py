"""Drives headless Chromium through the docs page of a running Kairos, over the DevTools protocol.

Loads /api/v1/ui/, enters the API token, fills the fabric8 flow-scheduling form (POST
/api/v1/jobs/flow-scheduling with the example body), presses "Try it", and expects the page to show
201 and a curl command carrying the token header. Saves a screenshot. Exits non-zero on any failure.

    python3 docs-browser-check.py CHROMIUM BASE_URL TOKEN SCREENSHOT.png
"""
import base64
import json
import sys

from devtools import chromium, run_check

FILL_AND_SUBMIT = """
(function (token) {
  var tokenInput = document.getElementById('token');
  tokenInput.value = token;
  tokenInput.dispatchEvent(new Event('input', {bubbles: true}));
  var operation = document.getElementById('op-createJobForHandler');
  operation.open = true;
  var form = operation.querySelector('form');
  function set(selector, value) {
    var input = form.querySelector(selector);
    input.value = value;
    input.dispatchEvent(new Event('input', {bubbles: true}));
  }
  set('input[name=job_id][data-in=path]', 'flow-scheduling');
  set('input[name=job_id][data-in=query]', 'docs-page-check');
  set('input[name=state][data-in=query]', 'running');
  set('input[name=periodically][data-in=query]', '1 day');
  operation.scrollIntoView();
  form.querySelector('button[type=submit]').click();
  return true;
})(%s)
"""


def main():
    chromium_path, base_url, token, screenshot = sys.argv[1:5]
    with chromium(chromium_path) as page:
        page.call("Page.enable")
        page.call("Page.navigate", url=f"{base_url}/api/v1/ui/")
        page.wait_for("document.readyState === 'complete' && !!document.getElementById('op-createJobForHandler')", "the docs page")
        forms = page.evaluate("document.querySelectorAll('form[data-method]').length")
        print(f"docs page loaded: {forms} operation forms")
        page.evaluate(FILL_AND_SUBMIT % json.dumps(token))
        status = page.wait_for(
            "document.querySelector('#op-createJobForHandler .status').textContent", "the response status")
        curl = page.evaluate("document.querySelector('#op-createJobForHandler .curl').textContent")
        body = page.evaluate("document.querySelector('#op-createJobForHandler .response').textContent")
        shot = page.call("Page.captureScreenshot", format="png", captureBeyondViewport=False)
        with open(screenshot, "wb") as file:
            file.write(base64.b64decode(shot["data"]))
        print(f"status shown: {status}")
        print(f"curl shown: {curl}")
        print(f"screenshot: {screenshot}")
        failures = []
        if not status.startswith("201"):
            failures.append(f"expected 201, the page shows {status!r}: {body}")
        if "auth-token: " + token not in curl or "/api/v1/jobs/flow-scheduling?" not in curl or "bayesianFlow" not in curl:
            failures.append(f"the curl command does not match the form: {curl}")
        if '"job_id": "docs-page-check"' not in body:
            failures.append(f"the response is not the created job: {body}")
        if failures:
            raise RuntimeError("; ".join(failures))


if __name__ == "__main__":
    run_check(main, "docs page check")
