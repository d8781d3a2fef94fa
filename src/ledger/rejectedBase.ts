import { z } from 'zod';
import type { Pool, PoolClient } from '../db/database.js';
import { queryFirst } from '../db/queryRows.js';
import { ledgerId } from './rowSchemas.js';
import { LIVE_STATES } from './transitions.js';

// A correction or replacement is computed from what its receiver holds when it is written: every
// live version of the period for that receiver. A version that receiver rejects afterwards was
// never held, so the later one corrects records the receiver never accepted (and leaves out those
// it thinks are held): it builds on a rejected version. The order of the two is the event chain's
// (event ids follow it): the rejection's event after the later version's `written` event.

const live = LIVE_STATES.map((s) => `'${s}'`).join(', ');

/**
 * SQL expression (bigint[]) for the submission aliased `s`: the earlier versions of its period
 * for the same receiver that the receiver rejected after `s` was written, oldest first; empty when
 * `s` is not live or there is none. The events are read only when such a rejection may exist.
 */
export function rejectedBaseSql(s: string): string {
  const earlierRejected = (e: string): string =>
    `${e}.flow = ${s}.flow AND ${e}.period = ${s}.period AND ${e}.environment = ${s}.environment AND ${e}.receiver = ${s}.receiver
     AND ${e}.submission_id < ${s}.submission_id AND ${e}.state = 'rejected'`;
  return `CASE WHEN ${s}.state IN (${live}) AND EXISTS (SELECT FROM maillon.submissions rb WHERE ${earlierRejected('rb')}) THEN ARRAY(
      SELECT rb.submission_id FROM maillon.submissions rb WHERE ${earlierRejected('rb')} AND EXISTS (
        SELECT FROM maillon.events re WHERE re.submission_id = rb.submission_id AND re.kind = 'rejected'
          AND re.event_id > (SELECT min(we.event_id) FROM maillon.events we WHERE we.submission_id = ${s}.submission_id AND we.kind = 'written'))
      ORDER BY rb.submission_id)
    ELSE '{}'::bigint[] END`;
}

/** The earlier versions a live submission builds on that its receiver rejected after it was written (see rejectedBaseSql); empty when none. */
export async function readRejectedBase(ledger: Pool | PoolClient, submissionId: number): Promise<number[]> {
  const row = await queryFirst(ledger, `SELECT ${rejectedBaseSql('s')} AS ids FROM maillon.submissions s WHERE s.submission_id = $1`, [submissionId], z.object({ ids: z.array(ledgerId) }));
  return row?.ids ?? [];
}
