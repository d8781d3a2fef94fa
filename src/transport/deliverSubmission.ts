import path from 'node:path/posix';
import pRetry from 'p-retry';
import { z } from 'zod';
import { withTransaction } from '../db/database.js';
import { queryFirst, queryRows } from '../db/queryRows.js';
import { ConfigError, PeriodClosedError, TransportError } from '../errors/errors.js';
import { rejectedBaseSql } from '../ledger/rejectedBase.js';
import { ledgerId } from '../ledger/rowSchemas.js';
import { transitionSubmission } from '../ledger/transitions.js';
import { readClientKey } from './clientKey.js';
import type { Endpoint } from './receivers.js';
import type { SendDeps, SendOutcome } from './sendSubmissions.js';
import type { SessionPool } from './sessionPool.js';
import { type LocalPart, uploadSubmission } from './uploadSubmission.js';

/** What the deliveries of one send share. */
export interface SendScope {
  /** One session per server for the whole send (docs/decisions/0020-one-sftp-session-per-send.md). */
  sessions: SessionPool;
  /**
   * The servers (`user@host:port`) a submission of this send could not connect to after all its
   * retries: the submissions after it for the same server are not tried.
   */
  unreachable: Map<string, { submissionId: number; attempts: number; error: string }>;
}

/** The submission to deliver, as sendSubmissions read it under its lock. */
export interface DeliveryRow {
  submission_id: number;
  receiver: string;
  go_started_at: Date | null;
}

/** Its period is past its closing date: a GO the receiver does not have yet is not made visible. */
export interface ClosedPeriod {
  closedAfter: string;
  reason: string;
}

/**
 * Delivers one written submission, with retries (exponential backoff with jitter, transient
 * failures only); every attempt is recorded in the ledger. A submission of a closed period gets
 * here only when its GO was started: it is recorded as sent when its GO is on the server or was
 * taken, and left as it is (`closed`) when its GO never got past its temporary name.
 */
export async function deliverSubmission(deps: SendDeps, scope: SendScope, row: DeliveryRow, go: string, goMaybeUnwritten: boolean, closed: ClosedPeriod | null): Promise<SendOutcome> {
  const id = row.submission_id;
  const base = { submissionId: id, receiver: row.receiver, go };
  let endpoint: Endpoint;
  try {
    endpoint = deps.endpoints.forReceiver(row.receiver);
  } catch (err) {
    // A receiver missing from the receivers file fails its own submissions only: the others are
    // sent. Nothing was tried, so no transfer attempt is recorded; the next send tries again.
    if (!(err instanceof ConfigError)) throw err;
    deps.logger.error({ submissionId: id, receiver: row.receiver, err }, 'submission not sent');
    return { ...base, result: 'failed', error: err.message, cause: 'configuration' };
  }
  const server = `${endpoint.user}@${endpoint.host}:${endpoint.port}`;
  const log = deps.logger.child({ submissionId: id, receiver: row.receiver, server });
  const down = scope.unreachable.get(server);
  if (down) {
    // Its retries would cost as much as the first one's, to the same end: the next send tries again.
    const error = `Not tried: the SFTP server ${server} could not be reached for submission #${down.submissionId} in this send (${down.attempts} attempt(s); the last: ${down.error}). The next send tries again.`;
    log.error({ go, unreachableSince: down.submissionId }, 'submission not sent: its server is unreachable');
    return { ...base, result: 'failed', error, reason: `the SFTP server ${server} is unreachable: not tried` };
  }
  try {
    // A key that cannot be used fails every attempt alike: nothing is tried, as for a missing endpoint.
    readClientKey(endpoint, deps.passphrase(endpoint.passphraseEnv));
  } catch (err) {
    // Whatever the key's fault, it is this endpoint's: the other receivers' submissions are still sent.
    log.error({ err }, 'submission not sent');
    return { ...base, result: 'failed', error: (err as Error).message, ...(err instanceof ConfigError ? { cause: 'configuration' as const } : {}) };
  }
  const files = await queryRows(
    deps.ledger,
    `SELECT name, path, bytes, sha256 FROM maillon.files WHERE submission_id = $1 AND kind IN ('FI', 'FS') ORDER BY part, kind`,
    [id],
    z.object({ name: z.string(), path: z.string(), bytes: z.string(), sha256: z.string() }),
  );
  const parts: LocalPart[] = files.map((f) => ({ name: f.name, localPath: f.path, bytes: Number(f.bytes), sha256: f.sha256 }));
  const { sessions } = scope;
  let goStarted = row.go_started_at !== null;
  // Whether the last attempt got a session: a failure before it is the server's, not the upload's.
  let connected = false;
  let attempts = 0;
  try {
    await pRetry(
      async () => {
        connected = false;
        attempts++;
        const attempt = await queryFirst(
          deps.ledger,
          'INSERT INTO maillon.transfer_attempts (submission_id, started_at, server) VALUES ($1, $2, $3) RETURNING attempt_id',
          [id, deps.clock.now(), server],
          z.object({ attempt_id: ledgerId }),
        );
        const attemptId = attempt!.attempt_id;
        try {
          const session = await sessions.acquire(endpoint, deps.passphrase(endpoint.passphraseEnv));
          connected = true;
          // The attempt reached the server (whose key this is): from here it may leave files there, which a cancel removes.
          await deps.ledger.query(`UPDATE maillon.transfer_attempts SET host_key = $2 WHERE attempt_id = $1`, [attemptId, session.fingerprint]);
          try {
            const transcript = await uploadSubmission(session, endpoint.inDir, parts, go, {
              goStarted,
              goMaybeUnwritten,
              ...(deps.onStep ? { step: deps.onStep } : {}),
              ...(closed
                ? {
                    // The receiver has neither the GO nor took it: past the closing date it is not made visible.
                    beforeDelivering: () => {
                      throw new PeriodClosedError(closed.reason, closed.closedAfter);
                    },
                  }
                : {}),
              beforeGo: async () => {
                // The point of no return: not once the submission is no longer written, nor once a cancel
                // of it started, nor built on a version rejected since.
                const started = await deps.ledger.query(
                  `UPDATE maillon.submissions s SET go_started_at = $2 WHERE s.submission_id = $1 AND s.state = 'written' AND s.td_started_at IS NULL AND (s.go_started_at IS NOT NULL OR cardinality(${rejectedBaseSql('s')}) = 0)`,
                  [id, deps.clock.now()],
                );
                if (started.rowCount === 0) {
                  // Refused for sure (nothing recorded): its temporary GO, written just before, never will be renamed.
                  await session.remove(path.join(endpoint.inDir, `.${go}.part`)).catch(() => undefined);
                  throw new TransportError(
                    `Submission #${id} is no longer written in the ledger, a cancel of it has started, or a version it builds on was rejected meanwhile; its GO was not written.`,
                    false,
                  );
                }
                goStarted = true;
              },
            });
            await withTransaction(deps.ledger, async (tx) => {
              const at = deps.clock.now();
              await tx.query(`UPDATE maillon.transfer_attempts SET finished_at = $2, outcome = 'sent', host_key = $3, detail = $4 WHERE attempt_id = $1`, [
                attemptId,
                at,
                session.fingerprint,
                JSON.stringify(transcript),
              ]);
              const moved = await transitionSubmission(tx, {
                submissionId: id,
                from: ['written'],
                to: 'sent',
                at,
                event: { kind: 'sent', detail: { go, server, hostKey: session.fingerprint, transcript } },
              });
              // Only a reply read meanwhile (the GO was already there) can have moved it: it went further.
              if (!moved) log.warn({ go }, 'submission was no longer written when its delivery was recorded');
            });
            log.info({ go, files: transcript.files.map((f) => `${f.name}:${f.action}`), goFile: transcript.go }, 'submission sent');
          } catch (err) {
            // The session may be half-dead: the next attempt, or the next submission, opens a new one.
            await sessions.discard(endpoint);
            throw err;
          }
        } catch (err) {
          await deps.ledger.query(`UPDATE maillon.transfer_attempts SET finished_at = $2, outcome = 'failed', error = $3 WHERE attempt_id = $1`, [
            attemptId,
            deps.clock.now(),
            (err as Error).message.slice(0, 2000),
          ]);
          throw err;
        }
      },
      {
        retries: endpoint.retries,
        factor: 2,
        minTimeout: deps.backoffMs ?? 1000,
        maxTimeout: (deps.backoffMs ?? 1000) * 32,
        randomize: true,
        shouldRetry: ({ error }) => error instanceof TransportError && error.retryable,
        onFailedAttempt: ({ error, attemptNumber, retriesLeft }) => log.warn({ attempt: attemptNumber, retriesLeft, err: error }, 'transfer attempt failed'),
      },
    );
    return { ...base, result: 'sent' };
  } catch (err) {
    if (err instanceof PeriodClosedError) {
      log.info({ go }, 'submission not sent: its period is closed and the receiver does not have its GO');
      return { ...base, result: 'closed', reason: err.message };
    }
    log.error({ err }, 'submission not sent');
    if (err instanceof ConfigError) return { ...base, result: 'failed', error: err.message, cause: 'configuration' };
    if (!connected && err instanceof TransportError && err.retryable) scope.unreachable.set(server, { submissionId: id, attempts, error: err.message });
    return { ...base, result: 'failed', error: (err as Error).message };
  }
}
