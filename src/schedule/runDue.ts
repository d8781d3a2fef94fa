import type { Environment } from '../config/config.js';
import { connect, type Pool } from '../db/database.js';
import type { AnyPipeline } from '../engine/pipeline.js';
import type { Logger } from '../log/logger.js';
import { formatPeriod, type Period } from '../period/period.js';

/**
 * True when the period was run: a successful (non-dry) run exists, or a run's submissions were
 * committed even if its process died before recording the run's end (sending them is the
 * delivery step's job, running the period again would send it twice).
 */
export async function isDelivered(ledger: Pool, flow: string, period: string, env: Environment): Promise<boolean> {
  const r = await ledger.query(
    `SELECT 1 FROM maillon.runs WHERE flow = $1 AND period = $2 AND environment = $3 AND state = 'succeeded' AND NOT dry_run
     UNION ALL
     SELECT 1 FROM maillon.submissions WHERE flow = $1 AND period = $2 AND environment = $3 AND state <> 'cancelled'
     LIMIT 1`,
    [flow, period, env],
  );
  return (r.rowCount ?? 0) > 0;
}

/** What a scheduled run does once it holds the period: run the flow (its delivery follows on the tick). */
export type RunPeriod = (pipeline: AnyPipeline, period: Period) => Promise<void>;

/**
 * Runs a due (flow, period, environment) at most once across every maillon process sharing the
 * database: a session advisory lock on the key, then a check that no successful run exists yet.
 * Returns what happened.
 */
export async function runDueOnce(
  ledger: Pool,
  logger: Logger,
  env: Environment,
  pipeline: AnyPipeline,
  period: Period,
  run: RunPeriod,
): Promise<'ran' | 'already-delivered' | 'busy'> {
  const key = `maillon-run:${pipeline.id}:${formatPeriod(period)}:${env}`;
  const lock = await connect(ledger);
  try {
    const got = await lock.query<{ ok: boolean }>('SELECT pg_try_advisory_lock(hashtext($1)) AS ok', [key]);
    if (!got.rows[0]!.ok) return 'busy';
    try {
      if (await isDelivered(ledger, pipeline.id, formatPeriod(period), env)) return 'already-delivered';
      logger.info({ flow: pipeline.id, period: formatPeriod(period), environment: env }, 'scheduled run starting');
      await run(pipeline, period);
      return 'ran';
    } finally {
      await lock.query('SELECT pg_advisory_unlock(hashtext($1))', [key]);
    }
  } finally {
    lock.release();
  }
}
