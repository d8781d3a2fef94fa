import { z } from 'zod';
import type { PoolClient } from '../db/database.js';
import { queryFirst } from '../db/queryRows.js';
import { appendEvent } from './events.js';

/** Every state of a submission (migration 009 states the moves between them). */
export const SUBMISSION_STATES = ['written', 'sent', 'received', 'accepted', 'accepted_with_anomalies', 'rejected', 'cancelled'] as const;
export type SubmissionState = (typeof SUBMISSION_STATES)[number];

/** States in which the receiver holds, or is about to hold, the submission's records. */
export const LIVE_STATES: readonly SubmissionState[] = ['written', 'sent', 'received', 'accepted', 'accepted_with_anomalies'];

/** States after which nothing more can happen to a submission: never left. */
export const FINAL_STATES: readonly SubmissionState[] = ['accepted', 'accepted_with_anomalies', 'rejected', 'cancelled'];

/** What a submission is for its receiver: the first version, or a later one (records, or whole). */
export type SubmissionKind = 'original' | 'correction' | 'replacement' | 'duplicate';

/** True when the receiver holds (or will hold) the submission. */
export function isLive(state: string): boolean {
  return (LIVE_STATES as readonly string[]).includes(state);
}

/** True for a state that is never left. */
export function isFinal(state: string): boolean {
  return (FINAL_STATES as readonly string[]).includes(state);
}

/** One guarded move of a submission, with the event that records it. */
export interface Transition {
  submissionId: number;
  /** The states the submission may leave; never a final one. */
  from: readonly SubmissionState[];
  to: SubmissionState;
  at: Date;
  event: { kind: string; detail: Record<string, unknown> };
}

/**
 * Moves a submission from one of `from` to `to` in one conditional statement inside the caller's
 * transaction, and appends its event there only when the row changed. Returns false when the
 * submission was in none of `from` (another process moved it first): nothing is written then.
 * Reaching `sent` also records when it was sent.
 */
export async function transitionSubmission(tx: PoolClient, t: Transition): Promise<boolean> {
  const final = t.from.filter(isFinal);
  if (final.length > 0) throw new Error(`a transition may not leave the final state(s) ${final.join(', ')}`);
  const res = await tx.query(
    `UPDATE maillon.submissions
     SET state = $2,
         sent_at = CASE WHEN $2 = 'sent' THEN $3 ELSE sent_at END,
         go_started_at = CASE WHEN $2 = 'sent' THEN coalesce(go_started_at, $3) ELSE go_started_at END
     WHERE submission_id = $1 AND state = ANY($4::text[])
     RETURNING submission_id`,
    [t.submissionId, t.to, t.at, t.from],
  );
  if (res.rowCount === 0) return false;
  await appendEvent(tx, { at: t.at, submissionId: t.submissionId, kind: t.event.kind, detail: t.event.detail });
  return true;
}

/**
 * Moves a submission to the state its files' replies say (any file rejected → rejected; every file
 * notified → accepted, or accepted_with_anomalies; every file acknowledged or notified → received), in one
 * guarded statement: only from written (once its GO was started), sent or received. A final
 * submission is left as it is. Returns the state it moved to, or null when it did not move. The
 * caller records the reply's event.
 */
export async function settleFromReplies(tx: PoolClient, submissionId: number): Promise<SubmissionState | null> {
  const row = await queryFirst(
    tx,
    `UPDATE maillon.submissions s SET state = agg.target
     FROM (
       SELECT CASE WHEN bool_or(ack_state = 'rejected' OR noti_state = 'rejected') THEN 'rejected'
                   WHEN bool_and(noti_state IS NOT NULL) AND bool_or(noti_state = 'accepted_with_anomalies') THEN 'accepted_with_anomalies'
                   WHEN bool_and(noti_state IS NOT NULL) THEN 'accepted'
                   -- Every part acknowledged (or already notified): a part with no ACRF yet keeps it sent.
                   WHEN bool_and(coalesce(ack_state = 'received', false) OR noti_state IS NOT NULL) THEN 'received'
              END AS target
       FROM maillon.files WHERE submission_id = $1 AND kind = 'FI'
     ) agg
     WHERE s.submission_id = $1 AND agg.target IS NOT NULL AND agg.target <> s.state
       AND (s.state IN ('sent', 'received') OR (s.state = 'written' AND s.go_started_at IS NOT NULL))
     RETURNING s.state`,
    [submissionId],
    z.object({ state: z.enum(SUBMISSION_STATES) }),
  );
  return row?.state ?? null;
}
