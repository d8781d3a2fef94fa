import type { Environment } from '../domain/environment.js';
import type { PoolClient } from '../db/database.js';
import { BusyError, PeriodClosedError, PeriodHeldError, UsageError } from '../errors/errors.js';
import type { RunVersion } from '../ledger/runs.js';
import type { SubmissionKind } from '../ledger/transitions.js';
import { tryLockPeriod } from '../ledger/locks.js';
import { refuseIfPaused } from '../ledger/flowPauses.js';
import { clearPeriodRetries } from '../ledger/periodRetries.js';
import { builtOnRejected } from '../ledger/builtOnRejected.js';
import { mayHold } from '../ledger/periodState.js';
import { type PeriodView, readPeriodView } from '../ledger/periodView.js';
import { brusselsDate, type LocalDate } from '../period/localDate.js';
import { formatPeriod, lastCompletePeriod, lastDay, type Period } from '../period/period.js';
import type { AnyPipeline } from './pipeline.js';

/**
 * Refuses what cannot be a true statement about a finished period: an as-of instant after now,
 * or a period whose last day is not over on the as-of day (Europe/Brussels).
 */
export function checkPeriodComplete(flow: string, period: Period, asOf: Date, now: Date): void {
  if (asOf.getTime() > now.getTime()) {
    throw new UsageError(
      `The as-of instant ${asOf.toISOString()} is after now (${now.toISOString()}): a run states what was paid up to its as-of instant, which has not happened yet. Give an --as-of up to now, or leave it out.`,
    );
  }
  const asOfDay = brusselsDate(asOf);
  if (asOfDay < period.end) {
    const last = formatPeriod(lastCompletePeriod(period.kind, asOf));
    throw new UsageError(
      `${flow} ${formatPeriod(period)} is not complete on ${asOfDay}: it ends on ${lastDay(period)}, so it can be run as of ${period.end} or later. The last complete ${period.kind} on ${asOfDay} is ${last}.`,
    );
  }
}

/** The last day the flow's receiver accepts a file for the period, when it is before `day`; null while the period is open (or never closes). */
export function closedOn(pipeline: AnyPipeline, period: Period, day: LocalDate): LocalDate | null {
  const last = pipeline.closesAfter?.(period);
  return last !== undefined && day > last ? last : null;
}

/**
 * Refuses a period its receiver no longer accepts on `day` (Europe/Brussels, the day the file
 * would be written and sent): nothing of it can reach the receiver, original or correction.
 */
export function checkPeriodOpen(pipeline: AnyPipeline, period: Period, day: LocalDate): void {
  const last = closedOn(pipeline, period, day);
  if (last === null) return;
  throw new PeriodClosedError(
    `${pipeline.id} ${formatPeriod(period)} is closed: its receiver accepts no file for it after ${last}, and today is ${day}. Nothing was written; there is nothing maillon can send for this period any more.`,
    last,
  );
}

/** What a run claims of its period before it starts. */
export interface PeriodClaim {
  flow: string;
  period: string;
  environment: Environment;
  dryRun: boolean;
  /** A rerun: it may add to what the receivers hold. */
  correction: boolean;
  /** A rerun's submissions answered after their cancel that the operator says their receiver holds none of. */
  receiverHoldsNothing?: readonly number[];
  /** An operator's run (not serve's): it resets the scheduler's failures of the period. */
  byOperator: boolean;
}

/**
 * Claims a period on the run's session: a writing run takes the period's lock (another process
 * running it: BusyError) and is refused when a receiver already holds the period and it is not a
 * rerun (PeriodHeldError, naming the submissions and what to do instead). A dry run writes
 * nothing and is never refused; its caller says what a real run would meet. A writing run of a
 * paused flow is refused (FlowPausedError), whoever starts it. Returns the view.
 */
export async function claimPeriod(session: PoolClient, c: PeriodClaim): Promise<PeriodView> {
  if (!c.dryRun && !(await tryLockPeriod(session, c.flow, c.period, c.environment))) {
    throw new BusyError(`${c.flow} ${c.period} (${c.environment}) is being run by another maillon process right now; wait for it to finish ("maillon runs" shows it).`);
  }
  if (!c.dryRun) await refuseIfPaused(session, c.environment, c.flow);
  const view = await readPeriodView(session, c.environment, c.flow, c.period);
  if (!c.dryRun && !c.correction && view.live.length > 0) throw heldError(view);
  if (!c.dryRun && c.correction) refuseIfCancelInterrupted(view);
  if (!c.dryRun && c.correction) refuseIfMayHold(view, c.receiverHoldsNothing ?? []);
  if (!c.dryRun && c.correction) refuseIfUnsentOnRejected(view);
  if (!c.dryRun && c.byOperator) await clearPeriodRetries(session, c);
  return view;
}

/** The refusal of a second original, naming the live submissions and the commands to use instead. */
export function heldError(view: PeriodView): PeriodHeldError {
  const ids = view.live.map((s) => s.id);
  const list = view.live.map((s) => `#${s.id} (${s.kind}, ${s.state}, to ${s.receiver})`).join(', ');
  return new PeriodHeldError(
    `${view.flow} ${view.period} (${view.environment}) is already held by its receivers: submission ${list}. Running it again would send the period twice. ` +
      `To send what changed since: maillon rerun ${view.flow} --period ${view.period} --env ${view.environment} --reason "…". ` +
      `To withdraw it first: maillon cancel ${ids.join(' / maillon cancel ')} (while its GO waits), then run it again.`,
    ids,
  );
}

/**
 * Refuses a rerun while a cancel of a live submission did not finish (killed after it started its
 * TD): the receiver may be dropping that submission, and a correction of it would reach the
 * receiver alone. The cancel is completed first.
 */
function refuseIfCancelInterrupted(view: PeriodView): void {
  const interrupted = view.live.filter((s) => s.cancelStarted && (s.state === 'written' || s.state === 'sent'));
  if (interrupted.length === 0) return;
  throw new PeriodHeldError(
    `${view.flow} ${view.period} (${view.environment}): the cancel of ${interrupted.map((s) => `#${s.id} (${s.kind}, to ${s.receiver})`).join(', ')} was interrupted after it started writing its TD file; ` +
      `the receiver may be dropping it, and a rerun would correct what it may not hold. Nothing was written. Complete the cancel first: ${interrupted.map((s) => `maillon cancel ${s.id}`).join(', ')}; then rerun or run the period.`,
    interrupted.map((s) => s.id),
  );
}

/**
 * Refuses a rerun while a receiver may hold a submission cancelled after its GO (it answered it):
 * the rerun would send it those records again as new ones. The operator asks the receiver; when it
 * holds none of them, --receiver-holds-nothing names the submission and the rerun sends them again.
 */
function refuseIfMayHold(view: PeriodView, holdsNothing: readonly number[]): void {
  const answered = mayHold(view.submissions);
  const stray = holdsNothing.filter((id) => !answered.some((s) => s.id === id));
  if (stray.length > 0) {
    throw new UsageError(
      `--receiver-holds-nothing ${stray.join(',')}: not a submission of ${view.flow} ${view.period} (${view.environment}) cancelled after its GO and answered since, or rejected and then accepted, ` +
        `(${answered.length > 0 ? `those are ${answered.map((s) => s.id).join(',')}` : 'there is none'}); nothing was written.`,
    );
  }
  const open = answered.filter((s) => !holdsNothing.includes(s.id));
  if (open.length === 0) return;
  const list = (state: string): string =>
    open
      .filter((s) => s.state === state)
      .map((s) => `#${s.id} (${s.kind}, to ${s.receiver})`)
      .join(', ');
  const ids = open.map((s) => s.id).join(',');
  const why = [
    list('cancelled') && `the receiver answered ${list('cancelled')} after it was cancelled (it took the GO before the TD) and may hold it`,
    list('rejected') && `the receiver rejected ${list('rejected')}, then accepted it in a later reply, and may hold it`,
  ]
    .filter(Boolean)
    .join('; ');
  throw new PeriodHeldError(
    `${view.flow} ${view.period} (${view.environment}): ${why}; ` +
      `a rerun would send those records again as new ones. Nothing was written. Ask the receiver whether it holds it: if it does not, ` +
      `maillon rerun ${view.flow} --period ${view.period} --env ${view.environment} --reason "…" --receiver-holds-nothing ${ids} sends them again; if it does, send nothing again (docs/state-rules.md).`,
    open.map((s) => s.id),
  );
}

/**
 * Refuses a rerun while a correction or replacement built on a version its receiver rejected since
 * waits unsent (maillon send does not send it): the rerun would build on it, and wait for it for
 * ever. The operator cancels it, then runs the period again.
 */
function refuseIfUnsentOnRejected(view: PeriodView): void {
  const unsent = builtOnRejected(view.submissions).filter((s) => s.state === 'written' && !s.goStarted);
  if (unsent.length === 0) return;
  const list = unsent.map((s) => `#${s.id} (${s.kind}, to ${s.receiver}, built on ${(s.rejectedBase ?? []).map((id) => `#${id}`).join(', ')})`).join(', ');
  throw new PeriodHeldError(
    `${view.flow} ${view.period} (${view.environment}): ${list} builds on a version its receiver rejected after it was written, and is not sent; ` +
      `a rerun would build on it. Nothing was written. Withdraw it: maillon cancel ${unsent.map((s) => s.id).join(' / maillon cancel ')}; ` +
      `then maillon run ${view.flow} --period ${view.period} --env ${view.environment} writes the period again.`,
    unsent.map((s) => s.id),
  );
}

/** A sentence for a dry run of a period its receivers already hold; null when they hold nothing. */
export function dryRunNotice(view: PeriodView): string | null {
  if (view.live.length === 0) return null;
  return `Nothing was written. A real run would be refused: ${heldError(view).message}`;
}

/** Per receiver, what the new submission is: an original when the receiver holds none live, else a correction or replacement. */
export function receiverKinds(view: PeriodView, version: RunVersion | undefined): (receiver: string) => SubmissionKind {
  const holding = new Set(view.live.filter((s) => s.kind === 'original' || s.kind === 'duplicate').map((s) => s.receiver));
  const later: SubmissionKind = version?.kind === 'full-replacement' ? 'replacement' : 'correction';
  return (receiver) => (holding.has(receiver) ? later : 'original');
}

/** The unique index of migration 009 refused a second live original: another run won the race. */
export function secondOriginal(err: unknown, flow: string, period: string, env: Environment): unknown {
  const e = err as { code?: string; constraint?: string };
  if (e.code !== '23505' || e.constraint !== 'submissions_one_live_original') return err;
  return new PeriodHeldError(`${flow} ${period} (${env}) was written by another run at the same time; nothing of this run was committed. "maillon status" shows what its receivers hold.`, []);
}
