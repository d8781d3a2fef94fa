import { escapeControls } from '../system/escapeControls.js';
import { unmatchedDetail } from './delivery.js';
import { collectChunks } from './chunks.js';
import type { Report } from './report.js';
import { listsOf, type ReportLists } from './runLists.js';

/** The text of a report already in memory. */
export function reportToText(r: Report): Promise<string> {
  return collectChunks(textChunks(r, listsOf(r)));
}

/** The report as text for a person (the default format; also what --out FILE writes with --format text). */
export async function* textChunks(r: Report, lists: ReportLists): AsyncGenerator<string> {
  let lines: string[] = [];
  const out = (line: string): number => lines.push(line);
  out(`${r.flow} ${r.period} env ${r.environment} — run #${r.runId}, as of ${r.asOf}`);
  out(`  extracted ${r.counts.extracted}, emitted ${r.counts.emitted}, quarantined ${r.counts.quarantined}`);
  for (const [rule, n] of Object.entries(r.quarantineByRule)) out(`    ${String(n).padStart(8)}  ${rule}`);
  for (const f of r.files) out(`  ${f.name}  ${f.records} records  ${f.bytes} bytes  to ${f.receiver}  sha256 ${f.sha256}`);
  const d = r.delivery.records;
  out(
    `  records: ${d.accepted} accepted, ${d.acceptedWithAnomalies} with anomalies, ${d.rejected} rejected, ${d.pending} pending${d.cancelled ? `, ${d.cancelled} cancelled` : ''}${d.answeredAfterCancel ? `, ${d.answeredAfterCancel} answered after cancel (the receiver may hold them)` : ''}${d.acceptedAfterReject ? `, ${d.acceptedAfterReject} accepted after reject (the receiver may hold them)` : ''}`,
  );
  for (const f of r.delivery.files) out(`  ${f.name}: ${f.state}${f.overdue ? ' (OVERDUE: no ACRF)' : ''}`);
  yield `${lines.join('\n')}\n`;
  lines = [];
  // A dossier key and a reply's codes are text from outside: no control character of theirs reaches the terminal.
  for await (const i of lists.recordIssues) yield `    ${i.state.padEnd(24)} ${escapeControls(i.sourceKey)} ${escapeControls(i.codes)}\n`;
  for await (const a of lists.unmatchedAnomalies) yield `  anomaly matching no record: ${a.file} ${escapeControls(a.code)} (${escapeControls(unmatchedDetail(a))})\n`;
  for (const i of r.replyIssues) out(`  reply ${escapeControls(i.name)}: ${i.state.replace('_', ' ')} (${escapeControls(i.reason)})`);
  out(`  receivers: ${r.receivers.phase.replace('_', ' ')} (${r.receivers.state})${r.receivers.action ? ` → ${r.receivers.action}` : ''}`);
  const days = r.daysRemaining >= 0 ? `${r.daysRemaining} days remaining` : `${-r.daysRemaining} days past`;
  out(`  deadline ${r.deadline} (${days})`);
  for (const [name, value] of Object.entries(r.facts ?? {})) out(`  ${name}: ${String(value)}`);
  for (const k of r.checks) out(`  [${k.ok ? 'ok' : 'FAILED'}] ${k.name}: ${k.detail}`);
  out('  versions:');
  for (const v of r.versions) {
    out(
      `    run #${v.runId} ${v.kind} by ${escapeControls(v.startedBy)} at ${v.startedAt}${v.previousRunId === null ? '' : `, corrects #${v.previousRunId}`}${v.reason ? `, reason: ${escapeControls(v.reason)}` : ''}`,
    );
    out(`      extracted ${v.counts.extracted}, emitted ${v.counts.emitted}, quarantined ${v.counts.quarantined}, unchanged ${v.counts.unchanged}, cancelled ${v.counts.cancelled}`);
    const s = v.records;
    out(
      `      records: ${s.accepted} accepted, ${s.acceptedWithAnomalies} with anomalies, ${s.rejected} rejected, ${s.pending} pending, ${s.cancelled} cancelled${s.answeredAfterCancel ? `, ${s.answeredAfterCancel} answered after cancel` : ''}${s.acceptedAfterReject ? `, ${s.acceptedAfterReject} accepted after reject` : ''}`,
    );
    for (const f of v.files) out(`      ${f.name}  ${f.submissionKind} to ${f.receiver}  ${f.records} records  ${f.state}`);
  }
  for (const h of r.receivers.holds)
    out(
      `  ${h.receiver} holds: ${h.files.map((f) => `${f.name} (${f.kind}, ${f.state}${f.mayHold ? (f.state === 'rejected' ? ', accepted after it: may hold it' : ', answered after cancel: may hold it') : ''})`).join(', ') || 'nothing'}`,
    );
  out(
    r.accountedFor
      ? '  every record is accounted for'
      : (r.answeredAfterCancelRecords > 0 || r.acceptedAfterRejectRecords > 0 || r.builtOnRejected.length > 0 || (r.lateRecords?.count ?? 0) > 0) && r.checks.every((c) => c.ok)
        ? `  not every record is accounted for: ${r.unaccounted ?? ''}`
        : r.pendingRecords > 0
          ? `  not every record is accounted for yet: ${r.pendingRecords} pending`
          : '  a check FAILED: not every record is accounted for',
  );
  yield `${lines.join('\n')}\n`;
}
