import { z } from 'zod';
import { connect, type Pool, type PoolClient } from '../db/database.js';
import { queryFirst } from '../db/queryRows.js';

const Locked = z.object({ ok: z.boolean() });

/**
 * The advisory locks of maillon, two-key form (namespace, id): a lock is held by one database
 * session, so it ends with its process, whatever killed it (pid 1 in a container, a new host name).
 */
export const LOCK = {
  /** A run's liveness: held by the run's own session for its whole life. */
  run: 0x6d61_0007,
  /** A submission being sent or cancelled: `send` and `cancel` take turns on it. */
  submission: 0x6d61_0008,
  /** A submission's evidence pack being written (or its addenda): one writer at a time, the others wait. */
  evidence: 0x6d61_0009,
} as const;

/** The single-key lock of a flow's period in an environment: one writing run at a time. */
export function periodLockKey(flow: string, period: string, environment: string): string {
  return `maillon-run:${flow}:${period}:${environment}`;
}

/** Takes the period's lock on a session, without waiting; false when another session holds it. */
export async function tryLockPeriod(session: PoolClient, flow: string, period: string, environment: string): Promise<boolean> {
  const got = await queryFirst(session, 'SELECT pg_try_advisory_lock(hashtext($1)) AS ok', [periodLockKey(flow, period, environment)], Locked);
  return got!.ok;
}

/**
 * SQL query: the backend pid (column `pid`) of the session holding the run's lock, in this
 * database; no row when the run of `runIdSql` is not alive. Reads pg_locks only (no lock is taken).
 */
export function runLockHolderSql(runIdSql: string): string {
  return `SELECT l.pid FROM pg_locks l
    WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 2 AND l.classid = ${LOCK.run}::oid AND l.objid = (${runIdSql})::oid
      AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())`;
}

/**
 * SQL condition, true when the run of `runIdSql` is alive: its session holds the run's lock. Reads
 * pg_locks only (no lock is taken), so a view can ask it for many runs at once.
 */
export function runAliveSql(runIdSql: string): string {
  return `EXISTS (${runLockHolderSql(runIdSql)})`;
}

/**
 * Runs `fn` while holding the submission's lock on a session of its own (the whole send or cancel
 * of that submission); `busy` when another process holds it. The lock goes with the session.
 */
export function withSubmissionLock<T>(ledger: Pool, submissionId: number, fn: () => Promise<T>): Promise<{ busy: true } | { busy: false; value: T }> {
  return withTryLock(ledger, ['pg_try_advisory_lock($1, $2)', 'pg_advisory_unlock($1, $2)'], [LOCK.submission, submissionId], fn);
}

/**
 * Runs `fn` while holding the period's lock (the one a writing run or rerun holds for its whole
 * life, a rerun's plan waiting for its confirmation included) on a session of its own; `busy`
 * when another process holds it.
 */
export function withPeriodLock<T>(ledger: Pool, flow: string, period: string, environment: string, fn: () => Promise<T>): Promise<{ busy: true } | { busy: false; value: T }> {
  return withTryLock(ledger, ['pg_try_advisory_lock(hashtext($1))', 'pg_advisory_unlock(hashtext($1))'], [periodLockKey(flow, period, environment)], fn);
}

/**
 * Runs `fn` while holding the lock of the submission's evidence pack on a session of its own,
 * waiting for it when another process (or call) holds it: that one writes the same pack, which is
 * there to be checked once it is done. Waiting holds no database session (a pool full of waiters
 * would starve the writer). The lock goes with the session.
 */
export async function withEvidenceLock<T>(ledger: Pool, submissionId: number, fn: () => Promise<T>): Promise<T> {
  for (;;) {
    const locked = await withTryLock(ledger, ['pg_try_advisory_lock($1, $2)', 'pg_advisory_unlock($1, $2)'], [LOCK.evidence, submissionId], fn);
    if (!locked.busy) return locked.value;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

async function withTryLock<T>(ledger: Pool, [lock, unlock]: [string, string], key: unknown[], fn: () => Promise<T>): Promise<{ busy: true } | { busy: false; value: T }> {
  const session = await connect(ledger);
  let broken: Error | undefined;
  try {
    const got = await queryFirst(session, `SELECT ${lock} AS ok`, key, Locked);
    if (!got!.ok) return { busy: true };
    try {
      return { busy: false, value: await fn() };
    } finally {
      await session.query(`SELECT ${unlock}`, key).catch((err: Error) => {
        broken = err;
      });
    }
  } finally {
    // A session whose unlock failed is closed, which releases the lock anyway.
    session.release(broken);
  }
}
