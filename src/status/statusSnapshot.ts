import type { Environment } from '../config/config.js';
import type { Pool } from '../db/database.js';
import { pausedFlows } from '../ledger/flowPauses.js';
import { type Phase, type PeriodView, readPeriodViews, recentPeriodKeys } from '../ledger/periodView.js';
import type { AnyPipeline } from '../engine/pipeline.js';
import { brusselsDate, daysBetween } from '../period/localDate.js';
import { formatPeriod, parsePeriod } from '../period/period.js';
import { dueRuns, nextRuns } from '../schedule/dueRuns.js';

/** The state of one flow for one period, as the operations view shows it. */
export interface PeriodStatus {
  flow: string;
  period: string;
  /** planned (due, not run yet), running, failed, given_up, nothing_to_send, or the live submissions' least advanced state (written, sent, received, accepted_with_anomalies, accepted); rejected or cancelled when no receiver holds anything. */
  state: string;
  /** Where the period stands for its receivers: to_do, in_progress, delivered, needs_attention, given_up. */
  phase: Phase;
  /** What the operator should do, as a sentence; null when nothing. */
  action: string | null;
  /** The period's submissions, oldest first, with their kind (original, correction…) and state. */
  submissions: { id: number; receiver: string; kind: string; state: string }[];
  /** serve's failed attempts, when it has some: given up, or the next attempt. */
  retry: { failures: number; nextAttemptAt: string | null; givenUpAt: string | null } | null;
  overdue: boolean;
  quarantined: number | null;
  deadline: string;
  daysRemaining: number;
  /** The run a report shows (latest successful run not entirely cancelled), or null. */
  runId: number | null;
}

/** The whole operations view. */
export interface StatusSnapshot {
  at: string;
  environment: Environment;
  periods: PeriodStatus[];
  next: { flow: string; at: string | null }[];
  /** The paused flows (maillon pause), with why, who and since when. */
  paused: { flow: string; reason: string; by: string; at: string }[];
}

/** Flows × periods due in the last `windowDays` (plus any run in that window), with their state from the period view. */
export async function statusSnapshot(ledger: Pool, pipelines: readonly AnyPipeline[], env: Environment, now: Date, windowDays: number, ackDelayHours: number): Promise<StatusSnapshot> {
  const from = new Date(now.getTime() - windowDays * 86_400_000);
  const keys = new Map<string, { flow: string; period: string }>();
  for (const d of dueRuns(pipelines, from, now)) keys.set(`${d.pipeline.id} ${formatPeriod(d.period)}`, { flow: d.pipeline.id, period: formatPeriod(d.period) });
  for (const k of await recentPeriodKeys(ledger, env, from)) if (pipelines.some((p) => p.id === k.flow)) keys.set(`${k.flow} ${k.period}`, k);
  const views = await readPeriodViews(ledger, env, [...keys.values()], { now, ackDelayHours });
  const periods = views
    .sort((a, b) => (`${a.flow} ${a.period}` < `${b.flow} ${b.period}` ? -1 : 1))
    .map((v) => toStatus(v, pipelines.find((p) => p.id === v.flow)!, now));
  const paused = [...(await pausedFlows(ledger, env)).values()].map((p) => ({ flow: p.flow, reason: p.reason, by: p.by, at: p.at.toISOString() }));
  return { at: now.toISOString(), environment: env, periods, next: nextRuns(pipelines, now).map((n) => ({ flow: n.flow, at: n.at?.toISOString() ?? null })), paused };
}

function toStatus(v: PeriodView, pipeline: AnyPipeline, now: Date): PeriodStatus {
  const deadline = pipeline.deadline(parsePeriod(v.period));
  const reported = v.runs.find((r) => r.id === v.reportRunId);
  return {
    flow: v.flow, period: v.period, state: v.state, phase: v.phase, action: v.action,
    submissions: v.submissions.map((s) => ({ id: s.id, receiver: s.receiver, kind: s.kind, state: s.state })),
    retry: v.retry ? { failures: v.retry.failures, nextAttemptAt: v.retry.nextAttemptAt?.toISOString() ?? null, givenUpAt: v.retry.givenUpAt?.toISOString() ?? null } : null,
    overdue: v.live.some((s) => s.overdue), quarantined: reported?.quarantined ?? null,
    deadline, daysRemaining: daysBetween(brusselsDate(now), deadline), runId: v.reportRunId,
  };
}
