import type { Environment } from '../domain/environment.js';
import { z } from 'zod';
import type { Pool, PoolClient } from '../db/database.js';
import { queryFirst, queryRows } from '../db/queryRows.js';
import { runAliveSql } from './locks.js';
import { mayHoldSql } from './mayHold.js';
import { rejectedBaseSql } from './rejectedBase.js';
import { environmentColumn, ledgerId, runStateColumn, submissionKindColumn, submissionStateColumn } from './rowSchemas.js';
import { withInterruptedCancels } from './interruptedCancels.js';
import { derivePeriod, type PeriodFacts, type PeriodView, type RetryFact, type RunFact, type SubmissionFact } from './periodState.js';

export type { Phase, PeriodView, SubmissionFact } from './periodState.js';

/** One flow's period. */
export interface PeriodKey {
  flow: string;
  period: string;
}

/** How the view reads the clock-dependent facts (overdue submissions). */
export interface ViewClock {
  now: Date;
  ackDelayHours: number;
}

type Db = Pool | PoolClient;

const key = { flow: z.string(), period: z.string() };
const SubmissionRow = z.object({
  ...key,
  submission_id: ledgerId,
  run_id: ledgerId,
  receiver: z.string(),
  kind: submissionKindColumn,
  state: submissionStateColumn,
  go_started: z.boolean(),
  overdue: z.boolean(),
  may_hold: z.boolean(),
  rejected_base: z.array(ledgerId),
  td_started: z.boolean(),
});
const RunRow = z.object({
  ...key,
  run_id: ledgerId,
  state: runStateColumn,
  error_message: z.string().nullable(),
  quarantined: z.number().nullable(),
  emitted: z.number().nullable(),
  correction: z.boolean(),
  alive: z.boolean(),
  has_submissions: z.boolean(),
});
const RetryRow = z.object({
  ...key,
  failures: z.number(),
  last_error: z.string(),
  last_failed_at: z.date(),
  next_attempt_at: z.date().nullable(),
  given_up_at: z.date().nullable(),
});
const KeyRow = z.object(key);

/**
 * The receivers' view of periods of one environment: every submission, every non-dry run and the
 * scheduler's failures of each key, read in three statements whatever the number of keys, then
 * derived (src/ledger/periodState.ts). The one place where the ledger is read to decide what a
 * period holds: run, rerun, backfill, serve, cancel, status, report, metrics and evidence use it.
 */
export async function readPeriodViews(ledger: Db, environment: Environment, keys: readonly PeriodKey[], clock?: ViewClock): Promise<PeriodView[]> {
  const unique = [...new Map(keys.map((k) => [`${k.flow} ${k.period}`, k])).values()];
  if (unique.length === 0) return [];
  const params = [environment, unique.map((k) => k.flow), unique.map((k) => k.period)];
  const keysSql = `SELECT * FROM unnest($2::text[], $3::text[]) AS k (flow, period)`;
  // One after the other: `ledger` may be a single session (a run's), which takes one query at a time.
  const subs = await queryRows(
    ledger,
    `SELECT s.flow, s.period, s.submission_id, s.run_id, s.receiver, s.kind, s.state, s.go_started_at IS NOT NULL AS go_started, ${mayHoldSql('s')} AS may_hold,
            ${rejectedBaseSql('s')} AS rejected_base, s.td_started_at IS NOT NULL AS td_started,
            coalesce(s.state = 'sent' AND s.sent_at < $4::timestamptz - make_interval(hours => $5), false) AS overdue
     FROM maillon.submissions s JOIN (${keysSql}) k USING (flow, period)
     WHERE s.environment = $1 ORDER BY s.submission_id`,
    [...params, clock?.now ?? null, clock?.ackDelayHours ?? 0],
    SubmissionRow,
  );
  const runs = await queryRows(
    ledger,
    `SELECT r.flow, r.period, r.run_id, r.state, r.error_message, r.quarantined, r.emitted, r.kind <> 'original' AS correction,
            r.state = 'running' AND ${runAliveSql('r.run_id')} AS alive,
            EXISTS (SELECT 1 FROM maillon.submissions s WHERE s.run_id = r.run_id) AS has_submissions
     FROM maillon.runs r JOIN (${keysSql}) k USING (flow, period)
     WHERE r.environment = $1 AND NOT r.dry_run ORDER BY r.run_id`,
    params,
    RunRow,
  );
  const retries = await queryRows(
    ledger,
    `SELECT p.flow, p.period, p.failures, p.last_error, p.last_failed_at, p.next_attempt_at, p.given_up_at
     FROM maillon.period_retries p JOIN (${keysSql}) k USING (flow, period) WHERE p.environment = $1`,
    params,
    RetryRow,
  );
  const facts = new Map<string, PeriodFacts>(unique.map((k) => [`${k.flow} ${k.period}`, { ...k, environment, submissions: [], runs: [], retry: null }]));
  const of = (r: { flow: string; period: string }): PeriodFacts => facts.get(`${r.flow} ${r.period}`)!;
  for (const r of subs) of(r).submissions.push(toSubmission(r));
  for (const r of runs) of(r).runs.push(toRun(r));
  for (const r of retries) of(r).retry = toRetry(r);
  return [...facts.values()].map((f) => withInterruptedCancels(derivePeriod(f)));
}

/** The view of one period. */
export async function readPeriodView(ledger: Db, environment: Environment, flow: string, period: string, clock?: ViewClock): Promise<PeriodView> {
  return (await readPeriodViews(ledger, environment, [{ flow, period }], clock))[0]!;
}

/** The flow, period and environment of a submission, or null when there is none with that id. */
export async function periodOfSubmission(ledger: Db, submissionId: number): Promise<(PeriodKey & { environment: Environment }) | null> {
  const row = await queryFirst(ledger, 'SELECT flow, period, environment FROM maillon.submissions WHERE submission_id = $1', [submissionId], KeyRow.extend({ environment: environmentColumn }));
  return row ?? null;
}

/** Every period of an environment that has a submission or a non-dry run started since an instant. */
export async function recentPeriodKeys(ledger: Db, environment: Environment, since: Date): Promise<PeriodKey[]> {
  return queryRows(ledger, `SELECT DISTINCT flow, period FROM maillon.runs WHERE environment = $1 AND NOT dry_run AND started_at >= $2 ORDER BY flow, period`, [environment, since], KeyRow);
}

function toSubmission(r: z.output<typeof SubmissionRow>): SubmissionFact {
  return {
    id: r.submission_id,
    runId: r.run_id,
    receiver: r.receiver,
    kind: r.kind,
    state: r.state,
    goStarted: r.go_started,
    overdue: r.overdue,
    mayHold: r.may_hold,
    rejectedBase: r.rejected_base,
    cancelStarted: r.td_started,
  };
}

function toRun(r: z.output<typeof RunRow>): RunFact {
  return { id: r.run_id, state: r.state, alive: r.alive, error: r.error_message, quarantined: r.quarantined, emitted: r.emitted, hasSubmissions: r.has_submissions, correction: r.correction };
}

function toRetry(r: z.output<typeof RetryRow>): RetryFact {
  return { failures: r.failures, lastError: r.last_error, lastFailedAt: r.last_failed_at, nextAttemptAt: r.next_attempt_at, givenUpAt: r.given_up_at };
}
