import path from 'node:path/posix';
import type { Clock } from '../clock/clock.js';
import { type Pool, withTransaction } from '../db/database.js';
import { LedgerConflictError, NotFoundError } from '../errors/errors.js';
import { appendEvent } from '../ledger/events.js';
import type { Logger } from '../log/logger.js';
import { formatBatchFileName } from '../package/batchFileName.js';
import type { Environment } from '../config/config.js';
import type { LocalDate } from '../period/localDate.js';
import type { Endpoints } from './receivers.js';
import { openSftpSession } from './sftpSession.js';

/** What cancelling needs. */
export interface CancelDeps {
  ledger: Pool;
  clock: Clock;
  logger: Logger;
  endpoints: Endpoints;
  passphrase(envName: string | undefined): string | undefined;
}

/**
 * Cancels a submission. Not sent yet: marked cancelled, nothing goes out. Sent, and its GO is
 * still waiting in the receiver's IN folder: an empty TD file with the same stem is written
 * (temporary name, rename) and the submission is cancelled. Its GO already taken by the
 * receiver: refused (the receiver is processing it; send a correction instead).
 */
export async function cancelSubmission(deps: CancelDeps, submissionId: number): Promise<'cancelled-locally' | 'td-written'> {
  const res = await deps.ledger.query<{
    state: string; receiver: string; purpose: string; sender: string; creation_date: LocalDate; sequence: string; environment: Environment; parts: number;
  }>(
    `SELECT state, receiver, purpose, sender, to_char(creation_date, 'YYYY-MM-DD') AS creation_date, sequence, environment, parts
     FROM maillon.submissions WHERE submission_id = $1`,
    [submissionId],
  );
  const s = res.rows[0];
  if (!s) throw new NotFoundError(`There is no submission #${submissionId}; "maillon runs" and "maillon report" list them.`);
  const stem = { purpose: s.purpose, sender: s.sender, date: s.creation_date, sequence: s.sequence, environment: s.environment, parts: s.parts };
  if (s.state === 'written') {
    await withTransaction(deps.ledger, async (tx) => {
      await tx.query(`UPDATE maillon.submissions SET state = 'cancelled' WHERE submission_id = $1 AND state = 'written'`, [submissionId]);
      await appendEvent(tx, { at: deps.clock.now(), submissionId, kind: 'cancelled', detail: { how: 'not sent' } });
    });
    return 'cancelled-locally';
  }
  if (s.state !== 'sent') {
    throw new LedgerConflictError(`Submission #${submissionId} is ${s.state}: the receiver has already processed it, so it cannot be cancelled. Send a correction instead.`);
  }
  const endpoint = deps.endpoints.forReceiver(s.receiver);
  const session = await openSftpSession(endpoint, deps.passphrase(endpoint.passphraseEnv));
  try {
    const go = formatBatchFileName({ kind: 'GO', ...stem });
    if (!(await session.exists(path.join(endpoint.inDir, go)))) {
      throw new LedgerConflictError(`The receiver has already taken ${go} from its IN folder: submission #${submissionId} cannot be cancelled any more. Send a correction instead.`);
    }
    const td = formatBatchFileName({ kind: 'TD', ...stem });
    const tmp = path.join(endpoint.inDir, `.${td}.part`);
    await session.putEmpty(tmp);
    await session.rename(tmp, path.join(endpoint.inDir, td));
    await withTransaction(deps.ledger, async (tx) => {
      await tx.query(`UPDATE maillon.submissions SET state = 'cancelled' WHERE submission_id = $1`, [submissionId]);
      await appendEvent(tx, { at: deps.clock.now(), submissionId, kind: 'cancelled', detail: { how: 'TD written', td } });
    });
    deps.logger.info({ submissionId, td }, 'submission cancelled');
    return 'td-written';
  } finally {
    await session.close();
  }
}
