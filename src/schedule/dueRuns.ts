import { Cron } from 'croner';
import type { AnyPipeline } from '../engine/pipeline.js';
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
 * Sorted oldest first (then by flow), which is the order the scheduler runs them in.
 */
export function dueRuns(pipelines: readonly AnyPipeline[], from: Date, to: Date): DueRun[] {
  const runs = pipelines.flatMap((pipeline) =>
    fireTimes(pipeline.schedule, from, to).map((dueAt) => ({ pipeline, period: lastCompletePeriod(pipeline.periodKind, dueAt), dueAt })),
  );
  return runs.sort((a, b) => a.dueAt.getTime() - b.dueAt.getTime() || a.pipeline.id.localeCompare(b.pipeline.id));
}

/** The next firing of each flow after an instant. */
export function nextRuns(pipelines: readonly AnyPipeline[], after: Date): { flow: string; at: Date | null }[] {
  return pipelines.map((p) => ({ flow: p.id, at: new Cron(p.schedule, { timezone: 'Europe/Brussels', paused: true }).nextRun(after) }));
}
