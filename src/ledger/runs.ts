import os from 'node:os';
import type { Environment } from '../domain/environment.js';
import { z } from 'zod';
import { inTransaction, type Pool, type PoolClient } from '../db/database.js';
import { queryFirst, queryRows } from '../db/queryRows.js';
import { FlowPausedError, LedgerConflictError } from '../errors/errors.js';
import { LOCK, runAliveSql, runLockHolderSql } from './locks.js';
import { environmentColumn, ledgerId, runStateColumn } from './rowSchemas.js';

/** What identifies a run: flow, period key, environment, as-of instant, dry or real. */
export interface RunKey {
  flow: string;
  period: string;
  environment: Environment;
  asOf: Date;
  dryRun: boolean;
}

/** Counts of a finished run; extracted + cancelled = emitted + quarantined + unchanged (the last two terms only in reruns). */
export interface RunCounts {
  extracted: number;
  emitted: number;
  quarantined: number;
  /** Reruns: extracted, identical to what was sent, not sent again. */
  unchanged?: number;
  /** Reruns: earlier records gone from the dossier, sent as cancellations (counted in emitted). */
  cancelled?: number;
}

/** How a run relates to earlier versions of its period. */
export interface RunVersion {
  kind: 'original' | 'correction' | 'full-replacement';
  previousRunId: number | null;
  reason: string | null;
}

/**
 * Marks as failed the runs still `running` whose session is gone (killed, machine restarted,
 * database lost under them): nobody holds their lock. A run records its success in the transaction
 * that commits its files, so such a run committed nothing. Runs left `running` by a maillon before
 * the lock (migration 009) with committed submissions are closed as succeeded, which they were.
 */
export async function closeAbandonedRuns(ledger: Pool, finishedAt: Date): Promise<number> {
  const res = await ledger.query(
    `UPDATE maillon.runs r SET
       state = CASE WHEN EXISTS (SELECT 1 FROM maillon.submissions s WHERE s.run_id = r.run_id) THEN 'succeeded' ELSE 'failed' END,
       finished_at = $1,
       extracted = (SELECT count(*) FILTER (WHERE o.outcome <> 'emitted' OR o.status <> 1) FROM maillon.record_outcomes o WHERE o.run_id = r.run_id),
       emitted = (SELECT count(*) FILTER (WHERE o.outcome = 'emitted') FROM maillon.record_outcomes o WHERE o.run_id = r.run_id),
       quarantined = (SELECT count(*) FILTER (WHERE o.outcome = 'quarantined') FROM maillon.record_outcomes o WHERE o.run_id = r.run_id),
       error_class = CASE WHEN EXISTS (SELECT 1 FROM maillon.submissions s WHERE s.run_id = r.run_id) THEN NULL ELSE 'Abandoned' END,
       error_message = CASE WHEN EXISTS (SELECT 1 FROM maillon.submissions s WHERE s.run_id = r.run_id)
         THEN 'completed; its process (' || r.host || ', pid ' || r.pid || ') did not record the end of the run'
         ELSE 'abandoned: its process (' || r.host || ', pid ' || r.pid || ') ended without recording the end of the run (killed, or lost its database); nothing of it was committed' END
     WHERE r.state = 'running' AND NOT ${runAliveSql('r.run_id')}`,
    [finishedAt],
  );
  return res.rowCount ?? 0;
}

/**
 * After a COMMIT that failed: whether the run committed after all (its answer lost with the
 * connection). The run's session is ended first (its lock names its backend) and its end awaited,
 * so that a COMMIT still in flight is decided before the run's state is read. null when the
 * ledger cannot tell (unreachable, or the session does not end within `waitMs`).
 */
export async function runCommittedAfterAll(ledger: Pool, runId: number, waitMs = 10_000): Promise<boolean | null> {
  try {
    await ledger.query(`SELECT pg_terminate_backend(h.pid) FROM (${runLockHolderSql('$1')}) h WHERE h.pid <> pg_backend_pid()`, [runId]);
    // Polled every 50 ms, waitMs in all (counted in polls: time is read from the clock only).
    for (let polls = Math.ceil(waitMs / 50); ; polls--) {
      const alive = await queryFirst(ledger, `SELECT ${runAliveSql('$1')} AS alive`, [runId], z.object({ alive: z.boolean() }));
      if (!alive?.alive) break;
      if (polls <= 0) return null;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const row = await queryFirst(ledger, 'SELECT state FROM maillon.runs WHERE run_id = $1', [runId], z.object({ state: z.string() }));
    return row?.state === 'succeeded';
  } catch {
    return null;
  }
}

/**
 * Records the start of a run on the run's own session and takes the run's lock there, in one
 * transaction: by the time another session sees the run, the lock says it is alive, and it stays
 * so until the session ends. Returns the run id.
 */
export async function startRun(session: PoolClient, key: RunKey, startedAt: Date, version?: RunVersion): Promise<number> {
  return inTransaction(session, async () => {
    const row = await queryFirst(
      session,
      `INSERT INTO maillon.runs (flow, period, environment, as_of, dry_run, state, started_at, started_by, host, pid, kind, previous_run_id, reason)
       VALUES ($1, $2, $3, $4, $5, 'running', $6, $7, $8, $9, $10, $11, $12) RETURNING run_id`,
      [
        key.flow,
        key.period,
        key.environment,
        key.asOf,
        key.dryRun,
        startedAt,
        os.userInfo().username,
        os.hostname(),
        process.pid,
        version?.kind ?? 'original',
        version?.previousRunId ?? null,
        version?.reason ?? null,
      ],
      z.object({ run_id: ledgerId }),
    );
    const runId = row!.run_id;
    await session.query('SELECT pg_advisory_lock($1, $2)', [LOCK.run, runId]);
    return runId;
  });
}

/**
 * Records a successful end with its counts, on the given connection: inside the transaction that
 * records the run's submissions, so that the files and the success are committed together.
 */
export async function succeedRun(tx: PoolClient, runId: number, finishedAt: Date, counts: RunCounts, facts: Record<string, unknown> | null = null): Promise<void> {
  const res = await tx.query(
    `UPDATE maillon.runs SET state = 'succeeded', finished_at = $2, extracted = $3, emitted = $4, quarantined = $5, facts = $6, unchanged = $7, cancelled = $8
     WHERE run_id = $1 AND state = 'running'`,
    [runId, finishedAt, counts.extracted, counts.emitted, counts.quarantined, facts === null ? null : JSON.stringify(facts), counts.unchanged ?? null, counts.cancelled ?? null],
  );
  if (res.rowCount === 0) throw new LedgerConflictError(`Run ${runId} is no longer running in the ledger (another process closed it); nothing of it was committed. Run it again.`);
}

/**
 * Records a failure with the error's class and message (a run already ended is left as it is). A
 * run refused because its flow was paused while it was computed wrote nothing and is not its
 * period's failure (the operator stopped it): it is kept as a dry run, which the period view, the
 * status, the metrics and serve's retries leave out, so the period stays as it was before the run.
 */
export async function failRun(ledger: Pool, runId: number, finishedAt: Date, err: Error): Promise<void> {
  await ledger.query(`UPDATE maillon.runs SET state = 'failed', finished_at = $2, error_class = $3, error_message = $4, dry_run = dry_run OR $5 WHERE run_id = $1 AND state = 'running'`, [
    runId,
    finishedAt,
    err.name,
    err.message.slice(0, 2000),
    err instanceof FlowPausedError,
  ]);
}

/** One line of `maillon runs`. */
export interface RunSummary {
  runId: number;
  flow: string;
  period: string;
  environment: Environment;
  state: string;
  dryRun: boolean;
  startedAt: Date;
  finishedAt: Date | null;
  extracted: number | null;
  emitted: number | null;
  quarantined: number | null;
  error: string | null;
}

const SummaryRow = z.object({
  run_id: ledgerId,
  flow: z.string(),
  period: z.string(),
  environment: environmentColumn,
  state: runStateColumn,
  dry_run: z.boolean(),
  started_at: z.date(),
  finished_at: z.date().nullable(),
  extracted: z.number().nullable(),
  emitted: z.number().nullable(),
  quarantined: z.number().nullable(),
  error_message: z.string().nullable(),
});

/** The most recent runs, newest first. */
export async function recentRuns(ledger: Pool, limit: number): Promise<RunSummary[]> {
  const rows = await queryRows(
    ledger,
    `SELECT run_id, flow, period, environment, state, dry_run, started_at, finished_at, extracted, emitted, quarantined, error_message
     FROM maillon.runs ORDER BY run_id DESC LIMIT $1`,
    [limit],
    SummaryRow,
  );
  return rows.map((r) => ({
    runId: r.run_id,
    flow: r.flow,
    period: r.period,
    environment: r.environment,
    state: r.state,
    dryRun: r.dry_run,
    startedAt: r.started_at,
    finishedAt: r.finished_at,
    extracted: r.extracted,
    emitted: r.emitted,
    quarantined: r.quarantined,
    error: r.error_message,
  }));
}
