import type { Environment } from '../domain/environment.js';
import type { Pool } from '../db/database.js';
import { pausedFlows } from '../ledger/flowPauses.js';
import { type Phase, type PeriodView, readPeriodViews, recentPeriodKeys } from '../ledger/periodView.js';
import type { AnyPipeline } from '../engine/pipeline.js';
import { closedOn } from '../engine/periodGuard.js';
import { brusselsDate, daysBetween } from '../period/localDate.js';
import { formatPeriod, parsePeriod } from '../period/period.js';
import { dueRuns, nextRuns } from '../schedule/dueRuns.js';
import { maskPersonalData } from '../log/maskPersonalData.js';
import { type LateRecords, readLateRecords, withLateRecords } from '../reconcile/lateRecords.js';
import { type LateCandidate, lateKey, type LateRecordsStore } from './lateRecordsStore.js';
import { type OperationsView, readOperations } from './operationsView.js';
import { readUnsettledReplies, type UnsettledReply } from './unsettledReplies.js';

/** The state of one flow for one period, as the operations view shows it. */
export interface PeriodStatus {
  flow: string;
  period: string;
  /** planned (due, not run yet), running, failed, given_up, nothing_to_send, or the live submissions' least advanced state (written, sent, received, accepted_with_anomalies, accepted); rejected or cancelled when no receiver holds anything; outside_window when never run and due before serve's catch-up window (MAILLON_CATCHUP_DAYS); closed when to do or given up and past its closing date (the receiver takes no file for it any more). */
  state: string;
  /** What the grid shows: to_do, running, in_progress, failed, given_up, delivered, needs_attention, nothing_to_send, outside_window, closed. */
  category: Category;
  /** To do but due before serve's catch-up window: serve will not run it; an operator must. */
  outsideCatchUp: boolean;
  /** Not delivered, and its deadline is within the risk window (or past). */
  deadlineAtRisk: boolean;
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
  /** Dossier rows of the period that reached the dossier after its run and no version answers (then needs_attention, and `action` names the command); null when not counted. */
  lateRecords: number | null;
}

/** The grid's distinctions, from the period view and the catch-up window. */
export type Category = 'to_do' | 'running' | 'in_progress' | 'failed' | 'given_up' | 'delivered' | 'needs_attention' | 'nothing_to_send' | 'outside_window' | 'closed';

/** Days before a deadline from which a period not delivered is flagged as at risk. */
export const DEADLINE_RISK_DAYS = 7;

/** The whole operations view. */
export interface StatusSnapshot {
  at: string;
  environment: Environment;
  periods: PeriodStatus[];
  next: { flow: string; at: string | null }[];
  /** The paused flows (maillon pause), with why, who and since when. */
  paused: { flow: string; reason: string; by: string; at: string }[];
  /** serve's catch-up window (MAILLON_CATCHUP_DAYS): periods to do due before it are outside_window. */
  catchUpDays: number;
  /** Days before a deadline from which a period not delivered is at risk. */
  deadlineRiskDays: number;
  /** The serve instances and their last tick. */
  instances: OperationsView['instances'];
  /** The scheduler's queue. */
  queue: OperationsView['queue'];
  /** The runs alive now, with their elapsed time. */
  running: OperationsView['running'];
  /** The last finished runs with their duration. */
  recentRuns: OperationsView['recentRuns'];
  /** Replies tied to no period that were set aside, and replies replaced on the server after they were read (all environments, in the window). */
  unsettledReplies: UnsettledReply[];
}

/**
 * Flows × periods due in the last `windowDays` (plus any run in that window), with their state
 * from the period view. A period to do whose last due instant is before serve's catch-up window
 * (`catchUpDays`, MAILLON_CATCHUP_DAYS) is marked outside it: serve will not run it.
 */
export async function statusSnapshot(
  ledger: Pool,
  pipelines: readonly AnyPipeline[],
  env: Environment,
  now: Date,
  windowDays: number,
  ackDelayHours: number,
  catchUpDays = windowDays,
  /**
   * The dossier: with it, periods of flows that declare `extract.keysSql` count the rows that reached
   * it after their run (read now, as `maillon status` does), or serve's store of those counts.
   */
  late?: Pool | LateRecordsStore,
): Promise<StatusSnapshot> {
  const catchUpFrom = now.getTime() - catchUpDays * 86_400_000;
  const { views: read, dueAt } = await windowViews(ledger, pipelines, env, now, windowDays, ackDelayHours);
  const views = await withLate(late, ledger, pipelines, env, read);
  const periods = views
    .sort((a, b) => (`${a.flow} ${a.period}` < `${b.flow} ${b.period}` ? -1 : 1))
    .map((v) =>
      toStatus(
        v,
        pipelines.find((p) => p.id === v.flow)!,
        now,
        (dueAt.get(`${v.flow} ${v.period}`) ?? 0) <= catchUpFrom,
      ),
    );
  // Free texts (a pause's reason and author, a run's error in an action) may name a person: masked for the page, the JSON and the terminal.
  const paused = [...(await pausedFlows(ledger, env)).values()].map((p) => ({ flow: p.flow, reason: maskPersonalData(p.reason), by: maskPersonalData(p.by), at: p.at.toISOString() }));
  // Soonest first; a schedule that never fires again last.
  const next = nextRuns(pipelines, now)
    .sort((a, b) => (a.at?.getTime() ?? Infinity) - (b.at?.getTime() ?? Infinity) || a.flow.localeCompare(b.flow))
    .map((n) => ({ flow: n.flow, at: n.at?.toISOString() ?? null }));
  const ops = await readOperations(ledger, env, now);
  const unsettledReplies = await readUnsettledReplies(ledger, new Date(now.getTime() - windowDays * 86_400_000));
  return { at: now.toISOString(), environment: env, periods, next, paused, catchUpDays, deadlineRiskDays: DEADLINE_RISK_DAYS, ...ops, unsettledReplies };
}

/** serve's tick: counts again the late records of the window's periods whose dossier or runs changed (src/status/lateRecordsStore.ts). */
export async function refreshLateRecords(
  store: LateRecordsStore,
  ledger: Pool,
  pipelines: readonly AnyPipeline[],
  env: Environment,
  now: Date,
  windowDays: number,
  ackDelayHours: number,
): Promise<void> {
  await store.refresh(lateCandidates(pipelines, (await windowViews(ledger, pipelines, env, now, windowDays, ackDelayHours)).views));
}

/** Flows × periods due in the last `windowDays` (plus any run in that window), with when each was last due. */
async function windowViews(
  ledger: Pool,
  pipelines: readonly AnyPipeline[],
  env: Environment,
  now: Date,
  windowDays: number,
  ackDelayHours: number,
): Promise<{ views: PeriodView[]; dueAt: Map<string, number> }> {
  const from = new Date(now.getTime() - windowDays * 86_400_000);
  const keys = new Map<string, { flow: string; period: string }>();
  const dueAt = new Map<string, number>();
  for (const d of dueRuns(pipelines, from, now)) {
    const key = `${d.pipeline.id} ${formatPeriod(d.period)}`;
    keys.set(key, { flow: d.pipeline.id, period: formatPeriod(d.period) });
    dueAt.set(key, Math.max(dueAt.get(key) ?? 0, d.dueAt.getTime()));
  }
  for (const k of await recentPeriodKeys(ledger, env, from)) if (pipelines.some((p) => p.id === k.flow)) keys.set(`${k.flow} ${k.period}`, k);
  return { views: await readPeriodViews(ledger, env, [...keys.values()], { now, ackDelayHours }), dueAt };
}

/** The periods whose late records are counted: of a flow with `extract.keysSql`, no run alive, and claiming to be complete (or on the way). */
function lateCandidates(pipelines: readonly AnyPipeline[], views: readonly PeriodView[]): LateCandidate[] {
  const out: LateCandidate[] = [];
  for (const v of views) {
    const pipeline = pipelines.find((x) => x.id === v.flow);
    if (pipeline?.extract.keysSql && !v.running && (v.phase === 'delivered' || v.phase === 'in_progress' || v.phase === 'needs_attention'))
      out.push({ pipeline, period: v.period, environment: v.environment, succeededRuns: v.runs.filter((r) => r.state === 'succeeded').map((r) => r.id) });
  }
  return out;
}

/** The views with the rows that reached the dossier after their period's run (src/reconcile/lateRecords.ts): counted now from the dossier, or as serve's store keeps them. */
async function withLate(late: Pool | LateRecordsStore | undefined, ledger: Pool, pipelines: readonly AnyPipeline[], env: Environment, views: PeriodView[]): Promise<PeriodView[]> {
  if (!late) return views;
  const candidates = lateCandidates(pipelines, views);
  const counted = isStore(late) ? await late.read(candidates) : new Map<string, LateRecords | null>();
  if (!isStore(late)) for (const c of candidates) counted.set(lateKey(c), await readLateRecords(late, ledger, c.pipeline, c.period, env));
  return views.map((v) => {
    const key = lateKey({ pipeline: { id: v.flow }, period: v.period, environment: v.environment });
    return counted.has(key) ? withLateRecords(v, counted.get(key)!) : v;
  });
}

function isStore(late: Pool | LateRecordsStore): late is LateRecordsStore {
  return 'read' in late && 'refresh' in late;
}

function toStatus(v: PeriodView, pipeline: AnyPipeline, now: Date, beforeCatchUp: boolean): PeriodStatus {
  const deadline = pipeline.deadline(parsePeriod(v.period));
  const reported = v.runs.find((r) => r.id === v.reportRunId);
  const daysRemaining = daysBetween(brusselsDate(now), deadline);
  // Nothing can be sent for a closed period any more: it is not to do, whatever its last run did.
  const closed = v.phase === 'to_do' || v.phase === 'given_up' ? closedOn(pipeline, parsePeriod(v.period), brusselsDate(now)) : null;
  const outsideCatchUp = v.phase === 'to_do' && beforeCatchUp && closed === null;
  // A run that emitted no record sent nothing the receivers need, even when a file went out.
  const state = closed !== null ? 'closed' : v.phase === 'delivered' && reported?.emitted === 0 ? 'nothing_to_send' : outsideCatchUp && v.state === 'planned' ? 'outside_window' : v.state;
  const action =
    closed !== null
      ? `Closed: its receiver accepts no file for this period after ${closed}. maillon sends nothing more for it; there is nothing to run.`
      : outsideCatchUp
        ? `Due before serve's catch-up window (MAILLON_CATCHUP_DAYS): serve will not run it. To send it: maillon run ${v.flow} --period ${v.period} --env ${v.environment}.${v.action ? ` ${v.action}` : ''}`
        : v.action;
  return {
    flow: v.flow,
    period: v.period,
    state,
    phase: v.phase,
    action: action === null ? null : maskPersonalData(action),
    category: closed !== null ? 'closed' : category(v, state, outsideCatchUp),
    outsideCatchUp,
    deadlineAtRisk: v.phase !== 'delivered' && closed === null && daysRemaining <= DEADLINE_RISK_DAYS,
    submissions: v.submissions.map((s) => ({ id: s.id, receiver: s.receiver, kind: s.kind, state: s.state })),
    retry: v.retry ? { failures: v.retry.failures, nextAttemptAt: v.retry.nextAttemptAt?.toISOString() ?? null, givenUpAt: v.retry.givenUpAt?.toISOString() ?? null } : null,
    overdue: v.live.some((s) => s.overdue),
    quarantined: reported?.quarantined ?? null,
    deadline,
    daysRemaining,
    runId: v.reportRunId,
    lateRecords: v.lateRecords ?? null,
  };
}

function category(v: PeriodView, state: string, outsideCatchUp: boolean): Category {
  if ((v.lateRecords ?? 0) > 0) return 'needs_attention';
  if (state === 'nothing_to_send') return 'nothing_to_send';
  if (v.phase === 'in_progress') return state === 'running' ? 'running' : 'in_progress';
  if (v.phase === 'to_do') return outsideCatchUp ? 'outside_window' : state === 'failed' ? 'failed' : 'to_do';
  return v.phase;
}
