import { escapeHtml as esc } from '../render/xml.js';
import type { Report } from './report.js';

const table = (head: string[], rows: (string | number)[][], id: string): string =>
  `<table id="${id}"><thead><tr>${head.map((h) => `<th>${esc(h)}</th>`).join('')}</tr></thead><tbody>${rows
    .map((r) => `<tr>${r.map((c) => `<td>${esc(String(c))}</td>`).join('')}</tr>`)
    .join('')}</tbody></table>`;

/** The report as one self-contained HTML page (no script, no external resource) an operator opens in a browser. */
export function reportToHtml(r: Report): string {
  const d = r.delivery;
  const ok = r.checks.every((c) => c.ok);
  const late = r.daysRemaining < 0 ? `${-r.daysRemaining} days past` : `${r.daysRemaining} days remaining`;
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>${esc(`maillon — ${r.flow} ${r.period} (${r.environment})`)}</title>
<style>
  body { font-family: system-ui, sans-serif; margin: 2em; color: #222; }
  table { border-collapse: collapse; margin: 0.5em 0 1.5em; } th, td { border: 1px solid #bbb; padding: 3px 8px; text-align: left; }
  .ok { color: #176b2c; } .failed { color: #b00020; font-weight: bold; } .num { text-align: right; }
  dl { display: grid; grid-template-columns: max-content auto; gap: 2px 12px; }
</style>
</head>
<body>
<h1>${esc(`${r.flow} — ${r.period} — environment ${r.environment}`)}</h1>
<p class="${ok ? 'ok' : 'failed'}" id="verdict">${ok ? 'Every record is accounted for.' : 'A reconciliation check FAILED: see below.'}</p>
<dl>
<dt>Run</dt><dd>#${r.runId}, as of ${esc(r.asOf)}, finished ${esc(r.finishedAt)}</dd>
<dt>Legal deadline</dt><dd id="deadline">${esc(r.deadline)} (${esc(late)})</dd>
<dt>Overdue files</dt><dd id="overdue">${r.overdue}</dd>
<dt>Receivers</dt><dd id="receivers">${esc(r.receivers.phase.replace('_', ' '))} (${esc(r.receivers.state)})${r.receivers.action ? ` — ${esc(r.receivers.action)}` : ''}</dd>
</dl>
<h2>Records</h2>
${table(['extracted', 'emitted', 'quarantined', 'accepted', 'accepted with anomalies', 'rejected', 'pending', 'cancelled'], [[r.counts.extracted, r.counts.emitted, r.counts.quarantined, d.records.accepted, d.records.acceptedWithAnomalies, d.records.rejected, d.records.pending, d.records.cancelled]], 'counts')}
<h2>Checks</h2>
${table(['check', 'result', 'detail'], r.checks.map((c) => [c.name, c.ok ? 'ok' : 'FAILED', c.detail]), 'checks')}
<h2>Files</h2>
${table(['file', 'receiver', 'records', 'bytes', 'state', 'ACRF', 'NOTI', 'sent at', 'sha256'], r.files.map((f) => {
  const x = d.files.find((y) => y.name === f.name);
  return [f.name, f.receiver, f.records, f.bytes, `${x?.state ?? ''}${x?.overdue ? ' (overdue)' : ''}`, x?.ack ?? '', x?.noti ?? '', x?.sentAt ?? '', f.sha256];
}), 'files')}
<h2>Records not simply accepted</h2>
${table(['dossier key', 'state', 'file', 'codes'], d.recordIssues.map((i) => [i.sourceKey, i.state, i.file, i.codes ?? '']), 'issues')}
<h2>Replies set aside or not believed</h2>
${table(['reply', 'state', 'received at', 'about', 'why'], r.replyIssues.map((p) => [p.name, p.state === 'conflict' ? 'conflict (not believed)' : 'set aside', p.receivedAt, p.file, p.reason]), 'replies')}
<h2>Quarantine</h2>
${table(['rule', 'dossier key', 'why'], r.quarantine.map((q) => [q.rule, q.sourceKey, q.message]), 'quarantine')}
</body>
</html>
`;
}
