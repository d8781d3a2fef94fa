import { escapeHtml as esc } from '../render/xml.js';
import { brusselsTime, shortDuration } from './brusselsTime.js';
import { cellId, gridHtml, reportHref } from './statusGrid.js';
import type { StatusSnapshot } from './statusSnapshot.js';

/** Seconds between two reloads of the page. */
export const REFRESH_SECONDS = 30;

/**
 * The read-only page an operator keeps open: the flows × periods grid, the paused flows, what
 * runs now and what waits in the queue, the instances and their last tick, the last runs with
 * their durations, the next runs, and every period with what to do. Times in Europe/Brussels
 * with their offset; reloads itself every REFRESH_SECONDS.
 */
export function statusToHtml(s: StatusSnapshot): string {
  const rows = s.periods
    .map(
      (p) =>
        `<tr data-flow="${esc(p.flow)}" data-period="${esc(p.period)}"><td>${esc(p.flow)}</td><td><a href="#${esc(cellId(p))}">${esc(p.period)}</a></td>` +
        `<td class="state ${esc(p.state)}">${esc(p.state)}${p.overdue ? ' (overdue)' : ''}</td><td class="phase ${esc(p.phase)}">${esc(p.phase.replace('_', ' '))}</td>` +
        `<td class="action">${esc(p.action ?? '')}</td><td>${p.quarantined ?? ''}</td>` +
        `<td${p.deadlineAtRisk ? ' class="at-risk"' : ''}>${esc(p.deadline)}</td><td${p.deadlineAtRisk ? ' class="at-risk"' : ''}>${p.daysRemaining}</td>` +
        `<td>${p.runId ? `<a href="${reportHref(p)}">report</a>` : ''}</td></tr>`,
    )
    .join('\n');
  const table = (id: string, head: string[], body: string[], empty: string): string =>
    body.length === 0
      ? `<p id="${id}" class="empty">${esc(empty)}</p>`
      : `<table id="${id}"><thead><tr>${head.map((h) => `<th>${esc(h)}</th>`).join('')}</tr></thead><tbody>\n${body.join('\n')}\n</tbody></table>`;
  const next = s.next.map((n) => `<tr><td>${esc(n.flow)}</td><td>${esc(brusselsTime(n.at) || 'never')}</td></tr>`);
  const running = s.running.map(
    (r) =>
      `<tr data-run="${r.runId}"><td>#${r.runId}</td><td>${esc(r.flow)}</td><td>${esc(r.period)}</td><td>${esc(brusselsTime(r.startedAt))}</td><td class="elapsed">${esc(shortDuration(r.elapsedSeconds))}</td><td>${esc(r.startedBy)}@${esc(r.host)}</td></tr>`,
  );
  const waiting = s.queue.waiting.map((w) => `<tr><td>${esc(w.flow)}</td><td>${esc(w.period)}</td><td>${esc(brusselsTime(w.since))}</td></tr>`);
  const depth = ['created', 'retry', 'active'].map((k) => `${k} ${s.queue.depth[k] ?? 0}`).join(', ');
  const instances = s.instances.map(
    (i) =>
      `<tr data-instance="${esc(i.instance)}" class="${i.alive ? 'alive' : 'stale'}"><td>${esc(i.instance)}</td><td>${esc(brusselsTime(i.startedAt))}</td><td>${esc(brusselsTime(i.lastTickAt))}</td><td>${i.alive ? 'ticking' : 'no recent tick'}</td></tr>`,
  );
  const recent = s.recentRuns.map(
    (r) =>
      `<tr data-run="${r.runId}"><td>#${r.runId}</td><td>${esc(r.flow)}</td><td><a href="${reportHref(r)}">${esc(r.period)}</a></td><td class="state ${esc(r.state)}">${esc(r.state)}</td><td>${esc(r.kind)}</td><td>${esc(brusselsTime(r.startedAt))}</td><td class="duration">${r.durationSeconds === null ? '' : esc(shortDuration(r.durationSeconds))}</td><td>${r.emitted ?? ''}</td><td>${esc(r.startedBy)}</td></tr>`,
  );
  const unsettled = s.unsettledReplies.map(
    (r) =>
      `<tr data-issue="${esc(r.issue)}"><td>${esc(r.name)}</td><td>${esc(r.issue.replace('_', ' '))}</td><td>${esc(brusselsTime(r.at))}</td><td>${esc(r.server)}</td><td>${esc(r.reason)}</td><td>${r.action ? `<code>${esc(r.action)}</code>` : ''}</td></tr>`,
  );
  const paused = s.paused.length
    ? `<h2>Paused flows</h2><ul id="paused">${s.paused.map((p) => `<li data-flow="${esc(p.flow)}"><b>${esc(p.flow)}</b> paused since ${esc(brusselsTime(p.at))} by ${esc(p.by)}: ${esc(p.reason)} (<code>maillon resume ${esc(p.flow)}</code>)</li>`).join('')}</ul>`
    : '';
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta http-equiv="refresh" content="${REFRESH_SECONDS}"><title>maillon status (${esc(s.environment)})</title>
<style>body{font-family:system-ui,sans-serif;margin:2em}table{border-collapse:collapse;margin-bottom:1.5em}td,th{border:1px solid #bbb;padding:3px 8px;vertical-align:top}
.rejected,.failed,.needs_attention,.given_up{color:#b00020;font-weight:bold}.accepted,.delivered{color:#176b2c}.planned,.stale{color:#666}
.cell{min-width:7em}.cell.to_do{background:#fff8e1}.cell.running,.cell.in_progress{background:#e3f2fd}.cell.failed,.cell.given_up,.cell.needs_attention{background:#fde0e0}
.cell.delivered{background:#e6f4ea}.cell.nothing_to_send{background:#f1f3f4}.cell.outside_window,.cell.closed{background:#eee;color:#555;font-style:italic}
.cat{padding:1px 6px;border:1px solid #bbb}.cat.to_do{background:#fff8e1}.cat.running,.cat.in_progress{background:#e3f2fd}.cat.failed,.cat.given_up,.cat.needs_attention{background:#fde0e0}.cat.delivered{background:#e6f4ea}.cat.nothing_to_send{background:#f1f3f4}.cat.outside_window,.cat.closed{background:#eee}
.at-risk{outline:3px solid #b00020;color:#b00020;font-weight:bold}.risk{color:#b00020}.paused-tag{background:#b00020;color:#fff;padding:0 4px;font-size:80%}</style></head>
<body><h1>maillon — environment ${esc(s.environment)}</h1>
<p>as of <time datetime="${esc(s.at)}">${esc(brusselsTime(s.at))}</time> (Europe/Brussels) · reloads every ${REFRESH_SECONDS} s · serve catches up ${s.catchUpDays} days (MAILLON_CATCHUP_DAYS) · <a href="/status.json">JSON</a> · <a href="/metrics">metrics</a> · <a href="/healthz">health</a></p>
<form id="trace" action="/trace" method="post">Trace a record: <input name="key" placeholder="dossier key or INSS" required> <button>trace</button></form>
${gridHtml(s)}
${paused}
<h2>Replies set aside (no period) or replaced</h2>
${table('unsettled-replies', ['reply', 'issue', 'at', 'server', 'reason', 'to read it again'], unsettled, 'No reply is set aside without a period, and none was replaced on the server.')}
<h2>Running now</h2>
${table('running', ['run', 'flow', 'period', 'started', 'elapsed', 'by'], running, 'No run is running now.')}
<h2>Queue</h2><p id="queue-depth">jobs: ${esc(depth)}</p>
${table('queue', ['flow', 'period', 'queued since'], waiting, 'No job waits.')}
<h2>Instances</h2>
${table('instances', ['instance', 'started', 'last tick', ''], instances, 'No maillon serve instance has ticked this week.')}
<h2>Last runs</h2>
${table('recent', ['run', 'flow', 'period', 'state', 'kind', 'started', 'duration', 'emitted', 'by'], recent, 'No run yet.')}
<h2>Next scheduled runs</h2>
${table('next', ['flow', 'at'], next, 'No schedule.')}
<h2>Periods</h2>
<table id="periods"><thead><tr><th>flow</th><th>period</th><th>state</th><th>phase</th><th>what to do</th><th>quarantined</th><th>deadline</th><th>days remaining</th><th></th></tr></thead>
<tbody>
${rows}
</tbody></table></body></html>
`;
}
