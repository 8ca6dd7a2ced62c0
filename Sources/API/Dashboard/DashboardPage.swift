/// The dashboard's page and style. Its script is ``DashboardPage/script``. The markup holds no
/// data: the script fills it from the API, always as text (never as markup), so nothing a job
/// carries can run in the page.
enum DashboardPage {
    static let html = #"""
        <!doctype html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>Kairos dashboard</title>
        <link rel="icon" href="data:,">
        <link rel="stylesheet" href="dashboard.css">
        </head>
        <body>
        <header class="top">
          <h1><a href="#">Kairos</a></h1>
          <span id="service-state" class="badge" aria-live="polite">service …</span>
          <button type="button" id="service-toggle" disabled>Pause service</button>
          <label class="token">API token <input id="token" type="password" autocomplete="off" placeholder="sent as auth-token"></label>
          <span id="status" class="muted" role="status" aria-live="polite"></span>
        </header>
        <div id="paused-banner" class="banner" role="alert" hidden>The service is paused: no job fires until it is resumed.</div>
        <div id="error" class="error" role="alert" hidden></div>
        <main>
          <div id="overview">
            <section aria-labelledby="timeline-title">
              <h2 id="timeline-title">Next 24 hours</h2>
              <div id="timeline-box"><svg id="timeline" role="img" aria-label="Upcoming firings"></svg></div>
              <p id="timeline-note" class="muted"></p>
            </section>
            <section aria-labelledby="board-title">
              <h2 id="board-title">Flow board</h2>
              <div id="board"></div>
            </section>
            <section aria-labelledby="jobs-title">
              <h2 id="jobs-title">Jobs <span id="jobs-count" class="muted"></span></h2>
              <div class="filters">
                <label>Id starts with <input id="prefix" type="search" autocomplete="off" spellcheck="false"></label>
                <label>Show <select id="state">
                  <option value="">active (running and paused)</option>
                  <option value="running">running</option>
                  <option value="paused">paused</option>
                  <option value="finished">finished</option>
                  <option value="failed">failure records</option>
                </select></label>
              </div>
              <div id="legend" class="legend" aria-label="What the slot marks mean"></div>
              <table id="jobs">
                <thead><tr><th scope="col">Job</th><th scope="col">Handler</th><th scope="col">State</th><th scope="col">Schedule</th>
                  <th scope="col">Next run</th><th scope="col">Last status</th><th scope="col">Last 50 slots (oldest left)</th></tr></thead>
                <tbody id="jobs-body"></tbody>
              </table>
              <p id="jobs-empty" class="muted" hidden>No job matches.</p>
              <nav class="pager" aria-label="Pages of jobs">
                <button type="button" id="page-first">First page</button>
                <button type="button" id="page-previous">Previous page</button>
                <button type="button" id="page-next">Next page</button>
                <span id="page-info" class="muted"></span>
              </nav>
            </section>
          </div>
          <div id="job-view" hidden>
            <p><a href="#" id="back">← All jobs</a></p>
            <h2><span id="job-title"></span> <span id="job-state" class="badge"></span></h2>
            <div class="actions">
              <button type="button" id="job-toggle">Pause job</button>
              <button type="button" id="job-run">Run now</button>
            </div>
            <dl id="job-details" class="details"></dl>
            <section aria-labelledby="times-title"><h3 id="times-title">Next 10 times</h3>
              <ul id="job-blocked" class="blocked"></ul><ol id="job-times" class="times"></ol></section>
            <section aria-labelledby="runs-title"><h3 id="runs-title">Runs <span id="runs-count" class="muted"></span></h3>
              <table id="job-runs"><thead><tr><th scope="col">Scheduled for</th><th scope="col">Cause</th><th scope="col">Status</th>
                <th scope="col">Coalesced</th><th scope="col">Flows</th><th scope="col">Webhook</th><th scope="col">Error</th></tr></thead>
                <tbody id="job-runs-body"></tbody></table></section>
            <section aria-labelledby="failures-title"><h3 id="failures-title">Failure records</h3>
              <ul id="job-failures" class="failures"></ul></section>
          </div>
        </main>
        <dialog id="confirm" aria-labelledby="confirm-text">
          <p id="confirm-text"></p>
          <div class="actions"><button type="button" id="confirm-cancel">Cancel</button> <button type="button" id="confirm-ok" class="primary">Confirm</button></div>
        </dialog>
        <script src="dashboard.js"></script>
        </body>
        </html>
        """#

    static let style = #"""
        :root { --ran: #1a7f37; --failed: #cf222e; --missed: #6e7781; --coalesced: #bc4c00; --skipped: #9a6700;
          --pending: #0969da; --buffered: #8250df; --cancelled: #57606a; --line: #d0d7de; --muted: #57606a; }
        * { box-sizing: border-box; }
        body { margin: 0; font: 14px/1.45 system-ui, sans-serif; color: #1f2328; background: #fff; }
        a { color: #0550ae; }
        :focus-visible { outline: 3px solid #0969da; outline-offset: 2px; }
        header.top { display: flex; flex-wrap: wrap; gap: .5rem 1rem; align-items: center; padding: .6rem 1rem; border-bottom: 1px solid var(--line); }
        header.top h1 { margin: 0; font-size: 1.2rem; }
        header.top h1 a { color: inherit; text-decoration: none; }
        .token input { width: 12rem; }
        main { padding: 0 1rem 2rem; max-width: 1400px; }
        h2 { font-size: 1.1rem; margin: 1.2rem 0 .5rem; }
        h3 { font-size: 1rem; margin: 1rem 0 .4rem; }
        .muted { color: var(--muted); font-weight: normal; }
        .badge { display: inline-block; padding: 0 .45rem; border: 1px solid currentColor; border-radius: 1rem; font-size: .85em; white-space: nowrap; }
        .state-running, .status-succeeded { color: var(--ran); }
        .state-paused, .status-skipped { color: var(--skipped); }
        .state-finished, .status-cancelled { color: var(--cancelled); }
        .status-failed { color: var(--failed); }
        .status-missed { color: var(--missed); }
        .status-pending { color: var(--pending); }
        .status-buffered { color: var(--buffered); }
        .banner { background: #fff8c5; border-bottom: 2px solid #d4a72c; padding: .6rem 1rem; font-weight: 600; }
        .error { background: #ffebe9; border-bottom: 2px solid var(--failed); padding: .6rem 1rem; }
        button { font: inherit; padding: .25rem .7rem; border: 1px solid #8c959f; border-radius: 6px; background: #f6f8fa; cursor: pointer; }
        button:disabled { cursor: default; opacity: .5; }
        button.primary { background: #1f883d; color: #fff; border-color: #1a7f37; }
        table { border-collapse: collapse; width: 100%; }
        th, td { text-align: left; vertical-align: top; padding: .35rem .5rem; border-bottom: 1px solid var(--line); }
        th { font-weight: 600; background: #f6f8fa; }
        td.id { overflow-wrap: anywhere; min-width: 9rem; max-width: 18rem; }
        time { display: block; white-space: nowrap; }
        time .local { display: block; color: var(--muted); font-size: .85em; }
        .filters { display: flex; flex-wrap: wrap; gap: .5rem 1.5rem; margin-bottom: .5rem; }
        .legend { display: flex; flex-wrap: wrap; gap: .25rem 1rem; margin: .3rem 0 .6rem; color: var(--muted); }
        .legend span { display: inline-flex; align-items: center; gap: .3rem; }
        .pager { display: flex; flex-wrap: wrap; gap: .5rem; align-items: center; margin-top: .6rem; }
        svg.strip { display: block; width: 100%; max-width: 400px; height: 16px; }
        .mark-ran { fill: var(--ran); }
        .mark-failed { fill: var(--failed); }
        .mark-failed-cross { stroke: #fff; stroke-width: 1.4; }
        .mark-missed { fill: none; stroke: var(--missed); stroke-width: 1.2; }
        .mark-coalesced { fill: var(--coalesced); }
        .mark-skipped { stroke: var(--skipped); stroke-width: 2; }
        .mark-pending { fill: none; stroke: var(--pending); stroke-width: 1.2; stroke-dasharray: 2 1.5; }
        .mark-buffered { fill: var(--buffered); }
        .mark-cancelled { stroke: var(--cancelled); stroke-width: 2; }
        #timeline-box { width: 100%; overflow: hidden; }
        #timeline { display: block; width: 100%; }
        #timeline .axis { stroke: var(--line); }
        #timeline .hour { fill: var(--muted); font-size: 11px; }
        #timeline .lane { fill: #1f2328; font-size: 12px; }
        #timeline .firing { stroke: var(--pending); stroke-width: 2; }
        #timeline .firing.overdue { stroke: var(--failed); }
        #timeline .more { fill: var(--pending); opacity: .35; }
        #timeline .cutoff { stroke: var(--muted); stroke-width: 1.5; stroke-dasharray: 4 3; }
        #timeline .now { stroke: var(--failed); stroke-width: 2; }
        #timeline .now-label { fill: var(--failed); font-size: 11px; font-weight: 600; }
        #timeline.paused .firing { stroke: var(--missed); stroke-dasharray: 2 2; }
        #timeline .paused-label { fill: #9a6700; font-size: 13px; font-weight: 600; }
        .scroll { overflow-x: auto; }
        .board-figures { display: flex; flex-wrap: wrap; gap: .5rem 2rem; margin: 0 0 .6rem; padding: 0; list-style: none; }
        .board-figures strong { display: block; font-size: 1.2rem; }
        .details { display: grid; grid-template-columns: max-content 1fr; gap: .2rem 1rem; }
        .details dt { font-weight: 600; }
        .details dd { margin: 0; word-break: break-word; }
        .details pre { margin: 0; white-space: pre-wrap; }
        .actions { display: flex; gap: .5rem; flex-wrap: wrap; }
        .blocked { color: #9a6700; }
        dialog { border: 1px solid var(--line); border-radius: 8px; max-width: min(30rem, 92vw); }
        dialog::backdrop { background: rgb(0 0 0 / .3); }
        @media (max-width: 700px) {
          main { padding: 0 .5rem 2rem; }
          #jobs thead, #job-runs thead { position: absolute; left: -9999px; }
          #jobs tr, #job-runs tr { display: block; border-bottom: 2px solid var(--line); padding: .3rem 0; }
          #jobs td, #job-runs td { display: block; border: none; padding: .1rem .25rem; max-width: none; }
          #jobs td[data-label]::before, #job-runs td[data-label]::before { content: attr(data-label) ": "; font-weight: 600; color: var(--muted); }
          .token input { width: 9rem; }
        }
        """#
}
