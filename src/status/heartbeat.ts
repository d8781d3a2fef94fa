import os from 'node:os';
import type { Environment } from '../config/config.js';
import { z } from 'zod';
import type { Pool } from '../db/database.js';
import { queryRows } from '../db/queryRows.js';
import { environmentColumn } from '../ledger/rowSchemas.js';

/** One `maillon serve` process and its last tick. */
export interface Heartbeat {
  instance: string;
  environment: Environment;
  host: string;
  pid: number;
  startedAt: Date;
  lastTickAt: Date;
  tickSeconds: number;
}

const HeartbeatRow = z.object({
  instance: z.string(),
  environment: environmentColumn,
  host: z.string(),
  pid: z.number(),
  started_at: z.date(),
  last_tick_at: z.date(),
  tick_seconds: z.number(),
});

/** This process's name among the instances: host and pid, unique while it lives. */
export function instanceName(): string {
  return `${os.hostname()}:${process.pid}`;
}

/** Records a tick of this instance (one row per instance, updated in place). */
export async function recordTick(ledger: Pool, environment: Environment, startedAt: Date, at: Date, tickSeconds: number): Promise<void> {
  await ledger.query(
    `INSERT INTO maillon.heartbeats (instance, environment, host, pid, started_at, last_tick_at, tick_seconds) VALUES ($1, $2, $3, $4, $5, $6, $7)
     ON CONFLICT (instance) DO UPDATE SET last_tick_at = excluded.last_tick_at, started_at = excluded.started_at, tick_seconds = excluded.tick_seconds, environment = excluded.environment`,
    [instanceName(), environment, os.hostname(), process.pid, startedAt, at, tickSeconds],
  );
}

/** The instances of an environment seen within `sinceDays`, the latest tick first. */
export async function readHeartbeats(ledger: Pool, environment: Environment, now: Date, sinceDays = 7): Promise<Heartbeat[]> {
  const rows = await queryRows(
    ledger,
    `SELECT instance, environment, host, pid, started_at, last_tick_at, tick_seconds FROM maillon.heartbeats
     WHERE environment = $1 AND last_tick_at >= $2::timestamptz - make_interval(days => $3) ORDER BY last_tick_at DESC`,
    [environment, now, sinceDays],
    HeartbeatRow,
  );
  return rows.map((r) => ({ instance: r.instance, environment: r.environment, host: r.host, pid: r.pid, startedAt: r.started_at, lastTickAt: r.last_tick_at, tickSeconds: r.tick_seconds }));
}

/** An instance is alive while its last tick is less than three ticks (and at least a minute) old. */
export function tickIsRecent(lastTickAt: Date, tickSeconds: number, now: Date): boolean {
  return now.getTime() - lastTickAt.getTime() <= Math.max(60, 3 * tickSeconds) * 1000;
}
