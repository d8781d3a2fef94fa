import path from 'node:path/posix';
import { z } from 'zod';
import type { Clock } from '../clock/clock.js';
import { type Pool, withTransaction } from '../db/database.js';
import { queryFirst } from '../db/queryRows.js';
import { BusyError, LedgerConflictError, NotFoundError, TransportError } from '../errors/errors.js';
import { withPeriodLock, withSubmissionLock } from '../ledger/locks.js';
import { submissionFilesColumns } from '../ledger/rowSchemas.js';
import { isLive, transitionSubmission } from '../ledger/transitions.js';
import { versionsAround } from '../ledger/versionsAround.js';
import type { Logger } from '../log/logger.js';
import { formatBatchFileName } from '../package/batchFileName.js';
import type { Endpoints } from './receivers.js';
import { openSftpSession, type SftpSession } from './sftpSession.js';
import { dataFileNames, removeUnannounced, uploadAttempted } from './removeUnannounced.js';
import { allPresent } from './uploadSubmission.js';

/** What cancelling needs. */
export interface CancelDeps {
  ledger: Pool;
  clock: Clock;
  logger: Logger;
  endpoints: Endpoints;
  passphrase(envName: string | undefined): string | undefined;
  /** Called at each step of writing the TD (the crash tests stop the process there). */
  onStep?: (step: CancelStep) => void | Promise<void>;
  /**
   * Called, for a submission whose GO was never started but a send of which was attempted, with
   * what was removed from the receiver's IN folder (empty: nothing of it was there).
   */
  onRemoved?: (names: readonly string[]) => void;
}

/** The points of a cancel where a crash must leave a state the next cancel completes: `before-td` (recorded as started, nothing on the server yet), `after-td` (the TD in place, the cancel not recorded). */
export type CancelStep = 'before-td' | 'after-td';

/**
 * How a cancel ended: nothing had been announced to the receiver (no GO started; what an attempted
 * send left in its IN folder removed, onRemoved), a TD file was written (or found, written by an
 * interrupted cancel), it was cancelled before, or an interrupted cancel is completed while the
 * receiver has taken the GO (and the TD, if it was written) away: it honoured the TD, or took the
 * GO first and will answer it (then the period needs attention: it may hold it).
 */
export type CancelOutcome = 'cancelled-locally' | 'td-written' | 'already-cancelled' | 'td-taken';

const Row = z.object({
  state: z.string(),
  flow: z.string(),
  period: z.string(),
  ...submissionFilesColumns,
  go_maybe_unwritten: z.boolean(),
  td_started_at: z.date().nullable(),
});
type Row = z.output<typeof Row>;

/**
 * Cancels a submission, holding its lock (a send in progress: refused with BusyError, never both).
 * Its GO never started: marked cancelled, nothing goes out (once a send of it was attempted, what
 * it left in the receiver's IN folder is removed first: withdrawUnannounced). Its GO may be on the server (sent, or a
 * send killed after starting the GO): the server is checked; the GO (or, when a killed send may
 * never have written it, every one of its data files) still waiting in the receiver's IN folder →
 * an empty TD file with the same stem (temporary name, rename), then cancelled; the GO taken by the
 * receiver → refused (send a correction instead). Processed by the receiver → refused.
 * The TD is recorded as started (td_started_at) before it is written: a cancel killed in between
 * leaves a submission `send` never sends, and a new cancel completes it (TD there, or still
 * stoppable → cancelled; the GO and TD taken away → cancelled, the receiver's replies, if it
 * took the GO first, then say it may hold it).
 */
export async function cancelSubmission(deps: CancelDeps, submissionId: number): Promise<CancelOutcome> {
  const first = await readSubmission(deps.ledger, submissionId);
  if (first.state === 'cancelled') return 'already-cancelled';
  refuseProcessed(submissionId, first);
  const locked = await withSubmissionLock(deps.ledger, submissionId, async () => {
    const s = await readSubmission(deps.ledger, submissionId);
    if (s.state === 'cancelled') return 'already-cancelled' as const;
    refuseProcessed(submissionId, s);
    // A run or rerun of the period (a rerun's plan waiting for its confirmation included) builds
    // on what the receivers hold: cancelling under it would make it write against a version gone.
    const period = await withPeriodLock(deps.ledger, s.flow, s.period, s.environment, async () => {
      await refuseBuiltOn(deps.ledger, submissionId, s);
      if (s.state === 'written' && s.go_started_at === null) {
        if (!(await uploadAttempted(deps.ledger, submissionId))) {
          await cancel(deps, submissionId, ['written'], { how: 'not sent' });
          return 'cancelled-locally' as const;
        }
        return withdrawUnannounced(deps, submissionId, s);
      }
      return writeTd(deps, submissionId, s);
    });
    if (period.busy) {
      throw new BusyError(
        `${s.flow} ${s.period} (${s.environment}) is being run or rerun by another maillon process right now (a rerun may be waiting for its plan to be confirmed); submission #${submissionId} was not cancelled. Let that run finish or decline its plan, then cancel again.`,
      );
    }
    return period.value;
  });
  if (locked.busy) {
    throw new BusyError(
      `Submission #${submissionId} is being sent by another maillon process right now; it was not cancelled. Wait for the send to finish, then cancel it again: while its GO still waits on the server, maillon writes the TD file.`,
    );
  }
  return locked.value;
}

/**
 * A submission whose GO was never started, a send of which was attempted: the send may have left
 * its data files (personal data) and a temporary GO in the receiver's IN folder, which nothing
 * would ever remove once it is cancelled. They are removed, then the cancel is recorded. A server
 * that cannot be reached refuses the cancel (exit 11): the submission stays written, and a cancel
 * run again once it can be reached completes it.
 */
async function withdrawUnannounced(deps: CancelDeps, submissionId: number, s: Row): Promise<CancelOutcome> {
  const stem = { purpose: s.purpose, sender: s.sender, date: s.creation_date, sequence: s.sequence, environment: s.environment, parts: s.parts };
  const go = formatBatchFileName({ kind: 'GO', ...stem });
  const endpoint = deps.endpoints.forReceiver(s.receiver);
  const server = `${endpoint.user}@${endpoint.host}:${endpoint.port}`;
  let session: SftpSession;
  try {
    session = await openSftpSession(endpoint, deps.passphrase(endpoint.passphraseEnv));
  } catch (err) {
    if (!(err instanceof TransportError)) throw err;
    throw new TransportError(
      `Submission #${submissionId} was not cancelled: a send of it was attempted, so its data files may be in the receiver's IN folder on ${server}, and that server could not be reached to remove them (${err.message}). Run maillon cancel ${submissionId} again once it can be reached.`,
      err.retryable,
    );
  }
  let removed: string[] = [];
  let goThere = false;
  try {
    // Never the case while go_started_at is unset (the GO is renamed only once it is recorded): a
    // GO there stops only with a TD.
    goThere = Boolean(await session.exists(path.join(endpoint.inDir, go)));
    if (!goThere) removed = await removeUnannounced(session, endpoint.inDir, await dataFileNames(deps.ledger, submissionId), go);
  } finally {
    await session.close();
  }
  if (goThere) return writeTd(deps, submissionId, s);
  await cancel(deps, submissionId, ['written'], { how: 'not sent, removed from the server', server, removed });
  deps.logger.info({ submissionId, removed }, 'submission cancelled; what a send left on the server removed');
  deps.onRemoved?.(removed);
  return 'cancelled-locally';
}

async function writeTd(deps: CancelDeps, submissionId: number, s: Row): Promise<CancelOutcome> {
  const stem = { purpose: s.purpose, sender: s.sender, date: s.creation_date, sequence: s.sequence, environment: s.environment, parts: s.parts };
  const endpoint = deps.endpoints.forReceiver(s.receiver);
  const session = await openSftpSession(endpoint, deps.passphrase(endpoint.passphraseEnv));
  try {
    const inDir = (name: string): string => path.join(endpoint.inDir, name);
    const go = formatBatchFileName({ kind: 'GO', ...stem });
    const td = formatBatchFileName({ kind: 'TD', ...stem });
    const goTmp = inDir(`.${go}.part`);
    // An interrupted cancel may have written the TD already: it stays, and the cancel is recorded.
    const tdThere = s.td_started_at !== null && Boolean(await session.exists(inDir(td)));
    const waits = tdThere ? 'td' : await stillWaiting(session, endpoint.inDir, s, go, goTmp);
    if (waits === null) {
      if (s.td_started_at !== null) {
        // The TD was started and the GO is gone: the receiver took the GO with the TD (it
        // honoured it, and answers nothing), or took it before the TD reached it (it processes
        // the submission: its replies then make the period need attention, docs/state-rules.md).
        await cancel(deps, submissionId, ['written', 'sent'], { how: 'TD started, GO taken', td, goWaited: false });
        deps.logger.info({ submissionId, td }, 'interrupted cancel completed: the receiver took the GO');
        return 'td-taken';
      }
      throw new LedgerConflictError(
        `The receiver has already taken ${go} from its IN folder: submission #${submissionId} cannot be cancelled any more. Send a correction instead: maillon rerun ${s.flow} --period ${s.period} --env ${s.environment} --reason "…".`,
      );
    }
    if (!tdThere) {
      await startTd(deps.ledger, submissionId, deps.clock.now());
      await deps.onStep?.('before-td');
      const tmp = inDir(`.${td}.part`);
      if (await session.exists(tmp)) await session.remove(tmp);
      await session.putEmpty(tmp);
      await session.rename(tmp, inDir(td));
      await deps.onStep?.('after-td');
    }
    // A GO never renamed (a send killed before it) never will be: it goes, the TD tells the
    // receiver to drop the data files.
    if (await session.exists(goTmp)) await session.remove(goTmp);
    await cancel(deps, submissionId, ['written', 'sent'], { how: 'TD written', td, goWaited: waits === 'go' });
    deps.logger.info({ submissionId, td }, 'submission cancelled');
    return 'td-written';
  } finally {
    await session.close();
  }
}

/**
 * What still waits for the receiver in its IN folder, so that a TD stops it: the GO; or, after a
 * send killed once it started the GO, the GO under its temporary name (never renamed), or, for a
 * GO started by a maillon before ledger migration 150 (it may never have been written), every
 * data file. Null when the receiver took the GO: a TD would no longer stop it.
 */
async function stillWaiting(session: SftpSession, inDir: string, s: Row, go: string, goTmp: string): Promise<'go' | 'go-never-renamed' | 'parts' | null> {
  if (await session.exists(path.join(inDir, go))) return 'go';
  if (s.state !== 'written') return null;
  if (await session.exists(goTmp)) return 'go-never-renamed';
  if (!s.go_maybe_unwritten) return null;
  const stem = { purpose: s.purpose, sender: s.sender, date: s.creation_date, sequence: s.sequence, environment: s.environment, parts: s.parts };
  const names = Array.from({ length: s.parts }, (_, i) => ({ name: formatBatchFileName({ kind: 'FI', ...stem, part: i + 1 }) }));
  return (await allPresent(session, inDir, names)) ? 'parts' : null;
}

/** Records, before the TD is written, that it is: a submission still written or sent, else the cancel is refused. */
async function startTd(ledger: Pool, submissionId: number, at: Date): Promise<void> {
  const started = await ledger.query(`UPDATE maillon.submissions SET td_started_at = coalesce(td_started_at, $2) WHERE submission_id = $1 AND state IN ('written', 'sent')`, [submissionId, at]);
  if (started.rowCount === 0) {
    const now = await readSubmission(ledger, submissionId);
    throw new LedgerConflictError(`Submission #${submissionId} became ${now.state} while it was being cancelled (a reply came in); it is not cancelled, and no TD file was written.`);
  }
}

async function cancel(deps: CancelDeps, submissionId: number, from: ('written' | 'sent')[], detail: Record<string, unknown> & { td?: string }): Promise<void> {
  const moved = await withTransaction(deps.ledger, (tx) => transitionSubmission(tx, { submissionId, from, to: 'cancelled', at: deps.clock.now(), event: { kind: 'cancelled', detail } }));
  if (!moved) {
    const now = await readSubmission(deps.ledger, submissionId);
    throw new LedgerConflictError(
      `Submission #${submissionId} became ${now.state} while it was being cancelled (a reply came in); it is not cancelled.${detail.td ? ` The TD file ${detail.td} was written: tell the receiver.` : ''}`,
    );
  }
}

function refuseProcessed(submissionId: number, s: Row): void {
  if (s.state === 'rejected') {
    throw new LedgerConflictError(
      `Submission #${submissionId} was rejected by the receiver, which holds nothing of it: there is nothing to cancel. "maillon status" says how to send ${s.flow} ${s.period} again.`,
    );
  }
  if (s.state !== 'written' && s.state !== 'sent') {
    throw new LedgerConflictError(
      `Submission #${submissionId} is ${s.state}: the receiver has already processed it, so it cannot be cancelled${s.td_started_at ? ' (an interrupted cancel started writing its TD file: the receiver took the GO first)' : ''}. Send a correction instead: maillon rerun ${s.flow} --period ${s.period} --env ${s.environment} --reason "…".`,
    );
  }
}

/**
 * Refuses to cancel a version that a later live correction or replacement of the same period and
 * receiver builds on: the later one would reach the receiver alone, correcting what it never got.
 */
async function refuseBuiltOn(ledger: Pool, submissionId: number, s: Row): Promise<void> {
  const later = (await versionsAround(ledger, submissionId)).later.filter((v) => isLive(v.state)).at(-1);
  if (!later) return;
  throw new LedgerConflictError(
    `Submission #${later.submissionId}, a ${later.kind} of ${s.flow} ${s.period} for ${s.receiver} (${later.state}), builds on submission #${submissionId}: cancelling #${submissionId} alone would leave it correcting what the receiver never got. ` +
      (later.state === 'written' || later.state === 'sent'
        ? `Cancel #${later.submissionId} first (maillon cancel ${later.submissionId}), then #${submissionId}.`
        : `The receiver already processed #${later.submissionId}: send a correction instead (maillon rerun ${s.flow} --period ${s.period} --env ${s.environment} --reason "…").`),
  );
}

async function readSubmission(ledger: Pool, submissionId: number): Promise<Row> {
  const s = await queryFirst(
    ledger,
    `SELECT state, flow, period, receiver, purpose, sender, to_char(creation_date, 'YYYY-MM-DD') AS creation_date, sequence, environment, parts, go_started_at,
            go_maybe_unwritten, td_started_at
     FROM maillon.submissions WHERE submission_id = $1`,
    [submissionId],
    Row,
  );
  if (!s) throw new NotFoundError(`There is no submission #${submissionId}; "maillon status" and "maillon report" list them.`);
  return s;
}
