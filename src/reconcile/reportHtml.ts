import { escapeHtml as esc } from '../render/xml.js';
import { collectChunks } from './chunks.js';
import type { Report } from './report.js';
import { listsOf, type ReportLists } from './runLists.js';

/** The page shows this many records of each long list; the CSV has them all. */
export const HTML_LIST_LIMIT = 1000;

const thead = (head: string[], id: string): string => `<table id="${id}"><thead><tr>${head.map((h) => `<th>${esc(h)}</th>`).join('')}</tr></thead><tbody>`;
type Cell = string | number | { html: string };
const td = (c: Cell): string => `<td>${typeof c === 'object' ? c.html : esc(String(c))}</td>`;
const tr = (r: Cell[]): string => `<tr>${r.map(td).join('')}</tr>`;
/** A dossier key, linked to its trace when the page is served by the status server. */
const keyCell = (key: string, links: boolean): Cell => (links ? { html: `<a href="/trace?key=${encodeURIComponent(key)}">${esc(key)}</a>` } : key);
const table = (head: string[], rows: (string | number)[][], id: string): string => `${thead(head, id)}${rows.map(tr).join('')}</tbody></table>`;

/** A long list's table: its first `limit` rows, then a line saying how many more the CSV holds. */
async function* longTable<T>(head: string[], id: string, items: AsyncIterable<T>, total: number, limit: number, row: (item: T) => Cell[]): AsyncGenerator<string> {
  yield thead(head, id);
  let n = 0;
  for await (const item of items) {
    if (n >= limit) break;
    yield tr(row(item));
    n++;
  }
  yield '</tbody></table>\n';
  if (total > n) yield `<p class="more" id="${id}-more">The first ${n} of ${total} are shown: the full list is in the CSV (<code>--format csv</code>).</p>\n`;
}

/** The report as one self-contained HTML page of a report already in memory. */
export function reportToHtml(r: Report, limit = HTML_LIST_LIMIT): Promise<string> {
  return collectChunks(htmlChunks(r, listsOf(r), limit));
}

/**
 * The report as one self-contained HTML page (no script, no external resource) an operator opens in
 * a browser: counts, checks, versions and files in full, the first `limit` records of each long list.
 */
export async function* htmlChunks(r: Report, lists: ReportLists, limit = HTML_LIST_LIMIT, links = false): AsyncGenerator<string> {
  const d = r.delivery;
  const ok = r.checks.every((c) => c.ok);
  const verdict = !ok
    ? ['failed', 'A reconciliation check FAILED: see below.']
    : r.accountedFor
      ? ['ok', 'Every record is accounted for.']
      : ['waiting', r.unaccounted ?? `${r.pendingRecords} record(s) still wait for the receivers' final answer: not every record is accounted for yet.`];
  const late = r.daysRemaining < 0 ? `${-r.daysRemaining} days past` : `${r.daysRemaining} days remaining`;
  yield `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>${esc(`maillon — ${r.flow} ${r.period} (${r.environment})`)}</title>
<style>
  body { font-family: system-ui, sans-serif; margin: 2em; color: #222; }
  table { border-collapse: collapse; margin: 0.5em 0 1.5em; } th, td { border: 1px solid #bbb; padding: 3px 8px; text-align: left; }
  .ok { color: #176b2c; } .failed { color: #b00020; font-weight: bold; } .num { text-align: right; } .waiting { color: #8a5a00; font-weight: bold; }
  dl { display: grid; grid-template-columns: max-content auto; gap: 2px 12px; }
</style>
</head>
<body>
${links ? '<p><a href="/">status</a></p>\n' : ''}<h1>${esc(`${r.flow} — ${r.period} — environment ${r.environment}`)}</h1>
<p class="${verdict[0]}" id="verdict">${esc(verdict[1]!)}</p>
<dl>
<dt>Run</dt><dd>#${r.runId}, as of ${esc(r.asOf)}, finished ${esc(r.finishedAt)}</dd>
<dt>Legal deadline</dt><dd id="deadline">${esc(r.deadline)} (${esc(late)})</dd>
<dt>Overdue files</dt><dd id="overdue">${r.overdue}</dd>
<dt>Receivers</dt><dd id="receivers">${esc(r.receivers.phase.replace('_', ' '))} (${esc(r.receivers.state)})${r.receivers.action ? ` — ${esc(r.receivers.action)}` : ''}</dd>
</dl>
<h2>Records</h2>
${table(
  ['extracted', 'emitted', 'quarantined', 'accepted', 'accepted with anomalies', 'rejected', 'pending', 'cancelled', 'answered after cancel (may be held)', 'accepted after reject (may be held)'],
  [
    [
      r.counts.extracted,
      r.counts.emitted,
      r.counts.quarantined,
      d.records.accepted,
      d.records.acceptedWithAnomalies,
      d.records.rejected,
      d.records.pending,
      d.records.cancelled,
      d.records.answeredAfterCancel,
      d.records.acceptedAfterReject,
    ],
  ],
  'counts',
)}
<h2>Checks</h2>
${table(
  ['check', 'result', 'detail'],
  r.checks.map((c) => [c.name, c.ok ? 'ok' : 'FAILED', c.detail]),
  'checks',
)}
<h2>Files</h2>
${table(
  ['file', 'receiver', 'records', 'bytes', 'state', 'ACRF', 'NOTI', 'sent at', 'sha256'],
  r.files.map((f) => {
    const x = d.files.find((y) => y.name === f.name);
    return [f.name, f.receiver, f.records, f.bytes, `${x?.state ?? ''}${x?.overdue ? ' (overdue)' : ''}`, x?.ack ?? '', x?.noti ?? '', x?.sentAt ?? '', f.sha256];
  }),
  'files',
)}
<h2>Versions sent</h2>
${table(
  [
    'run',
    'version',
    'reason',
    'started by',
    'started at',
    'corrects run',
    'extracted',
    'emitted',
    'quarantined',
    'unchanged',
    'cancelled',
    'accepted',
    'with anomalies',
    'rejected',
    'pending',
    'records cancelled',
    'answered after cancel',
    'accepted after reject',
  ],
  r.versions.map((v) => [
    `#${v.runId}`,
    v.kind,
    v.reason ?? '',
    v.startedBy,
    v.startedAt,
    v.previousRunId === null ? '' : `#${v.previousRunId}`,
    v.counts.extracted,
    v.counts.emitted,
    v.counts.quarantined,
    v.counts.unchanged,
    v.counts.cancelled,
    v.records.accepted,
    v.records.acceptedWithAnomalies,
    v.records.rejected,
    v.records.pending,
    v.records.cancelled,
    v.records.answeredAfterCancel,
    v.records.acceptedAfterReject,
  ]),
  'versions',
)}
${table(
  ['run', 'file', 'receiver', 'submission', 'kind', 'records', 'state', 'ACRF', 'NOTI', 'sent at'],
  r.versions.flatMap((v) => v.files.map((f) => [`#${v.runId}`, f.name, f.receiver, f.submissionId, f.submissionKind, f.records, f.state, f.ack ?? '', f.noti ?? '', f.sentAt ?? ''])),
  'version-files',
)}
<h2>What each receiver holds now</h2>
${table(
  ['receiver', 'file', 'run', 'kind', 'state', 'records'],
  r.receivers.holds.flatMap((h) =>
    h.files.length
      ? h.files.map((f) => [
          h.receiver,
          f.name,
          `#${f.runId}`,
          f.kind,
          f.mayHold ? `${f.state}, ${f.state === 'rejected' ? 'accepted after it' : 'answered after cancel'}: may hold it` : f.state,
          f.records,
        ])
      : [[h.receiver, 'nothing', '', '', '', '']],
  ),
  'holds',
)}
<h2>Replies set aside or not believed</h2>
${table(
  ['reply', 'state', 'received at', 'about', 'why'],
  r.replyIssues.map((p) => [p.name, p.state === 'conflict' ? 'conflict (not believed)' : 'set aside', p.receivedAt, p.file, p.reason]),
  'replies',
)}
<h2>Records not simply accepted</h2>
`;
  // A rejected file's records are listed rejected, with its codes, also when its receiver accepted it since (counted acceptedAfterReject).
  yield* longTable(['dossier key', 'state', 'file', 'codes'], 'issues', lists.recordIssues, d.records.rejected + d.records.acceptedAfterReject + d.records.acceptedWithAnomalies, limit, (i) => [
    keyCell(i.sourceKey, links),
    i.state,
    i.file,
    i.codes ?? '',
  ]);
  yield '<h2>Anomalies that match no record</h2>\n';
  // About a file as a whole, or naming a record the file does not hold: a rejected file's records carry their codes.
  yield* longTable(['file', 'reply', 'code', 'blocking', 'INSS', 'AttestationID'], 'unmatched', lists.unmatchedAnomalies, d.unmatchedAnomalies, limit, (a) => [
    a.file,
    a.reply,
    a.code,
    a.blocking ? 'blocking' : 'not blocking',
    a.inss ?? '',
    a.attestationId ?? '',
  ]);
  yield '<h2>Quarantine</h2>\n';
  const quarantined = Object.values(r.quarantineByRule).reduce((n, k) => n + k, 0);
  yield* longTable(['rule', 'dossier key', 'why'], 'quarantine', lists.quarantine, quarantined, limit, (q) => [q.rule, keyCell(q.sourceKey, links), q.message]);
  yield '</body>\n</html>\n';
}
