import type { Environment } from '../domain/environment.js';
import { PeriodClosedError } from '../errors/errors.js';
import { readPeriodView } from '../ledger/periodView.js';
import { brusselsDate } from '../period/localDate.js';
import { formatPeriod, type Period, shiftPeriod } from '../period/period.js';
import { checkPeriodComplete, closedOn } from './periodGuard.js';
import type { AnyPipeline } from './pipeline.js';
import { type RunDeps, runPipeline, type RunResult } from './runPipeline.js';

/** What happened to one period of a backfill. */
export type BackfillOutcome = { period: string; ran: RunResult } | { period: string; leftAlone: string };

/**
 * Runs a flow for every period of a range that no receiver holds and nobody is running (never
 * run, failed, cancelled, rejected, given up), oldest first; the others are left alone, with the
 * reason. Every period of the range must be complete now, and none closed (its receiver takes no
 * file for it any more). `onPeriod` sees each outcome as it comes.
 */
export async function runBackfill(
  deps: RunDeps,
  req: { pipeline: AnyPipeline; from: Period; to: Period; environment: Environment; sender: string },
  onPeriod: (o: BackfillOutcome) => void = () => undefined,
): Promise<BackfillOutcome[]> {
  const now = deps.clock.now();
  checkPeriodComplete(req.pipeline.id, req.to, now, now);
  refuseClosedStart(req.pipeline, req.from, req.to, now);
  const outcomes: BackfillOutcome[] = [];
  for (let p = req.from; p.start <= req.to.start; p = shiftPeriod(p, 1)) {
    const key = formatPeriod(p);
    const view = await readPeriodView(deps.ledger, req.environment, req.pipeline.id, key);
    const outcome: BackfillOutcome = view.open
      ? { period: key, ran: await runPipeline(deps, { pipeline: req.pipeline, period: p, environment: req.environment, sender: req.sender, dryRun: false }) }
      : { period: key, leftAlone: `${view.state} (${view.phase.replace('_', ' ')})${view.live.length > 0 ? ': its receivers hold it, use maillon rerun to correct it' : ''}` };
    outcomes.push(outcome);
    onPeriod(outcome);
  }
  return outcomes;
}

/** Refuses a range that starts with a closed period, naming the first period still open. */
function refuseClosedStart(pipeline: AnyPipeline, from: Period, to: Period, now: Date): void {
  const today = brusselsDate(now);
  const closed = closedOn(pipeline, from, today);
  if (closed === null) return;
  let open = from;
  while (open.start <= to.start && closedOn(pipeline, open, today) !== null) open = shiftPeriod(open, 1);
  const instead = open.start <= to.start ? `Backfill from the first period still open: --from ${formatPeriod(open)}.` : `Every period of the range is closed.`;
  throw new PeriodClosedError(`${pipeline.id} ${formatPeriod(from)} is closed: its receiver accepts no file for it after ${closed}, and today is ${today}. Nothing was written. ${instead}`, closed);
}
