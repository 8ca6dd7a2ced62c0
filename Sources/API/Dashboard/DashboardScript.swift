extension DashboardPage {
    /// The dashboard's script, served from Kairos's own path (the page's CSP runs no inline
    /// script). It keeps the token in session storage and the view in the location's hash.
    static let script = #"""
        // Kairos dashboard: everything it shows comes from the public API, with the operator's token
        // (kept in session storage, sent as auth-token). Data goes into the page as text, never markup.
        'use strict';
        (() => {
          const API = new URL('../', location.href);
          const REFRESH_MS = 5000;
          const REQUEST_TIMEOUT_MS = 15000;
          const PAGE_SIZE = 50;
          const STRIP_SLOTS = 50;
          const TOKEN_KEY = 'kairos-token';
          const SVG_NS = 'http://www.w3.org/2000/svg';
          const $ = (id) => document.getElementById(id);

          // MARK: Building the page

          function build(node, attributes, children) {
            for (const [name, value] of Object.entries(attributes || {})) {
              if (value === null || value === undefined || value === false) continue;
              if (name === 'class') node.setAttribute('class', value);
              else if (name.startsWith('on')) node.addEventListener(name.slice(2), value);
              else node.setAttribute(name, value === true ? '' : String(value));
            }
            for (const child of children.flat(Infinity)) {
              if (child === null || child === undefined) continue;
              node.append(child instanceof Node ? child : String(child));
            }
            return node;
          }
          const el = (tag, attributes, ...children) => build(document.createElement(tag), attributes, children);
          const svg = (tag, attributes, ...children) => build(document.createElementNS(SVG_NS, tag), attributes, children);

          // Replaces a node's content only when what it shows changed, so a refresh that brings the
          // same data touches nothing (no flicker, focus and selection kept).
          function show(node, key, render) {
            if (node.dataset.shown === key) return;
            node.dataset.shown = key;
            node.replaceChildren(...[render()].flat(Infinity).filter((child) => child !== null && child !== undefined));
          }

          // MARK: Time, in UTC and the browser's zone

          const localZone = Intl.DateTimeFormat().resolvedOptions().timeZone || 'local time';
          const localFormat = new Intl.DateTimeFormat(undefined, {
            year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23',
          });
          const hourFormat = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
          const utcText = (iso) => iso.replace('T', ' ').replace(/\.\d+/, '').replace('Z', ' UTC');
          const localText = (iso) => `${localFormat.format(new Date(iso))} ${localZone}`;

          function timeNode(iso) {
            if (!iso) return el('span', { class: 'muted' }, '—');
            return el('time', { datetime: iso }, utcText(iso), el('span', { class: 'local' }, localText(iso)));
          }

          function duration(seconds) {
            const s = Math.max(0, Math.round(seconds));
            if (s < 120) return `${s} s`;
            if (s < 7200) return `${Math.round(s / 60)} min`;
            if (s < 172800) return `${(s / 3600).toFixed(1)} h`;
            return `${(s / 86400).toFixed(1)} days`;
          }

          // MARK: The API

          class APIError extends Error {
            constructor(status, message) { super(message); this.status = status; }
          }

          async function api(method, path, parameters) {
            const url = new URL(path, API);
            for (const [name, value] of Object.entries(parameters || {})) {
              if (value !== null && value !== undefined && value !== '') url.searchParams.set(name, value);
            }
            const headers = { accept: 'application/json' };
            const token = sessionStorage.getItem(TOKEN_KEY);
            if (token) headers['auth-token'] = token;
            // A hung request must not stall the refreshes behind it.
            const response = await fetch(url, {
              method, headers, cache: 'no-store', credentials: 'omit', redirect: 'error', signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
            });
            const text = await response.text();
            let body = null;
            try { body = text ? JSON.parse(text) : null; } catch (_) { body = null; }
            if (!response.ok) {
              const message = body && typeof body.error === 'string' ? body.error : `${response.status} ${response.statusText}`;
              throw new APIError(response.status, message);
            }
            return body;
          }
          const jobPath = (id, tail) => `jobs/${encodeURIComponent(id)}${tail || ''}`;

          // MARK: Where the operator is: the view and filters live in the location's hash

          function place() {
            const parameters = new URLSearchParams(location.hash.slice(1));
            return {
              job: parameters.get('job'),
              prefix: parameters.get('prefix') || '',
              show: parameters.get('show') || '',
              after: parameters.get('after') || '',
            };
          }

          function go(changes, { replace = false } = {}) {
            const next = { ...place(), ...changes };
            const parameters = new URLSearchParams();
            for (const name of ['job', 'prefix', 'show', 'after']) if (next[name]) parameters.set(name, next[name]);
            const hash = `#${parameters}`;
            if (hash === location.hash || (hash === '#' && !location.hash)) return refresh();
            if (replace) { history.replaceState(null, '', hash); refresh(); } else location.hash = hash;
          }

          // MARK: Messages

          function report(error) {
            const box = $('error');
            if (!error) { box.hidden = true; box.textContent = ''; return; }
            box.hidden = false;
            box.textContent = error.status === 401
              ? 'The API refused the token (401): enter the API token above.'
              : `The API answered: ${error.message}`;
            if (error.status === 401 && document.activeElement !== $('token')) $('token').focus();
          }

          function say(text) { $('status').textContent = text; }

          // Asks before an action; true when confirmed. Escape or Cancel says no.
          function confirmAction(text, verb) {
            const dialog = $('confirm');
            $('confirm-text').textContent = text;
            $('confirm-ok').textContent = verb;
            return new Promise((resolve) => {
              const finish = (answer) => {
                $('confirm-ok').onclick = null;
                $('confirm-cancel').onclick = null;
                dialog.oncancel = null;
                if (dialog.open) dialog.close();
                resolve(answer);
              };
              $('confirm-ok').onclick = () => finish(true);
              $('confirm-cancel').onclick = () => finish(false);
              dialog.oncancel = (event) => { event.preventDefault(); finish(false); };
              dialog.showModal();
              $('confirm-cancel').focus();
            });
          }

          async function act(question, verb, action, done) {
            if (!(await confirmAction(question, verb))) return;
            try {
              await action();
              say(done);
              report(null);
            } catch (error) {
              report(error);
            }
            refresh();
          }

          // MARK: A job's recent slots, drawn so they read without colour

          const KINDS = {
            ran: 'ran', failed: 'failed', missed: 'missed', coalesced: 'coalesced into a later run',
            skipped: 'skipped', pending: 'pending', buffered: 'buffered', cancelled: 'cancelled',
          };
          const KIND_OF_STATUS = {
            succeeded: 'ran', failed: 'failed', missed: 'missed', skipped: 'skipped',
            pending: 'pending', buffered: 'buffered', cancelled: 'cancelled',
          };
          const CELL = 8;

          function markShape(kind, x) {
            const c = x + CELL / 2;
            switch (kind) {
              case 'ran': return [svg('rect', { x: x + 0.5, y: 1, width: CELL - 1, height: 14, class: 'mark-ran' })];
              case 'failed': return [
                svg('rect', { x: x + 0.5, y: 1, width: CELL - 1, height: 14, class: 'mark-failed' }),
                svg('path', { d: `M${x + 1.5} 4L${x + CELL - 1.5} 12M${x + CELL - 1.5} 4L${x + 1.5} 12`, class: 'mark-failed-cross' }),
              ];
              case 'missed': return [svg('rect', { x: x + 1, y: 1.5, width: CELL - 2, height: 13, class: 'mark-missed' })];
              case 'coalesced': return [svg('circle', { cx: c, cy: 8, r: 2.6, class: 'mark-coalesced' })];
              case 'skipped': return [svg('path', { d: `M${x + 1} 14L${x + CELL - 1} 2`, class: 'mark-skipped' })];
              case 'pending': return [svg('rect', { x: x + 1, y: 1.5, width: CELL - 2, height: 13, class: 'mark-pending' })];
              case 'buffered': return [svg('path', { d: `M${c} 2L${x + CELL - 0.5} 8L${c} 14L${x + 0.5} 8Z`, class: 'mark-buffered' })];
              default: return [svg('path', { d: `M${x + 1} 8H${x + CELL - 1}`, class: 'mark-cancelled' })];
            }
          }

          // Newest-first runs → the last `STRIP_SLOTS` slots, oldest first. A run that coalesced k
          // earlier slots stands for k + 1: k coalesced marks, then its own.
          function slotMarks(recent) {
            const marks = [];
            for (const run of [...recent].reverse()) {
              const coalesced = Math.min(run.coalesced_slots || 0, STRIP_SLOTS);
              for (let index = 0; index < coalesced; index += 1) marks.push({ kind: 'coalesced', run });
              marks.push({ kind: KIND_OF_STATUS[run.status] || 'cancelled', run });
            }
            return marks.slice(-STRIP_SLOTS);
          }

          function strip(recent) {
            const marks = slotMarks(recent);
            const counts = {};
            for (const mark of marks) counts[mark.kind] = (counts[mark.kind] || 0) + 1;
            const summary = Object.entries(counts).map(([kind, n]) => `${n} ${KINDS[kind]}`).join(', ') || 'no runs yet';
            const node = svg('svg', {
              class: 'strip', viewBox: `0 0 ${STRIP_SLOTS * CELL} 16`, role: 'img', 'aria-label': `Last ${marks.length} slots: ${summary}`,
            });
            marks.forEach((mark, index) => {
              const group = svg('g', { 'data-kind': mark.kind },
                svg('title', {}, `${utcText(mark.run.scheduled_for)}: ${KINDS[mark.kind]}${mark.run.cause === 'schedule' ? '' : ` (${mark.run.cause})`}`),
                markShape(mark.kind, (STRIP_SLOTS - marks.length + index) * CELL));
              node.append(group);
            });
            return node;
          }

          function legend() {
            return Object.entries(KINDS).map(([kind, words]) => el('span', {},
              svg('svg', { width: CELL + 2, height: 16, viewBox: `-1 0 ${CELL + 2} 16`, 'aria-hidden': 'true' }, markShape(kind, 0)), words));
          }

          // MARK: The jobs table, updated in place and keyed by job id

          const rows = new Map();
          const LABELS = ['Job', 'Handler', 'State', 'Schedule', 'Next run', 'Last status', 'Last 50 slots'];
          let pageHistory = [];
          let lastPage = null;

          function listingParameters(where) {
            // One more than a page: whether a next page exists.
            const base = { prefix: where.prefix, after: where.after, limit: PAGE_SIZE + 1, slots: STRIP_SLOTS };
            if (where.show === 'finished' || where.show === 'failed') return { ...base, job_type: where.show };
            if (where.show === 'running' || where.show === 'paused') return { ...base, state: where.show };
            return base;
          }

          function scheduleWords(job) {
            if (job.cron) return `${job.description} (${job.timezone}) · cron ${job.cron}`;
            return job.description;
          }

          function jobRow(id) {
            const cells = LABELS.map((label, index) => el('td', { 'data-label': label, class: index === 0 ? 'id' : null }));
            cells[0].append(el('a', { href: `#job=${encodeURIComponent(id)}` }, id));
            return el('tr', { 'data-job-id': id }, cells);
          }

          function renderJobs(answer, where) {
            const page = { ...answer, jobs: answer.jobs.slice(0, PAGE_SIZE), more: answer.jobs.length > PAGE_SIZE };
            const body = $('jobs-body');
            let cursor = body.firstChild;
            const seen = new Set();
            for (const job of page.jobs) {
              let row = rows.get(job.job_id);
              if (!row) { row = jobRow(job.job_id); rows.set(job.job_id, row); }
              const cells = row.children;
              show(cells[1], job.handler, () => job.handler);
              show(cells[2], job.state, () => el('span', { class: `badge state-${job.state}` }, job.state));
              show(cells[3], scheduleWords(job), () => scheduleWords(job));
              show(cells[4], job.next_run_time || '', () => timeNode(job.next_run_time));
              show(cells[5], job.last_status || '', () => job.last_status
                ? el('span', { class: `badge status-${job.last_status}` }, job.last_status) : el('span', { class: 'muted' }, 'none yet'));
              const recent = job.recent_slots || [];
              show(cells[6], JSON.stringify(recent), () => strip(recent));
              if (row !== cursor) body.insertBefore(row, cursor); else cursor = cursor.nextSibling;
              seen.add(job.job_id);
            }
            for (const [id, row] of rows) if (!seen.has(id)) { row.remove(); rows.delete(id); }
            $('jobs-empty').hidden = page.jobs.length > 0;
            const first = !where.after;
            $('jobs-count').textContent = `(${page.jobs_count} match)`;
            $('page-info').textContent = page.jobs.length
              ? `${first ? 'First page' : 'A later page'}: ${page.jobs.length} of ${page.jobs_count}` : '';
            $('page-first').disabled = first;
            $('page-previous').disabled = first;
            $('page-next').disabled = !page.more;
            lastPage = page;
          }

          // MARK: The next 24 hours

          const LANES = 10;

          function renderTimeline(upcoming) {
            const box = $('timeline-box');
            const width = Math.max(320, box.clientWidth || 320);
            const labelWidth = Math.min(200, Math.round(width * 0.3));
            const plot = width - labelWidth - 12;
            const now = Date.parse(upcoming.now);
            const span = 24 * 3600 * 1000;
            const xOf = (iso) => labelWidth + Math.max(0, Math.min(1, (Date.parse(iso) - now) / span)) * plot;
            const lanes = [];
            const laneOf = new Map();
            let others = null;
            for (const firing of upcoming.firings) {
              let lane = laneOf.get(firing.job_id);
              if (!lane) {
                if (lanes.length < LANES) { lane = { label: firing.job_id, firings: [] }; lanes.push(lane); laneOf.set(firing.job_id, lane); }
                else { if (!others) others = { label: '', jobs: new Set(), firings: [] }; lane = others; }
              }
              if (lane === others) others.jobs.add(firing.job_id);
              lane.firings.push(firing);
            }
            if (others) { others.label = `${others.jobs.size} more jobs`; lanes.push(others); }
            const capped = new Set(upcoming.capped);
            const top = 22;
            const laneHeight = 20;
            const paused = upcoming.service_state === 'paused';
            // Room below the lanes for the paused notice, so it covers no firing.
            const lanesBottom = top + Math.max(1, lanes.length) * laneHeight;
            const height = lanesBottom + (paused ? 24 : 8);
            const node = $('timeline');
            node.setAttribute('viewBox', `0 0 ${width} ${height}`);
            node.setAttribute('height', height);
            node.classList.toggle('paused', paused);
            const parts = [];
            for (let hour = 0; hour <= 24; hour += width < 600 ? 6 : 3) {
              const at = new Date(now + hour * 3600 * 1000);
              const x = labelWidth + (hour / 24) * plot;
              parts.push(svg('line', { x1: x, x2: x, y1: top - 4, y2: height - 4, class: 'axis' }));
              if (hour > 0 && hour < 24) parts.push(svg('text', { x, y: 12, 'text-anchor': 'middle', class: 'hour' }, hourFormat.format(at)));
            }
            lanes.forEach((lane, index) => {
              const y = top + index * laneHeight;
              const label = lane.label.length > 28 ? `${lane.label.slice(0, 27)}…` : lane.label;
              parts.push(svg('text', { x: 0, y: y + 14, class: 'lane' }, svg('title', {}, lane.label), label));
              if (laneOf.get(lane.label) === lane && capped.has(lane.label) && lane.firings.length) {
                // More firings than are listed: a band from the last listed one to the window's end.
                const from = xOf(lane.firings[lane.firings.length - 1].at);
                parts.push(svg('rect', { x: from, y: y + 7, width: Math.max(0, labelWidth + plot - from), height: 6, class: 'more' },
                  svg('title', {}, `${lane.label} fires more often than shown: its first ${lane.firings.length} firings are marked`)));
              }
              for (const firing of lane.firings) {
                const overdue = Date.parse(firing.at) < now;
                const x = xOf(firing.at);
                parts.push(svg('line', { x1: x, x2: x, y1: y + 3, y2: y + 17, class: overdue ? 'firing overdue' : 'firing', 'data-job-id': firing.job_id },
                  svg('title', {}, `${firing.job_id}: ${utcText(firing.at)} (${localText(firing.at)})${overdue ? ', overdue' : ''}`)));
              }
            });
            if (upcoming.truncated && upcoming.firings.length) {
              // Past the last listed firing the API had more than it sent: say so rather than look empty.
              const x = xOf(upcoming.firings[upcoming.firings.length - 1].at);
              parts.push(svg('line', { x1: x, x2: x, y1: top - 6, y2: height - 2, class: 'cutoff' },
                svg('title', {}, `The first ${upcoming.firings.length} firings end here; later ones are not shown`)));
              parts.push(svg('text', { x: x + 3, y: height - 10, class: 'hour' }, 'more not shown →'));
            }
            if (!lanes.length) parts.push(svg('text', { x: labelWidth + 8, y: top + 14, class: 'hour' }, 'Nothing fires in the next 24 hours.'));
            parts.push(svg('line', { x1: labelWidth, x2: labelWidth, y1: top - 6, y2: height - 2, class: 'now' }));
            parts.push(svg('text', { x: labelWidth - 4, y: 12, 'text-anchor': 'end', class: 'now-label' }, `now ${hourFormat.format(new Date(now))}`));
            if (paused) {
              parts.push(svg('text', { x: labelWidth + plot / 2, y: lanesBottom + 16, 'text-anchor': 'middle', class: 'paused-label' }, 'Service paused: none of these fires'));
            }
            node.replaceChildren(...parts);
            const jobs = new Set(upcoming.firings.map((firing) => firing.job_id)).size;
            const more = upcoming.truncated ? ' (the first: the line stops where they end)' : upcoming.capped.length ? ' (jobs firing more often are drawn as bands)' : '';
            $('timeline-note').textContent = `${upcoming.firings.length} firing${upcoming.firings.length === 1 ? '' : 's'}${more} of ${jobs} job${jobs === 1 ? '' : 's'} from ${utcText(upcoming.now)} (${localText(upcoming.now)}). Paused jobs do not fire and are not shown.`;
          }

          // MARK: The flow board

          const FLOW_STATES = ['unclaimed', 'claimed', 'completed', 'failed', 'trashed'];

          function renderBoard(summary) {
            const key = JSON.stringify({ ...summary, now: undefined, oldest_claimable_age_seconds: Math.round(summary.oldest_claimable_age_seconds || 0) });
            show($('board'), key, () => {
              const names = [...new Set(summary.counts.map((count) => count.flow_name))].sort();
              const count = (name, state) => summary.counts.find((entry) => entry.flow_name === name && entry.state === state)?.count || 0;
              const figure = (label, value, id) => el('li', { id }, el('strong', {}, value), label);
              const figures = el('ul', { class: 'board-figures' },
                figure('oldest claimable flow has waited', summary.oldest_claimable_since ? duration(summary.oldest_claimable_age_seconds) : 'none waiting', 'board-oldest'),
                figure('waiting out a retry delay', summary.waiting_for_retry, 'board-waiting'),
                figure('on a retry (attempt 2 or later)', summary.retrying, 'board-retrying'),
                figure('claimed with an expired lease', summary.expired_leases, 'board-expired'),
                figure('workers holding leases', summary.holders_count, 'board-workers'));
              const table = names.length
                ? el('div', { class: 'scroll' }, el('table', { id: 'board-counts' },
                  el('thead', {}, el('tr', {}, el('th', { scope: 'col' }, 'Flow name'), FLOW_STATES.map((state) => el('th', { scope: 'col' }, state)))),
                  el('tbody', {}, names.map((name) => el('tr', {}, el('th', { scope: 'row' }, name),
                    FLOW_STATES.map((state) => el('td', { 'data-label': state, 'data-state': state }, count(name, state))))))))
                : el('p', { class: 'muted' }, 'No flows on the board.');
              const truncated = summary.counts_truncated
                ? el('p', { class: 'muted' }, 'Only the first 1,000 (state, flow name) pairs are counted here; GET /flows narrows by flow name.') : null;
              const holders = summary.holders.length
                ? el('div', {}, el('h3', {}, 'Workers holding leases'), el('ul', { id: 'board-holders' }, summary.holders.map((holder) =>
                  el('li', {}, `${holder.worker}: ${holder.flows} flow${holder.flows === 1 ? '' : 's'}, first lease ends `, timeNode(holder.earliest_lease_expiry)))))
                : null;
              return [figures, table, truncated, holders];
            });
          }

          // MARK: The service

          let serviceState = null;

          function renderService(state) {
            serviceState = state;
            const badge = $('service-state');
            badge.textContent = `service ${state}`;
            badge.className = `badge state-${state}`;
            $('paused-banner').hidden = state !== 'paused';
            const toggle = $('service-toggle');
            toggle.disabled = false;
            toggle.textContent = state === 'paused' ? 'Resume service' : 'Pause service';
          }

          // MARK: A job's page

          let shownJob = null;

          function detail(term, value) {
            return [el('dt', {}, term), el('dd', {}, value)];
          }

          function flowsText(flows) {
            const parts = Object.entries(flows || {}).filter(([, n]) => n > 0).map(([state, n]) => `${n} ${state}`);
            return parts.join(', ') || '—';
          }

          function deliveryText(delivery) {
            if (!delivery) return '—';
            const last = (delivery.attempts || []).slice(-1)[0];
            const answer = last ? `; last: ${last.status_code ?? 'no answer'}${last.error ? ` (${last.error})` : ''}` : '';
            return `${delivery.state}, ${delivery.attempts_made} of ${delivery.max_attempts} attempts${answer}`;
          }

          function renderJobPage(job, schedule, runs, failures) {
            shownJob = job;
            $('job-title').textContent = job.job_id;
            const badge = $('job-state');
            badge.textContent = job.state;
            badge.className = `badge state-${job.state}`;
            const toggle = $('job-toggle');
            toggle.textContent = job.state === 'paused' ? 'Resume job' : 'Pause job';
            toggle.disabled = job.state === 'finished';
            const policy = `priority ${job.priority}, ${job.max_attempts} attempt${job.max_attempts === 1 ? '' : 's'}, overlap ${job.overlap}`;
            show($('job-details'), JSON.stringify(job), () => [
              detail('Handler', job.handler),
              detail('Schedule', scheduleWords(job)),
              detail('Next run', timeNode(job.next_run_time)),
              detail('Last status', job.last_status || 'none yet'),
              detail('Misfire grace time', job.misfire_grace_time || 'none: a late run always runs'),
              detail('Work policy', policy),
              detail('Origin', job.origin),
              detail('Kwargs', el('pre', {}, JSON.stringify(job.kwargs, null, 2))),
            ]);
            show($('job-blocked'), JSON.stringify(schedule.blocked_by), () => schedule.blocked_by.map((block) => el('li', {}, block.message)));
            show($('job-times'), JSON.stringify(schedule.times), () => schedule.times.length
              ? schedule.times.map((time) => el('li', {}, timeNode(time))) : el('li', { class: 'muted' }, 'No time to come.'));
            $('runs-count').textContent = `(latest ${runs.runs.length} of ${runs.runs_count})`;
            show($('job-runs-body'), JSON.stringify(runs.runs), () => runs.runs.map((run) => el('tr', { 'data-status': run.status },
              el('td', { 'data-label': 'Scheduled for' }, timeNode(run.scheduled_for)),
              el('td', { 'data-label': 'Cause' }, run.cause),
              el('td', { 'data-label': 'Status' }, el('span', { class: `badge status-${run.status}` }, run.status)),
              el('td', { 'data-label': 'Coalesced' }, run.coalesced_slots ? `${run.coalesced_slots} earlier slot${run.coalesced_slots === 1 ? '' : 's'}` : '—'),
              el('td', { 'data-label': 'Flows' }, flowsText(run.flows)),
              el('td', { 'data-label': 'Webhook' }, deliveryText(run.delivery)),
              el('td', { 'data-label': 'Error' }, run.error || '—'))));
            show($('job-failures'), JSON.stringify(failures), () => failures.length
              ? failures.map((record) => el('li', {}, timeNode(record.kwargs.scheduled_for), record.kwargs.error))
              : el('li', { class: 'muted' }, 'None.'));
          }

          // MARK: Refreshing

          let refreshing = null;
          let timer = null;
          let painted = false;
          let refreshes = 0;

          async function refreshOverview(where) {
            const [service, page, upcoming, board] = await Promise.allSettled([
              api('GET', 'service/state'),
              api('GET', 'jobs', listingParameters(where)),
              api('GET', 'schedules/upcoming', { hours: 24, limit: 1000, per_job: 48 }),
              api('GET', 'flows/summary'),
            ]);
            if (service.status === 'fulfilled') renderService(service.value.state);
            if (page.status === 'fulfilled') {
              renderJobs(page.value, where);
              if (!painted) {
                painted = true;
                requestAnimationFrame(() => performance.mark('kairos-jobs-painted'));
              }
            }
            if (upcoming.status === 'fulfilled') renderTimeline(upcoming.value);
            if (board.status === 'fulfilled') renderBoard(board.value);
            const failed = [service, page, upcoming, board].find((result) => result.status === 'rejected');
            report(failed ? failed.reason : null);
          }

          async function refreshJob(id) {
            try {
              const [service, shown, schedule, runs, failed] = await Promise.all([
                api('GET', 'service/state'),
                api('GET', jobPath(id)),
                api('GET', jobPath(id, '/schedule'), { count: 10 }),
                api('GET', jobPath(id, '/runs'), { limit: 20 }),
                api('GET', 'jobs', { job_type: 'failed', failed_job_id: id, limit: 20 }),
              ]);
              renderService(service.state);
              renderJobPage(shown.job, schedule, runs, failed.jobs);
              report(null);
            } catch (error) {
              report(error);
            }
          }

          // One refresh at a time: a caller arriving while one runs waits for it, then starts its own
          // (several waiting callers start one between them).
          async function refresh() {
            while (refreshing) await refreshing.catch(() => {});
            clearTimeout(timer);
            const where = place();
            $('overview').hidden = Boolean(where.job);
            $('job-view').hidden = !where.job;
            if ($('prefix').value !== where.prefix && document.activeElement !== $('prefix')) $('prefix').value = where.prefix;
            $('state').value = where.show;
            refreshing = (where.job ? refreshJob(where.job) : refreshOverview(where)).finally(() => {
              refreshing = null;
              refreshes += 1;
              document.body.dataset.refreshes = String(refreshes);
              say(`Updated ${hourFormat.format(new Date())}; refreshes every ${REFRESH_MS / 1000} s`);
              timer = setTimeout(refresh, REFRESH_MS);
            });
            return refreshing;
          }

          // MARK: Wiring

          function start() {
            $('legend').replaceChildren(...legend());
            const token = $('token');
            token.value = sessionStorage.getItem(TOKEN_KEY) || '';
            token.addEventListener('change', () => {
              if (token.value) sessionStorage.setItem(TOKEN_KEY, token.value); else sessionStorage.removeItem(TOKEN_KEY);
              refresh();
            });
            let typing = null;
            $('prefix').addEventListener('input', () => {
              clearTimeout(typing);
              typing = setTimeout(() => { pageHistory = []; go({ prefix: $('prefix').value, after: '' }, { replace: true }); }, 300);
            });
            $('state').addEventListener('change', () => { pageHistory = []; go({ show: $('state').value, after: '' }); });
            $('page-first').addEventListener('click', () => { pageHistory = []; go({ after: '' }); });
            $('page-previous').addEventListener('click', () => go({ after: pageHistory.pop() || '' }));
            $('page-next').addEventListener('click', () => {
              if (!lastPage || !lastPage.jobs.length) return;
              pageHistory.push(place().after);
              go({ after: lastPage.jobs[lastPage.jobs.length - 1].job_id });
            });
            $('back').addEventListener('click', (event) => { event.preventDefault(); go({ job: '' }); });
            $('service-toggle').addEventListener('click', () => {
              const pausing = serviceState !== 'paused';
              act(pausing ? 'Pause the whole service? No job fires until it is resumed.' : 'Resume the service? Jobs fire again from now (missed slots follow each job\'s misfire rules).',
                pausing ? 'Pause service' : 'Resume service',
                () => api('PUT', 'service/state', { state: pausing ? 'paused' : 'running' }),
                pausing ? 'Service paused.' : 'Service resumed.');
            });
            $('job-toggle').addEventListener('click', () => {
              if (!shownJob) return;
              const id = shownJob.job_id;
              const pausing = shownJob.state !== 'paused';
              act(pausing ? `Pause job "${id}"? It does not fire until resumed.` : `Resume job "${id}"? It fires from its next slot after now.`,
                pausing ? 'Pause job' : 'Resume job',
                () => api('PUT', jobPath(id), { state: pausing ? 'paused' : 'running' }),
                pausing ? `Job ${id} paused.` : `Job ${id} resumed.`);
            });
            $('job-run').addEventListener('click', () => {
              if (!shownJob) return;
              const id = shownJob.job_id;
              act(`Run job "${id}" once now? Its schedule stays as it is.`, 'Run now', () => api('POST', jobPath(id, '/run')), `Job ${id} fired.`);
            });
            window.addEventListener('hashchange', () => refresh());
            let resizing = null;
            window.addEventListener('resize', () => { clearTimeout(resizing); resizing = setTimeout(refresh, 200); });
            refresh();
          }

          start();
        })();
        """#
}
