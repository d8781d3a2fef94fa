import type { Clock } from '../clock/clock.js';
import type { Environment } from '../domain/environment.js';
import { z } from 'zod';
import type { Pool } from '../db/database.js';
import { queryFirst, queryRows } from '../db/queryRows.js';
import type { Logger } from '../log/logger.js';
import { withSubmissionLock } from '../ledger/locks.js';
import { readRejectedBase } from '../ledger/rejectedBase.js';
import { ledgerId, submissionFilesColumns } from '../ledger/rowSchemas.js';
import { versionsAround } from '../ledger/versionsAround.js';
import { formatBatchFileName } from '../package/batchFileName.js';
import { brusselsDate, type LocalDate } from '../period/localDate.js';
import { type ClosedPeriod, deliverSubmission, type SendScope } from './deliverSubmission.js';
import type { Endpoints } from './receivers.js';
import { createSessionPool } from './sessionPool.js';
import type { UploadStep } from './uploadSubmission.js';

/** What sending needs. */
export interface SendDeps {
  ledger: Pool;
  clock: Clock;
  logger: Logger;
  endpoints: Endpoints;
  /** Reads a passphrase from its environment variable name (never logged). */
  passphrase(envName: string | undefined): string | undefined;
  /** Base delay of the exponential backoff, ms (tests make it small). */
  backoffMs?: number;
  /** Called at each step of a delivery (the crash tests stop the process there). */
  onStep?: (step: UploadStep) => void | Promise<void>;
  /** The last day a flow's receiver accepts a file for the period when that is before `day`, else null; absent: no period closes. */
  closedOn?: (flow: string, period: string, day: LocalDate) => LocalDate | null;
}

/** Which submissions to send; all written ones when empty. */
export interface SendFilter {
  flow?: string;
  period?: string;
  environment?: Environment;
}

/** The outcome for one submission. */
export interface SendOutcome {
  submissionId: number;
  receiver: string;
  go: string;
  /**
   * `waiting`: an earlier version of the same period for the same receiver is not delivered yet;
   * `closed`: its period is past its closing date and its receiver does not have it (its GO never
   * got past its temporary name), not sent; `rejected-base`: it builds on a version
   * its receiver rejected after it was written, not sent (cancel it, then run the period again);
   * `cancel-started`: a cancel of it started writing its TD file and did not finish: never sent,
   * `maillon cancel` completes it.
   */
  result: 'sent' | 'failed' | 'skipped-locked' | 'waiting' | 'closed' | 'rejected-base' | 'cancel-started';
  error?: string;
  /** Why a submission waits or was not sent. */
  reason?: string;
  /**
   * `configuration`: a failure the receivers file causes (no endpoint for the receiver, a private
   * key that cannot be used: its passphrase missing or wrong), nothing tried.
   */
  cause?: 'configuration';
}

const SubmissionRow = z.object({
  submission_id: ledgerId,
  flow: z.string(),
  period: z.string(),
  ...submissionFilesColumns,
});
type SubmissionRow = z.output<typeof SubmissionRow>;

/**
 * Sends every written submission matching the filter, oldest first. Each one is locked (its
 * advisory lock: another maillon process skips it, a cancel waits its turn), delivered with retries (exponential backoff
 * with jitter, transient failures only), and every attempt is recorded in the ledger. A correction
 * or replacement waits while an earlier version of its period for the same receiver is not
 * delivered (failed, or being sent by another process): the next send delivers both in order.
 * One built on a version its receiver rejected after it was written is not sent (`rejected-base`).
 * A submission of a period closed today (`closedOn`) is not sent: its receiver would refuse it;
 * unless its GO was started (the receiver may hold it): it is then recorded as sent when its GO is
 * on the server or was taken. Once a submission could not connect to its server after all its
 * retries, the others for that server are not tried in this send (`failed`, naming it unreachable).
 */
export async function sendSubmissions(deps: SendDeps, filter: SendFilter = {}): Promise<SendOutcome[]> {
  const rows = await queryRows(
    deps.ledger,
    `SELECT submission_id, flow, period, receiver, purpose, sender, to_char(creation_date, 'YYYY-MM-DD') AS creation_date, sequence, environment, parts, go_started_at
     FROM maillon.submissions
     WHERE state = 'written' AND ($1::text IS NULL OR flow = $1) AND ($2::text IS NULL OR period = $2) AND ($3::text IS NULL OR environment = $3)
     ORDER BY submission_id`,
    [filter.flow ?? null, filter.period ?? null, filter.environment ?? null],
    SubmissionRow,
  );
  const outcomes: SendOutcome[] = [];
  // One session per server for the whole send, not one per submission (docs/decisions/0020-one-sftp-session-per-send.md).
  const scope: SendScope = { sessions: createSessionPool(), unreachable: new Map() };
  try {
    for (const row of rows) outcomes.push(await sendOne(deps, scope, row));
  } finally {
    await scope.sessions.closeAll();
  }
  return outcomes;
}

async function sendOne(deps: SendDeps, scope: SendScope, row: SubmissionRow): Promise<SendOutcome> {
  const id = row.submission_id;
  const go = formatBatchFileName({
    kind: 'GO',
    purpose: row.purpose,
    sender: row.sender,
    date: row.creation_date,
    sequence: row.sequence,
    environment: row.environment,
    parts: row.parts,
  });
  // Its receiver would refuse it: it is not sent, and stays written until an operator cancels it.
  // Unless its GO was started: the receiver may have it, and deliver records it as sent then.
  const closedAfter = deps.closedOn?.(row.flow, row.period, brusselsDate(deps.clock.now())) ?? null;
  const closed: ClosedPeriod | null =
    closedAfter === null
      ? null
      : {
          closedAfter,
          reason: `${row.flow} ${row.period} is closed: its receiver accepts no file for it after ${closedAfter}, so it was not sent. Withdraw it: maillon cancel ${id}`,
        };
  if (closed && row.go_started_at === null) return { submissionId: id, receiver: row.receiver, go, result: 'closed', reason: closed.reason };
  // A correction or replacement built on a version its receiver rejected since corrects records
  // the receiver never accepted: it is not sent (unless its GO was started: the receiver may have it).
  if (row.go_started_at === null) {
    const refused = await rejectedBaseOutcome(deps.ledger, row, go);
    if (refused) return refused;
  }
  // A correction or replacement goes out only after the version it builds on: delivered first,
  // it would reach the receiver before what it corrects. Checked before taking the lock (an earlier
  // version once delivered stays so): a waiting submission never holds the lock under which
  // another process, done with the earlier version, would deliver it.
  const earlier = await earlierUndelivered(deps.ledger, id);
  if (earlier !== null) {
    return { submissionId: id, receiver: row.receiver, go, result: 'waiting', reason: `submission #${earlier}, an earlier version of the same period for ${row.receiver}, is not delivered yet` };
  }
  // The submission's lock is held for the whole delivery: a cancel meanwhile is refused, and
  // another maillon process skips it.
  const locked = await withSubmissionLock(deps.ledger, id, async () => {
    // Re-read under the lock: another process may have sent or cancelled it meanwhile.
    const current = (await queryFirst(
      deps.ledger,
      'SELECT state, go_started_at, go_maybe_unwritten, td_started_at IS NOT NULL AS td_started FROM maillon.submissions WHERE submission_id = $1',
      [id],
      z.object({ state: z.string(), go_started_at: z.date().nullable(), go_maybe_unwritten: z.boolean(), td_started: z.boolean() }),
    ))!;
    if (current.state !== 'written') return { submissionId: id, receiver: row.receiver, go, result: 'skipped-locked' as const };
    if (current.td_started) {
      // Its TD may be on the server beside the GO: sending it, or recording it as sent, would
      // contradict the cancel the receiver may already be honouring.
      const reason = `a cancel of it started writing its TD file and did not finish, so it is never sent: maillon cancel ${id} completes the cancel`;
      return { submissionId: id, receiver: row.receiver, go, result: 'cancel-started' as const, reason };
    }
    if (current.go_started_at === null) {
      const refused = await rejectedBaseOutcome(deps.ledger, row, go);
      if (refused) return refused;
    }
    if (closed && current.go_started_at === null) return { submissionId: id, receiver: row.receiver, go, result: 'closed' as const, reason: closed.reason };
    return deliverSubmission(deps, scope, { ...row, go_started_at: current.go_started_at }, go, current.go_maybe_unwritten, closed);
  });
  return locked.busy ? { submissionId: id, receiver: row.receiver, go, result: 'skipped-locked' } : locked.value;
}

/** The outcome of a submission built on a version its receiver rejected after it was written (not sent), or null. */
async function rejectedBaseOutcome(ledger: Pool, row: SubmissionRow, go: string): Promise<SendOutcome | null> {
  const base = await readRejectedBase(ledger, row.submission_id);
  if (base.length === 0) return null;
  const id = row.submission_id;
  const ids = base.map((b) => `#${b}`).join(', ');
  const reason =
    `it builds on ${ids}, which ${row.receiver} rejected after #${id} was written: it would correct records ${row.receiver} never accepted, so it was not sent. ` +
    `Withdraw it: maillon cancel ${id}; then maillon run ${row.flow} --period ${row.period} --env ${row.environment} writes the period again`;
  return { submissionId: id, receiver: row.receiver, go, result: 'rejected-base', reason };
}

/** The oldest earlier submission of the same flow, period, environment and receiver still written, or null. */
async function earlierUndelivered(ledger: Pool, id: number): Promise<number | null> {
  const { earlier } = await versionsAround(ledger, id);
  return earlier.find((v) => v.state === 'written')?.submissionId ?? null;
}
