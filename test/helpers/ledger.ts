import { fixedClock } from '../../src/clock/clock.js';
import type { Pool } from '../../src/db/database.js';
import { createLogger } from '../../src/log/logger.js';
import { cancelSubmission } from '../../src/transport/cancelSubmission.js';
import type { Endpoints } from '../../src/transport/receivers.js';

/** Endpoints for cancels that never reach a server (nothing sent yet): any use fails the test. */
const NO_SERVER: Endpoints = {
  forReceiver: () => {
    throw new Error('this cancel was expected to stay local (nothing sent yet)');
  },
};

/** The submission ids of a run, oldest first. */
export async function submissionsOf(pool: Pool, runId: number): Promise<number[]> {
  const res = await pool.query('SELECT submission_id FROM maillon.submissions WHERE run_id = $1 ORDER BY submission_id', [runId]);
  return res.rows.map((r) => Number(r.submission_id));
}

/** Cancels every submission of a run that was not sent yet, as `maillon cancel` does: its period is to do again. */
export async function cancelUnsent(pool: Pool, runId: number, at = '2026-10-10T05:00:00+02:00'): Promise<void> {
  for (const id of await submissionsOf(pool, runId)) {
    await cancelSubmission({ ledger: pool, clock: fixedClock(at), logger: createLogger('silent'), endpoints: NO_SERVER, passphrase: () => undefined }, id);
  }
}
