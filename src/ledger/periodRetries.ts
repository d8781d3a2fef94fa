import type { Environment } from '../domain/environment.js';
import { z } from 'zod';
import type { Pool, PoolClient } from '../db/database.js';
import { queryFirst } from '../db/queryRows.js';

/** How `serve` retries a due period whose run fails. */
export interface RetryPolicy {
  /** Seconds between two ticks: the first retry waits one tick. */
  tickSeconds: number;
  /** Failed runs after which the period is given up (MAILLON_RETRY_LIMIT). */
  limit: number;
}

/** Longest wait between two attempts, whatever the tick and the number of failures. */
const MAX_DELAY_MS = 24 * 3_600_000;

/** The wait after the n-th consecutive failure (n ≥ 1): one tick, then twice as long each time, capped at a day. */
export function retryDelayMs(failures: number, tickSeconds: number): number {
  return Math.min(tickSeconds * 1000 * 2 ** Math.min(failures - 1, 30), MAX_DELAY_MS);
}

/** A period of a flow in an environment. */
export interface PeriodRef {
  flow: string;
  period: string;
  environment: Environment;
}

const RetryRow = z.object({ failures: z.number(), next_attempt_at: z.date().nullable(), given_up_at: z.date().nullable() });

/**
 * Records a failed scheduled run of a period: one more consecutive failure, and either the
 * instant of the next attempt or, at the limit, the period given up. Returns the stored outcome.
 */
export async function recordPeriodFailure(ledger: Pool, ref: PeriodRef, at: Date, error: string, policy: RetryPolicy): Promise<{ failures: number; nextAttemptAt: Date | null; givenUp: boolean }> {
  const r = await queryFirst(
    ledger,
    `INSERT INTO maillon.period_retries AS p (flow, period, environment, failures, last_failed_at, last_error, next_attempt_at, given_up_at)
     VALUES ($1, $2, $3, 1, $4, $5,
             CASE WHEN $6 <= 1 THEN NULL ELSE $4::timestamptz + make_interval(secs => $7::double precision / 1000) END,
             CASE WHEN $6 <= 1 THEN $4::timestamptz END)
     ON CONFLICT (flow, period, environment) DO UPDATE SET
       failures = p.failures + 1, last_failed_at = $4, last_error = $5,
       next_attempt_at = CASE WHEN p.failures + 1 >= $6 THEN NULL
                              ELSE $4::timestamptz + make_interval(secs => least($8::double precision * power(2, p.failures), $9) / 1000) END,
       given_up_at = CASE WHEN p.failures + 1 >= $6 THEN $4::timestamptz END
     RETURNING failures, next_attempt_at, given_up_at`,
    [ref.flow, ref.period, ref.environment, at, error.slice(0, 2000), policy.limit, retryDelayMs(1, policy.tickSeconds), policy.tickSeconds * 1000, MAX_DELAY_MS],
    RetryRow,
  ).then((row) => row!);
  return { failures: r.failures, nextAttemptAt: r.next_attempt_at, givenUp: r.given_up_at !== null };
}

/** Forgets the failures of a period: it succeeded, an operator ran it, or its flow fired again. */
export async function clearPeriodRetries(db: Pool | PoolClient, ref: PeriodRef): Promise<void> {
  await db.query('DELETE FROM maillon.period_retries WHERE flow = $1 AND period = $2 AND environment = $3', [ref.flow, ref.period, ref.environment]);
}
