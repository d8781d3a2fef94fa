import { Cron } from 'croner';
import type { AnyPipeline } from '../engine/pipeline.js';
import { closedOn } from '../engine/periodGuard.js';
import type { PeriodView } from '../ledger/periodView.js';
import { brusselsDate } from '../period/localDate.js';
import { lastCompletePeriod, type Period } from '../period/period.js';

/** One scheduled run: a flow, the period it is for, and the instant it became due. */
export interface DueRun {
  pipeline: AnyPipeline;
  period: Period;
  dueAt: Date;
}

/** Every instant a cron expression (Europe/Brussels) fires in (from, to], in order. */
export function fireTimes(expression: string, from: Date, to: Date): Date[] {
  const cron = new Cron(expression, { timezone: 'Europe/Brussels', paused: true });
  const out: Date[] = [];
  for (let t = cron.nextRun(from); t && t <= to; t = cron.nextRun(t)) out.push(t);
  return out;
}

/**
 * The runs that became due in (from, to]: each firing of a flow's schedule proposes the last
 * complete period of the flow's kind at that instant (career on 10 January → the last quarter).
 * A period closed on `to`'s day (its receiver takes no file for it any more) is not proposed.
 * Sorted oldest first (then by flow), which is the order the scheduler runs them in.
 */
export function dueRuns(pipelines: readonly AnyPipeline[], from: Date, to: Date): DueRun[] {
  const today = brusselsDate(to);
  const runs = pipelines
    .flatMap((pipeline) => fireTimes(pipeline.schedule, from, to).map((dueAt) => ({ pipeline, period: lastCompletePeriod(pipeline.periodKind, dueAt), dueAt })))
    .filter((d) => closedOn(d.pipeline, d.period, today) === null);
  return runs.sort((a, b) => a.dueAt.getTime() - b.dueAt.getTime() || a.pipeline.id.localeCompare(b.pipeline.id));
}

/** The next firing of each flow after an instant. */
export function nextRuns(pipelines: readonly AnyPipeline[], after: Date): { flow: string; at: Date | null }[] {
  return pipelines.map((p) => ({ flow: p.id, at: new Cron(p.schedule, { timezone: 'Europe/Brussels', paused: true }).nextRun(after) }));
}

/** What the scheduler does with a due period: run it, wait for its next attempt, leave it, or give it a fresh start and run it. */
export type DueDecision = 'propose' | 'wait' | 'skip' | 'reset';

/**
 * The scheduler's rule for a due period, from its view: only a period to do is run, once its
 * delay after a failure has passed; a period given up waits for an operator, or for its flow's
 * schedule to fire again after it was given up (then its failures are forgotten).
 */
export function dueDecision(view: PeriodView, schedule: string, now: Date): DueDecision {
  if (view.phase === 'given_up') {
    const next = new Cron(schedule, { timezone: 'Europe/Brussels', paused: true }).nextRun(view.retry!.givenUpAt);
    return next && next.getTime() <= now.getTime() ? 'reset' : 'skip';
  }
  if (view.phase !== 'to_do') return 'skip';
  if (view.retry?.nextAttemptAt && view.retry.nextAttemptAt.getTime() > now.getTime()) return 'wait';
  return 'propose';
}
