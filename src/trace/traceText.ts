import { escapeControls } from '../system/escapeControls.js';
import type { Trace, TraceAnomaly, TraceEntry, TraceUnmatchedAnomaly } from './readTrace.js';

/** Where the record went in one extraction, in a few words. */
export function whereTo(e: TraceEntry): string {
  if (e.outcome === 'quarantined') return `quarantined under ${e.rule}: ${e.message ?? ''}`;
  if (e.outcome === 'unchanged') return `unchanged: identical to what was sent (AttestationID ${e.attestationId ?? '-'}), not sent again`;
  const bytes = e.byteRange ? `, bytes ${e.byteRange.offset}–${e.byteRange.offset + e.byteRange.bytes - 1}` : '';
  return `emitted in ${e.file} at position ${e.position}${bytes}, AttestationID ${e.attestationId ?? '-'}, status ${e.status}`;
}

/** The trace as text for a person: one block per extraction, oldest run first. */
export function traceToText(t: Trace): string {
  const lines: string[] = [`trace of ${t.query.kind === 'inss' ? 'INSS' : 'dossier key'} ${escapeControls(t.query.value)}: ${t.entries.length} extraction(s)`];
  if (t.entries.length === 0) lines.push('  no run extracted this record (or only dry runs did)');
  for (const e of t.entries) {
    lines.push(
      `  ${e.flow} ${e.period} env ${e.environment} — run #${e.runId} ${e.runKind} by ${escapeControls(e.startedBy)} at ${e.startedAt}${e.runReason ? ` (reason: ${escapeControls(e.runReason)})` : ''}`,
    );
    lines.push(`    dossier key ${escapeControls(e.sourceKey)}${e.recordKey ? `, record ${escapeControls(e.recordKey)}` : ''}`);
    lines.push(`    ${escapeControls(whereTo(e))}`);
    if (e.submissionId !== null) lines.push(`    submission #${e.submissionId} ${e.submissionState}; ACRF ${e.ack ?? '-'}${ackErrors(e)}; NOTI ${e.noti ?? '-'}`);
    for (const p of e.replies) lines.push(`    reply ${escapeControls(p.name)} (${p.kind ?? '?'}, ${p.state}) received ${p.receivedAt}`);
    for (const a of e.fileAnomalies) lines.push(`    anomaly of the whole file ${anomalyText(a)}`);
    for (const a of e.unmatchedAnomalies) lines.push(`    anomaly naming a record the file does not hold (${namedRecord(a)}) ${anomalyText(a)}`);
    for (const a of e.anomalies) lines.push(`    anomaly ${anomalyText(a)}`);
    lines.push(`    final state: ${e.finalState}${e.receiverMayHold ? `; ${mayHoldText(e)}` : ''}`);
  }
  return `${lines.join('\n')}\n`;
}

/** The ACRF's error ids after its state, ` (E1, E2)`; nothing when it gave none. */
function ackErrors(e: TraceEntry): string {
  return e.ackErrors.length === 0 ? '' : ` (${e.ackErrors.map(escapeControls).join(', ')})`;
}

function anomalyText(a: TraceAnomaly): string {
  return `${escapeControls(a.code)}${a.blocking ? ' (blocking)' : ''} in ${escapeControls(a.reply)}${otherInss(a)}${a.description ? `: ${escapeControls(a.description)}` : ''}`;
}

/** ` (named by its AttestationID, with INSS 85*******28)` when the anomaly gives another INSS than its record's. */
export function otherInss(a: TraceAnomaly): string {
  return a.otherInss === undefined ? '' : ` (named by its AttestationID, with INSS ${escapeControls(a.otherInss)})`;
}

/** The record an unmatched anomaly names: `INSS 00*******97, AttestationID 123`. */
export function namedRecord(a: TraceUnmatchedAnomaly): string {
  return [a.inss === null ? null : `INSS ${escapeControls(a.inss)}`, a.attestationId === null ? null : `AttestationID ${escapeControls(a.attestationId)}`].filter((x) => x !== null).join(', ');
}

/** Why the receiver may hold a record whose submission says cancelled or rejected, and where to act. */
export function mayHoldText(e: Pick<TraceEntry, 'submissionState'>): string {
  const why = e.submissionState === 'cancelled' ? 'it answered the submission after its cancel' : 'it accepted the submission in a later reply';
  return `but the receiver may hold it: ${why}, and nothing was sent to it for the period since ("maillon status" says what to do)`;
}
