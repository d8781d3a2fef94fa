import { escapeHtml as esc } from '../render/xml.js';
import type { StatusSnapshot } from './statusSnapshot.js';

/** The read-only status page: flows × periods with their state, deadlines, next runs; links to the reports. */
export function statusToHtml(s: StatusSnapshot): string {
  const rows = s.periods
    .map(
      (p) =>
        `<tr data-flow="${esc(p.flow)}" data-period="${esc(p.period)}"><td>${esc(p.flow)}</td><td>${esc(p.period)}</td>` +
        `<td class="state ${esc(p.state)}">${esc(p.state)}${p.overdue ? ' (overdue)' : ''}</td><td class="phase ${esc(p.phase)}">${esc(p.phase.replace('_', ' '))}</td>` +
        `<td class="action">${esc(p.action ?? '')}</td><td>${p.quarantined ?? ''}</td>` +
        `<td>${esc(p.deadline)}</td><td>${p.daysRemaining}</td>` +
        `<td>${p.runId ? `<a href="/report/${encodeURIComponent(p.flow)}/${encodeURIComponent(p.period)}">report</a>` : ''}</td></tr>`,
    )
    .join('\n');
  const next = s.next.map((n) => `<tr><td>${esc(n.flow)}</td><td>${esc(n.at ?? '')}</td></tr>`).join('\n');
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>maillon status (${esc(s.environment)})</title>
<style>body{font-family:system-ui,sans-serif;margin:2em}table{border-collapse:collapse;margin-bottom:1.5em}td,th{border:1px solid #bbb;padding:3px 8px}
.rejected,.failed,.needs_attention,.given_up{color:#b00020;font-weight:bold}.accepted,.delivered{color:#176b2c}.planned{color:#666}</style></head>
<body><h1>maillon — environment ${esc(s.environment)}</h1><p>as of ${esc(s.at)}</p>
<table id="periods"><thead><tr><th>flow</th><th>period</th><th>state</th><th>phase</th><th>what to do</th><th>quarantined</th><th>deadline</th><th>days remaining</th><th></th></tr></thead>
<tbody>
${rows}
</tbody></table>
${s.paused.length ? `<h2>Paused flows</h2><ul id="paused">${s.paused.map((p) => `<li data-flow="${esc(p.flow)}"><b>${esc(p.flow)}</b> paused since ${esc(p.at)} by ${esc(p.by)}: ${esc(p.reason)}</li>`).join('')}</ul>` : ''}
<h2>Next scheduled runs</h2><table id="next"><thead><tr><th>flow</th><th>at</th></tr></thead><tbody>
${next}
</tbody></table></body></html>
`;
}
