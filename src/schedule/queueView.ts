import type { Environment } from '../config/config.js';
import type { Pool } from '../db/database.js';
import { runAliveSql } from '../ledger/locks.js';

/** The scheduler's queue (pg-boss, schema maillon_jobs) and what runs now. */
export interface QueueView {
  /** Jobs of the run queue by pg-boss state (created, retry, active…); empty before serve ever started. */
  depth: Record<string, number>;
  /** Jobs waiting to be taken, oldest first. */
  waiting: { flow: string; period: string; since: Date }[];
  /** Runs alive now (their session holds their lock), with when they started. */
  running: { runId: number; flow: string; period: string; startedAt: Date; host: string; pid: number; startedBy: string }[];
}

const QUEUE = 'maillon-run';

/** Reads the queue and the live runs of an environment. */
export async function readQueue(ledger: Pool, environment: Environment): Promise<QueueView> {
  const depth: Record<string, number> = {};
  const waiting: QueueView['waiting'] = [];
  const present = (await ledger.query(`SELECT to_regclass('maillon_jobs.job') IS NOT NULL AS ok`)).rows[0].ok as boolean;
  if (present) {
    for (const r of (await ledger.query(`SELECT state::text AS state, count(*)::int AS n FROM maillon_jobs.job WHERE name = $1 AND state::text IN ('created', 'retry', 'active') GROUP BY 1`, [QUEUE])).rows) depth[r.state] = r.n;
    const jobs = await ledger.query(
      `SELECT data->>'flow' AS flow, data->>'period' AS period, created_on FROM maillon_jobs.job
       WHERE name = $1 AND state::text IN ('created', 'retry') AND data->>'environment' = $2 ORDER BY created_on LIMIT 50`,
      [QUEUE, environment],
    );
    for (const j of jobs.rows) waiting.push({ flow: j.flow, period: j.period, since: j.created_on });
  }
  const runs = await ledger.query(
    `SELECT run_id, flow, period, started_at, host, pid, started_by FROM maillon.runs r
     WHERE state = 'running' AND NOT dry_run AND environment = $1 AND ${runAliveSql('r.run_id')} ORDER BY run_id`,
    [environment],
  );
  const running = runs.rows.map((r) => ({ runId: Number(r.run_id), flow: r.flow, period: r.period, startedAt: r.started_at, host: r.host, pid: r.pid, startedBy: r.started_by }));
  return { depth, waiting, running };
}
