import type { Environment } from '../config/config.js';
import { z } from 'zod';
import type { Pool } from '../db/database.js';
import { queryRows } from '../db/queryRows.js';
import { ledgerId } from '../ledger/rowSchemas.js';
import { readQueue } from '../schedule/queueView.js';
import { readHeartbeats, tickIsRecent } from './heartbeat.js';

/** What runs the schedules, what waits and what ran lately, for the status page and `status --json`. */
export interface OperationsView {
  /** The serve instances seen within a week, the latest tick first; `alive` when it ticked within three ticks. */
  instances: { instance: string; host: string; pid: number; startedAt: string; lastTickAt: string; tickSeconds: number; alive: boolean }[];
  /** The scheduler queue: jobs by pg-boss state, and those waiting. */
  queue: { depth: Record<string, number>; waiting: { flow: string; period: string; since: string }[] };
  /** The runs alive now, with their elapsed time. */
  running: { runId: number; flow: string; period: string; startedAt: string; startedBy: string; host: string; elapsedSeconds: number }[];
  /** The last finished runs (dry runs excluded), newest first, with their duration. */
  recentRuns: {
    runId: number;
    flow: string;
    period: string;
    state: string;
    kind: string;
    startedAt: string;
    finishedAt: string | null;
    durationSeconds: number | null;
    emitted: number | null;
    startedBy: string;
  }[];
}

const RecentRun = z.object({
  run_id: ledgerId,
  flow: z.string(),
  period: z.string(),
  state: z.string(),
  kind: z.string(),
  started_at: z.date(),
  finished_at: z.date().nullable(),
  emitted: z.number().nullable(),
  started_by: z.string(),
  seconds: z.number().nullable(),
});

/** Reads the instances, the queue, the live runs and the last runs of an environment. */
export async function readOperations(ledger: Pool, environment: Environment, now: Date): Promise<OperationsView> {
  const beats = await readHeartbeats(ledger, environment, now);
  const q = await readQueue(ledger, environment);
  const recent = await queryRows(
    ledger,
    `SELECT run_id, flow, period, state, kind, started_at, finished_at, emitted, started_by, extract(epoch FROM finished_at - started_at)::float8 AS seconds
     FROM maillon.runs WHERE environment = $1 AND NOT dry_run AND state <> 'running' ORDER BY run_id DESC LIMIT 15`,
    [environment],
    RecentRun,
  );
  return {
    instances: beats.map((h) => ({
      instance: h.instance,
      host: h.host,
      pid: h.pid,
      startedAt: h.startedAt.toISOString(),
      lastTickAt: h.lastTickAt.toISOString(),
      tickSeconds: h.tickSeconds,
      alive: tickIsRecent(h.lastTickAt, h.tickSeconds, now),
    })),
    queue: { depth: q.depth, waiting: q.waiting.map((w) => ({ flow: w.flow, period: w.period, since: w.since.toISOString() })) },
    running: q.running.map((r) => ({
      runId: r.runId,
      flow: r.flow,
      period: r.period,
      startedAt: r.startedAt.toISOString(),
      startedBy: r.startedBy,
      host: r.host,
      elapsedSeconds: Math.max(0, Math.round((now.getTime() - r.startedAt.getTime()) / 1000)),
    })),
    recentRuns: recent.map((r) => ({
      runId: r.run_id,
      flow: r.flow,
      period: r.period,
      state: r.state,
      kind: r.kind,
      startedAt: r.started_at.toISOString(),
      finishedAt: r.finished_at?.toISOString() ?? null,
      durationSeconds: r.seconds === null ? null : Math.round(r.seconds * 10) / 10,
      emitted: r.emitted,
      startedBy: r.started_by,
    })),
  };
}
