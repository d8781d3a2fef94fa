import type { Report } from './report.js';

/** Why not every record is accounted for (a failed check, records a receiver may hold, records waiting), or null. */
export function unaccounted(r: Report, answered: readonly { id: number; receiver: string; state: string }[]): string | null {
  if (!r.checks.every((c) => c.ok)) return 'A reconciliation check FAILED: not every record is accounted for.';
  const mayHold = mayHoldSentences(r, answered);
  if (mayHold) return mayHold;
  if (r.builtOnRejected.length > 0) {
    const subs = r.builtOnRejected.map((b) => `#${b.submissionId} (${b.kind} to ${b.receiver}, ${b.state}) builds on ${b.rejected.map((id) => `#${id}`).join(', ')}, which it rejected`).join('; ');
    return `${subs}: the records of the rejected version that the later one does not carry are held by no receiver. Not every record is accounted for until the period is sent again (see the receivers).`;
  }
  if (r.lateRecords && r.lateRecords.count > 0) {
    return `${r.lateRecords.count} record(s) of this period reached the dossier after its run and no version answers them: not every record is accounted for (see the receivers' action).`;
  }
  if (r.pendingRecords > 0) return `${r.pendingRecords} record(s) still wait for the receivers' final answer: not every record is accounted for yet.`;
  return null;
}

/**
 * The submissions a receiver may hold although the ledger says otherwise: cancelled ones it
 * answered after the cancel, rejected ones it accepted in a later reply; both sentences when both.
 */
function mayHoldSentences(r: Report, answered: readonly { id: number; receiver: string; state: string }[]): string | null {
  const subs = (state: string): string =>
    answered
      .filter((s) => s.state === state)
      .map((s) => `#${s.id} to ${s.receiver}`)
      .join(', ');
  const sentences: string[] = [];
  const cancelled = subs('cancelled');
  if (cancelled && r.answeredAfterCancelRecords > 0) {
    sentences.push(
      `${r.answeredAfterCancelRecords} record(s) of ${cancelled} may be held by the receiver: it answered after the cancel (it took the GO before the TD), so "cancelled" may not be true.`,
    );
  }
  const rejected = subs('rejected');
  if (rejected) sentences.push(`The receiver rejected ${rejected}, then accepted it in a later reply, so "rejected" may not be true: it may hold those ${r.acceptedAfterRejectRecords} record(s).`);
  if (sentences.length === 0) return null;
  return `${sentences.join(' ')} Not every record is accounted for until the receiver says whether it holds them (see the receivers).`;
}
