// The one definition of a submission its receiver "may hold" although the ledger says it does not
// (docs/state-rules.md): the period view (status, run, rerun, serve, the report's receivers) and the
// report's record counts (src/reconcile/delivery.ts) both read it from this expression.

/**
 * SQL expression (boolean) for the submission aliased `s`: its receiver may hold it. It is
 * cancelled and the receiver answered it after the cancel (it took the GO before the TD), or
 * rejected and the receiver accepted it in a later reply (a positive ACRF or NOTI after a negative
 * one): both set `answered_after_cancel_at` (ledger migrations 110, 160). And nothing was written to
 * that receiver for the period once that reply was known: a submission with a higher id than
 * `answered_after_cancel_last_id`, the highest id then (migration 150; null for replies recorded
 * before it, when any later submission counts). A run or rerun since is the operator's word that
 * the receiver holds none of it; one written between the cancel or rejection and the reply (by
 * serve or backfill) decides nothing.
 */
export function mayHoldSql(s: string): string {
  return `(${s}.state IN ('cancelled', 'rejected') AND ${s}.answered_after_cancel_at IS NOT NULL AND NOT EXISTS (
    SELECT FROM maillon.submissions mh
    WHERE mh.flow = ${s}.flow AND mh.period = ${s}.period AND mh.environment = ${s}.environment AND mh.receiver = ${s}.receiver
      AND mh.submission_id > greatest(${s}.submission_id, ${s}.answered_after_cancel_last_id)))`;
}
