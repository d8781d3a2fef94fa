import { escapeHtml as esc } from '../render/xml.js';
import type { Trace, TraceAnomaly } from './readTrace.js';
import { mayHoldText, namedRecord, otherInss, whereTo } from './traceText.js';

/**
 * The trace as one self-contained HTML page (no script, no external resource): a form to trace
 * another key (posted, so that an INSS stays out of addresses), then one row per extraction. The
 * status server shows it at /trace, masked.
 */
export function traceToHtml(t: Trace | null): string {
  const rows = (t?.entries ?? [])
    .map(
      (e) =>
        `<tr><td>${esc(e.flow)}</td><td>${esc(e.period)}</td><td>${esc(e.environment)}</td><td>#${e.runId} ${esc(e.runKind)}${e.runReason ? ` (${esc(e.runReason)})` : ''}</td>` +
        `<td>${esc(e.startedBy)}</td><td>${esc(e.startedAt)}</td><td>${esc(e.sourceKey)}</td><td>${esc(e.recordKey ?? '')}</td><td>${esc(e.outcome)}</td><td>${esc(whereTo(e))}</td>` +
        `<td>${esc(e.submissionId === null ? '' : `#${e.submissionId} ${e.submissionState ?? ''}${e.ackErrors.length ? `; ACRF errors ${e.ackErrors.join(', ')}` : ''}`)}</td>` +
        `<td>${e.replies.map((p) => esc(`${p.name} (${p.kind ?? '?'}, ${p.state})`)).join('<br>')}</td>` +
        `<td>${[
          ...e.fileAnomalies.map((a) => esc(`whole file: ${anomalyText(a)}`)),
          ...e.unmatchedAnomalies.map((a) => esc(`${namedRecord(a)} not in the file: ${anomalyText(a)}`)),
          ...e.anomalies.map((a) => esc(anomalyText(a))),
        ].join('<br>')}</td>` +
        `<td class="state-${esc(e.finalState)}">${esc(e.finalState)}${e.receiverMayHold ? `<br><span class="may-hold">${esc(mayHoldText(e))}</span>` : ''}</td></tr>`,
    )
    .join('\n');
  const title = t ? `${t.query.kind === 'inss' ? 'INSS' : 'dossier key'} ${t.query.value}` : 'a record';
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>${esc(`maillon — trace of ${title}`)}</title>
<style>
  body { font-family: system-ui, sans-serif; margin: 2em; color: #222; }
  table { border-collapse: collapse; margin: 0.5em 0 1.5em; } th, td { border: 1px solid #bbb; padding: 3px 8px; text-align: left; vertical-align: top; }
  .state-rejected { color: #b00020; font-weight: bold; } .state-accepted { color: #176b2c; } .state-pending { color: #8a5a00; } .may-hold { color: #8a5a00; font-weight: bold; }
</style>
</head>
<body>
<p><a href="/">status</a></p>
<h1>${esc(`Trace of ${title}`)}</h1>
<form method="post" action="/trace"><label>dossier key or INSS <input name="key" value="${esc(t && t.query.kind === 'key' ? t.query.value : '')}"></label> <button>trace</button></form>
${
  t
    ? `<p id="summary">${t.entries.length} extraction(s), oldest run first.</p>
<table id="trace"><thead><tr><th>flow</th><th>period</th><th>env</th><th>run</th><th>started by</th><th>started at</th><th>dossier key</th><th>record</th><th>outcome</th><th>where</th><th>submission</th><th>replies</th><th>anomalies</th><th>final state</th></tr></thead>
<tbody>
${rows}
</tbody></table>`
    : ''
}
</body>
</html>
`;
}

function anomalyText(a: TraceAnomaly): string {
  return `${a.code}${a.blocking ? ' blocking' : ''}${otherInss(a)}${a.description ? `: ${a.description}` : ''}`;
}
