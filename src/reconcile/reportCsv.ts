import { stringify } from 'csv-stringify/sync';
import type { Report } from './report.js';

/** The report as CSV: one `section,name,value,detail` row per fact, for spreadsheets. */
export function reportToCsv(r: Report): string {
  const rows: (string | number)[][] = [['section', 'name', 'value', 'detail']];
  rows.push(['run', 'flow', r.flow, ''], ['run', 'period', r.period, ''], ['run', 'environment', r.environment, ''], ['run', 'asOf', r.asOf, ''], ['run', 'runId', r.runId, '']);
  for (const [k, v] of Object.entries(r.counts)) rows.push(['counts', k, v, '']);
  for (const [k, v] of Object.entries(r.delivery.records) as [string, number][]) rows.push(['records', k, v, '']);
  rows.push(['receivers', 'phase', r.receivers.phase, r.receivers.action ?? ''], ['receivers', 'state', r.receivers.state, '']);
  for (const [k, v] of Object.entries(r.quarantineByRule)) rows.push(['quarantine-rule', k, v, '']);
  for (const q of r.quarantine) rows.push(['quarantine', q.sourceKey, q.rule, q.message]);
  for (const f of r.files) {
    const d = r.delivery.files.find((x) => x.name === f.name);
    rows.push(['file', f.name, d?.state ?? '', `${f.records} records; ack ${d?.ack ?? '-'}; noti ${d?.noti ?? '-'}${d?.overdue ? '; OVERDUE' : ''}`]);
  }
  for (const i of r.delivery.recordIssues) rows.push(['record', i.sourceKey, i.state, `${i.file} ${i.codes}`]);
  for (const p of r.replyIssues) rows.push(['reply', p.name, p.state, `${p.receivedAt} about ${p.file}: ${p.reason}`]);
  rows.push(['deadline', r.deadline, r.daysRemaining, 'days remaining']);
  for (const [k, v] of Object.entries(r.facts ?? {})) rows.push(['fact', k, String(v), '']);
  for (const c of r.checks) rows.push(['check', c.name, c.ok ? 'ok' : 'FAILED', c.detail]);
  return stringify(rows);
}
