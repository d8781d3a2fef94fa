import type { Trace, TraceEntry } from './readTrace.js';

// Every character but the printable ones, i.e. the control characters U+0000-U+001F and U+007F.
const safe = (s: string): string => s.replace(/[^\u0020-\u007e\u0080-\uffff]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);

/** Where the record went in one extraction, in a few words. */
export function whereTo(e: TraceEntry): string {
  if (e.outcome === 'quarantined') return `quarantined under ${e.rule}: ${e.message ?? ''}`;
  if (e.outcome === 'unchanged') return `unchanged: identical to what was sent (AttestationID ${e.attestationId ?? '-'}), not sent again`;
  const bytes = e.byteRange ? `, bytes ${e.byteRange.offset}–${e.byteRange.offset + e.byteRange.bytes - 1}` : '';
  return `emitted in ${e.file} at position ${e.position}${bytes}, AttestationID ${e.attestationId ?? '-'}, status ${e.status}`;
}

/** The trace as text for a person: one block per extraction, oldest run first. */
export function traceToText(t: Trace): string {
  const lines: string[] = [`trace of ${t.query.kind === 'inss' ? 'INSS' : 'dossier key'} ${safe(t.query.value)}: ${t.entries.length} extraction(s)`];
  if (t.entries.length === 0) lines.push('  no run extracted this record (or only dry runs did)');
  for (const e of t.entries) {
    lines.push(`  ${e.flow} ${e.period} env ${e.environment} — run #${e.runId} ${e.runKind} by ${safe(e.startedBy)} at ${e.startedAt}${e.runReason ? ` (reason: ${safe(e.runReason)})` : ''}`);
    lines.push(`    dossier key ${safe(e.sourceKey)}${e.recordKey ? `, record ${safe(e.recordKey)}` : ''}`);
    lines.push(`    ${safe(whereTo(e))}`);
    if (e.submissionId !== null) lines.push(`    submission #${e.submissionId} ${e.submissionState}; ACRF ${e.ack ?? '-'}; NOTI ${e.noti ?? '-'}`);
    for (const p of e.replies) lines.push(`    reply ${safe(p.name)} (${p.kind ?? '?'}, ${p.state}) received ${p.receivedAt}`);
    for (const a of e.anomalies) lines.push(`    anomaly ${safe(a.code)}${a.blocking ? ' (blocking)' : ''} in ${safe(a.reply)}${a.description ? `: ${safe(a.description)}` : ''}`);
    lines.push(`    final state: ${e.finalState}`);
  }
  return `${lines.join('\n')}\n`;
}
