import { stringify } from 'csv-stringify/sync';
import type { Report } from './report.js';
import { listsOf, type ReportLists } from './runLists.js';
import { collectChunks } from './chunks.js';
import { unmatchedDetail } from './delivery.js';
import { REPORT_CSV_OPTIONS } from './reportLists.js';

type Row = (string | number)[];

// Rows are turned into CSV text this many at a time: one call per batch, memory of one batch.
const BATCH = 1000;

/**
 * The report as CSV: one `section,name,value,detail` row per fact, for spreadsheets; the long lists
 * are streamed in full, as PostgreSQL writes them when they come from the ledger. A text cell that
 * a spreadsheet would take for a formula gets a single quote before it; numbers stay numbers.
 */
export async function* csvChunks(r: Report, lists: ReportLists): AsyncGenerator<string> {
  const rows: Row[] = [['section', 'name', 'value', 'detail']];
  rows.push(['run', 'flow', r.flow, ''], ['run', 'period', r.period, ''], ['run', 'environment', r.environment, ''], ['run', 'asOf', r.asOf, ''], ['run', 'runId', r.runId, '']);
  for (const [k, v] of Object.entries(r.counts)) rows.push(['counts', k, v, '']);
  for (const [k, v] of Object.entries(r.delivery.records) as [string, number][]) rows.push(['records', k, v, '']);
  rows.push(['receivers', 'phase', r.receivers.phase, r.receivers.action ?? ''], ['receivers', 'state', r.receivers.state, '']);
  for (const [k, v] of Object.entries(r.quarantineByRule)) rows.push(['quarantine-rule', k, v, '']);
  yield stringify(rows, REPORT_CSV_OPTIONS);
  yield* lists.text ? lists.text.quarantine.csv() : batches(lists.quarantine, (q) => ['quarantine', q.sourceKey, q.rule, q.message]);
  rows.length = 0;
  for (const f of r.files) {
    const d = r.delivery.files.find((x) => x.name === f.name);
    rows.push(['file', f.name, d?.state ?? '', `${f.records} records; ack ${d?.ack ?? '-'}; noti ${d?.noti ?? '-'}${d?.overdue ? '; OVERDUE' : ''}`]);
  }
  if (rows.length) yield stringify(rows, REPORT_CSV_OPTIONS);
  yield* lists.text ? lists.text.recordIssues.csv() : batches(lists.recordIssues, (i) => ['record', i.sourceKey, i.state, `${i.file} ${i.codes}`]);
  yield* lists.text ? lists.text.unmatchedAnomalies.csv() : batches(lists.unmatchedAnomalies, (a) => ['unmatched-anomaly', a.file, a.code, unmatchedDetail(a)]);
  rows.length = 0;
  for (const p of r.replyIssues) rows.push(['reply', p.name, p.state, `${p.receivedAt} about ${p.file}: ${p.reason}`]);
  rows.push(['deadline', r.deadline, r.daysRemaining, 'days remaining']);
  for (const [k, v] of Object.entries(r.facts ?? {})) rows.push(['fact', k, typeof v === 'number' ? v : String(v), '']);
  for (const c of r.checks) rows.push(['check', c.name, c.ok ? 'ok' : 'FAILED', c.detail]);
  for (const v of r.versions) {
    rows.push(['version', `#${v.runId}`, v.kind, `by ${v.startedBy} at ${v.startedAt}${v.previousRunId === null ? '' : `; corrects #${v.previousRunId}`}${v.reason ? `; reason: ${v.reason}` : ''}`]);
    for (const f of v.files) rows.push(['version-file', f.name, f.state, `run #${v.runId}; ${f.submissionKind} to ${f.receiver}; ${f.records} records; ack ${f.ack ?? '-'}; noti ${f.noti ?? '-'}`]);
  }
  for (const h of r.receivers.holds)
    rows.push([
      'holds',
      h.receiver,
      h.files.map((f) => f.name).join(' ') || 'nothing',
      h.files.map((f) => `${f.name}: ${f.kind} ${f.state}${f.mayHold ? ` (${f.state === 'rejected' ? 'accepted after it' : 'answered after cancel'}: may hold it)` : ''}`).join('; '),
    ]);
  rows.push(['records', 'pendingAllVersions', r.pendingRecords, ''], ['verdict', 'accountedFor', r.accountedFor ? 'yes' : 'no', r.unaccounted ?? '']);
  yield stringify(rows, REPORT_CSV_OPTIONS);
}

async function* batches<T>(items: AsyncIterable<T>, row: (item: T) => Row): AsyncGenerator<string> {
  let batch: Row[] = [];
  for await (const item of items) {
    batch.push(row(item));
    if (batch.length >= BATCH) {
      yield stringify(batch, REPORT_CSV_OPTIONS);
      batch = [];
    }
  }
  if (batch.length) yield stringify(batch, REPORT_CSV_OPTIONS);
}

/** The CSV of a report already in memory. */
export function reportToCsv(r: Report): Promise<string> {
  return collectChunks(csvChunks(r, listsOf(r)));
}
