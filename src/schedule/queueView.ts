import type { Environment } from '../config/config.js';
import { z } from 'zod';
import type { Pool } from '../db/database.js';
import { queryFirst, queryRows } from '../db/queryRows.js';
import { runAliveSql } from '../ledger/locks.js';
import { ledgerId } from '../ledger/rowSchemas.js';

/** The scheduler's queue (pg-boss, schema maillon_jobs) and what runs now. */
export interface QueueView {
  /** Jobs of the environment in the run queue by pg-boss state (created, retry, active…); empty before serve ever started. */
  depth: Record<string, number>;
  /** Jobs waiting to be taken, oldest first. */
  waiting: { flow: string; period: string; since: Date }[];
  /** Runs alive now (their session holds their lock), with when they started. */
  running: { runId: number; flow: string; period: string; startedAt: Date; host: string; pid: number; startedBy: string }[];
}

const QUEUE = 'maillon-run';

const Present = z.object({ ok: z.boolean() });
const StateCount = z.object({ state: z.string(), n: z.number() });
const JobRow = z.object({ flow: z.string(), period: z.string(), created_on: z.date() });
const RunRow = z.object({ run_id: ledgerId, flow: z.string(), period: z.string(), started_at: z.date(), host: z.string(), pid: z.number(), started_by: z.string() });

/** Reads the queue and the live runs of an environment. */
export async function readQueue(ledger: Pool, environment: Environment): Promise<QueueView> {
  const depth: Record<string, number> = {};
  const waiting: QueueView['waiting'] = [];
  const present = (await queryFirst(ledger, `SELECT to_regclass('maillon_jobs.job') IS NOT NULL AS ok`, [], Present))?.ok ?? false;
  if (present) {
    const states = await queryRows(
      ledger,
      `SELECT state::text AS state, count(*)::int AS n FROM maillon_jobs.job WHERE name = $1 AND state::text IN ('created', 'retry', 'active') AND data->>'environment' = $2 GROUP BY 1`,
      [QUEUE, environment],
      StateCount,
    );
    for (const r of states) depth[r.state] = r.n;
    const jobs = await queryRows(
      ledger,
      `SELECT data->>'flow' AS flow, data->>'period' AS period, created_on FROM maillon_jobs.job
       WHERE name = $1 AND state::text IN ('created', 'retry') AND data->>'environment' = $2 ORDER BY created_on LIMIT 50`,
      [QUEUE, environment],
      JobRow,
    );
    for (const j of jobs) waiting.push({ flow: j.flow, period: j.period, since: j.created_on });
  }
  const runs = await queryRows(
    ledger,
    `SELECT run_id, flow, period, started_at, host, pid, started_by FROM maillon.runs r
     WHERE state = 'running' AND NOT dry_run AND environment = $1 AND ${runAliveSql('r.run_id')} ORDER BY run_id`,
    [environment],
    RunRow,
  );
  const running = runs.map((r) => ({ runId: r.run_id, flow: r.flow, period: r.period, startedAt: r.started_at, host: r.host, pid: r.pid, startedBy: r.started_by }));
  return { depth, waiting, running };
}
