import type { Environment } from '../config/config.js';
import type { Pool } from '../db/database.js';
import type { AnyPipeline } from '../engine/pipeline.js';
import { brusselsDate, daysBetween } from '../period/localDate.js';
import { formatPeriod, parsePeriod } from '../period/period.js';
import { dueRuns, nextRuns } from '../schedule/dueRuns.js';

/** The state of one flow for one period, as the operations view shows it. */
export interface PeriodStatus {
  flow: string;
  period: string;
  /** planned (due, not run yet), running, failed, or the submissions' state: written, sent, received, accepted, accepted_with_anomalies, rejected, cancelled. */
  state: string;
  overdue: boolean;
  quarantined: number | null;
  deadline: string;
  daysRemaining: number;
  runId: number | null;
}

/** The whole operations view. */
export interface StatusSnapshot {
  at: string;
  environment: Environment;
  periods: PeriodStatus[];
  next: { flow: string; at: string | null }[];
}

// Worst first: the state shown for a period is the least advanced of its submissions.
const ORDER = ['failed', 'running', 'planned', 'written', 'sent', 'rejected', 'received', 'accepted_with_anomalies', 'accepted', 'cancelled'];

/** Flows × periods due in the last `windowDays` (plus any run in that window), with their state. */
export async function statusSnapshot(ledger: Pool, pipelines: readonly AnyPipeline[], env: Environment, now: Date, windowDays: number, ackDelayHours: number): Promise<StatusSnapshot> {
  const from = new Date(now.getTime() - windowDays * 86_400_000);
  const keys = new Map<string, { pipeline: AnyPipeline; period: string }>();
  for (const d of dueRuns(pipelines, from, now)) keys.set(`${d.pipeline.id} ${formatPeriod(d.period)}`, { pipeline: d.pipeline, period: formatPeriod(d.period) });
  const runs = await ledger.query(
    `SELECT DISTINCT ON (flow, period) run_id, flow, period, state, quarantined FROM maillon.runs
     WHERE environment = $1 AND NOT dry_run AND started_at >= $2 ORDER BY flow, period, (state = 'succeeded') DESC, run_id DESC`,
    [env, from],
  );
  for (const r of runs.rows) {
    const p = pipelines.find((x) => x.id === r.flow);
    if (p) keys.set(`${r.flow} ${r.period}`, { pipeline: p, period: r.period });
  }
  const byKey = new Map(runs.rows.map((r) => [`${r.flow} ${r.period}`, r]));
  const subs = await ledger.query<{ run_id: string; state: string; overdue: boolean }>(
    `SELECT run_id, state, (state = 'sent' AND sent_at < $2::timestamptz - make_interval(hours => $3)) AS overdue
     FROM maillon.submissions WHERE run_id = ANY($1)`,
    [runs.rows.map((r) => r.run_id), now, ackDelayHours],
  );
  const periods: PeriodStatus[] = [];
  for (const [key, { pipeline, period }] of [...keys.entries()].sort()) {
    const run = byKey.get(key);
    const mine = run ? subs.rows.filter((s) => s.run_id === run.run_id) : [];
    const state = !run ? 'planned' : run.state !== 'succeeded' ? run.state : mine.length === 0 ? 'accepted' : mine.map((s) => s.state).sort((a, b) => ORDER.indexOf(a) - ORDER.indexOf(b))[0]!;
    const deadline = pipeline.deadline(parsePeriod(period));
    periods.push({
      flow: pipeline.id, period, state, overdue: mine.some((s) => s.overdue), quarantined: run?.quarantined ?? null,
      deadline, daysRemaining: daysBetween(brusselsDate(now), deadline), runId: run ? Number(run.run_id) : null,
    });
  }
  return { at: now.toISOString(), environment: env, periods, next: nextRuns(pipelines, now).map((n) => ({ flow: n.flow, at: n.at?.toISOString() ?? null })) };
}
