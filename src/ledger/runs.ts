import os from 'node:os';
import type { Environment } from '../config/config.js';
import type { Pool } from '../db/database.js';
import { isProcessAlive } from '../system/processAlive.js';

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
 * The runs this process started and has not ended yet. A run whose end could not be recorded
 * (the database went away under it) is no longer among them, though the ledger still says
 * `running`: `maillon serve` lives on after such a run, and its next run closes it.
 */
const inFlight = new Set<number>();

/**
 * Marks as failed the runs of this host still `running` that no process is running any more: their
 * process is gone (killed, machine restarted), or it is this one and the run ended without its end
 * being recorded (database lost mid-run). Their transaction never committed, so they left nothing
 * else.
 */
export async function closeAbandonedRuns(ledger: Pool, finishedAt: Date): Promise<number> {
  const res = await ledger.query<{ run_id: string; pid: number }>(`SELECT run_id, pid FROM maillon.runs WHERE state = 'running' AND host = $1`, [os.hostname()]);
  let n = 0;
  for (const r of res.rows) {
    if (r.pid === process.pid ? inFlight.has(Number(r.run_id)) : isProcessAlive(r.pid)) continue;
    // Its files were committed if it has submissions: the run did complete, only its end was not recorded.
    await ledger.query(
      `UPDATE maillon.runs r SET
         state = CASE WHEN EXISTS (SELECT 1 FROM maillon.submissions s WHERE s.run_id = r.run_id) THEN 'succeeded' ELSE 'failed' END,
         finished_at = $2,
         extracted = (SELECT count(*) FILTER (WHERE o.outcome <> 'emitted' OR o.status <> 1) FROM maillon.record_outcomes o WHERE o.run_id = r.run_id),
         emitted = (SELECT count(*) FILTER (WHERE o.outcome = 'emitted') FROM maillon.record_outcomes o WHERE o.run_id = r.run_id),
         quarantined = (SELECT count(*) FILTER (WHERE o.outcome = 'quarantined') FROM maillon.record_outcomes o WHERE o.run_id = r.run_id),
         error_class = CASE WHEN EXISTS (SELECT 1 FROM maillon.submissions s WHERE s.run_id = r.run_id) THEN NULL ELSE 'Abandoned' END,
         error_message = CASE WHEN EXISTS (SELECT 1 FROM maillon.submissions s WHERE s.run_id = r.run_id)
           THEN 'completed; process ' || $3 || ' did not record the end of the run (it ended, or lost its database)'
           ELSE 'abandoned: process ' || $3 || ' did not record the end of the run (it ended, or lost its database); nothing of it was committed' END
       WHERE run_id = $1 AND state = 'running'`,
      [r.run_id, finishedAt, String(r.pid)],
    );
    n++;
  }
  return n;
}

/** Records the start of a run and returns its id. */
export async function startRun(ledger: Pool, key: RunKey, startedAt: Date, version?: RunVersion): Promise<number> {
  const res = await ledger.query<{ run_id: string }>(
    `INSERT INTO maillon.runs (flow, period, environment, as_of, dry_run, state, started_at, started_by, host, pid, kind, previous_run_id, reason)
     VALUES ($1, $2, $3, $4, $5, 'running', $6, $7, $8, $9, $10, $11, $12) RETURNING run_id`,
    [key.flow, key.period, key.environment, key.asOf, key.dryRun, startedAt, os.userInfo().username, os.hostname(), process.pid,
      version?.kind ?? 'original', version?.previousRunId ?? null, version?.reason ?? null],
  );
  const runId = Number(res.rows[0]!.run_id);
  inFlight.add(runId);
  return runId;
}

/** Records a successful end with its counts. */
export async function succeedRun(ledger: Pool, runId: number, finishedAt: Date, counts: RunCounts, facts: Record<string, unknown> | null = null): Promise<void> {
  inFlight.delete(runId);
  await ledger.query(
    `UPDATE maillon.runs SET state = 'succeeded', finished_at = $2, extracted = $3, emitted = $4, quarantined = $5, facts = $6, unchanged = $7, cancelled = $8 WHERE run_id = $1`,
    [runId, finishedAt, counts.extracted, counts.emitted, counts.quarantined, facts === null ? null : JSON.stringify(facts), counts.unchanged ?? null, counts.cancelled ?? null],
  );
}

/** Records a failure with the error's class and message. */
export async function failRun(ledger: Pool, runId: number, finishedAt: Date, err: Error): Promise<void> {
  inFlight.delete(runId);
  await ledger.query(
    `UPDATE maillon.runs SET state = 'failed', finished_at = $2, error_class = $3, error_message = $4 WHERE run_id = $1`,
    [runId, finishedAt, err.name, err.message.slice(0, 2000)],
  );
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

/** The most recent runs, newest first. */
export async function recentRuns(ledger: Pool, limit: number): Promise<RunSummary[]> {
  const res = await ledger.query(
    `SELECT run_id, flow, period, environment, state, dry_run, started_at, finished_at, extracted, emitted, quarantined, error_message
     FROM maillon.runs ORDER BY run_id DESC LIMIT $1`,
    [limit],
  );
  return res.rows.map((r) => ({
    runId: Number(r.run_id),
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
