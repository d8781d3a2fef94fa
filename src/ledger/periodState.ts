import type { Environment } from '../domain/environment.js';
import { builtOnRejected, rejectedBaseProblem } from './builtOnRejected.js';
import { isFinal, isLive, type SubmissionKind, type SubmissionState } from './transitions.js';

/**
 * Where a flow's period stands for its receivers:
 * - `to_do`: nothing is held by any receiver and nothing stops a run (never run, last run failed,
 *   everything cancelled); `serve` and `backfill` run it.
 * - `in_progress`: a run is alive, or live submissions wait for delivery or replies.
 * - `delivered`: every live submission is accepted (or the period had nothing to send).
 * - `needs_attention`: an operator must decide (a rejection, a receiver left with nothing while
 *   others hold the period, a duplicate original, a reply to a submission cancelled after its GO,
 *   a correction or replacement built on a version its receiver rejected since);
 *   `serve` does not act on it.
 * - `given_up`: `serve` failed too often and waits for an operator or the flow's next firing.
 */
export type Phase = 'to_do' | 'in_progress' | 'delivered' | 'needs_attention' | 'given_up';

/** A submission of the period, as the view needs it. */
export interface SubmissionFact {
  id: number;
  runId: number;
  receiver: string;
  kind: SubmissionKind;
  state: SubmissionState;
  /** The GO was started: it may be on the receiver's server. */
  goStarted: boolean;
  /** Sent, without ACRF, longer ago than the configured delay. */
  overdue: boolean;
  /**
   * Its receiver may hold it although it is cancelled or rejected (answered after the cancel, or
   * accepted after the rejection, nothing written to that receiver since): read from the ledger by
   * mayHoldSql (src/ledger/mayHold.ts), the one definition the report's counts read too.
   */
  mayHold?: boolean;
  /** Earlier versions of the period for its receiver that the receiver rejected after this one was written: it builds on them. */
  rejectedBase?: readonly number[];
  /** A cancel of it started writing its TD file (td_started_at): while it is live, that cancel did not finish. */
  cancelStarted?: boolean;
}

/** A non-dry run of the period, oldest first. */
export interface RunFact {
  id: number;
  state: 'running' | 'succeeded' | 'failed';
  /** Running and its session still holds its lock. */
  alive: boolean;
  error: string | null;
  quarantined: number | null;
  /** Records the run emitted (null while it runs or when it failed). */
  emitted?: number | null;
  hasSubmissions: boolean;
  /** A rerun (correction or full replacement): writing nothing means nothing changed, not nothing to send. */
  correction?: boolean;
}

/** The scheduler's failures for the period (none after a success or an operator's run). */
export interface RetryFact {
  failures: number;
  lastError: string;
  lastFailedAt: Date;
  nextAttemptAt: Date | null;
  givenUpAt: Date | null;
}

/** Everything the ledger knows about one flow × period × environment. */
export interface PeriodFacts {
  flow: string;
  period: string;
  environment: Environment;
  submissions: SubmissionFact[];
  runs: RunFact[];
  retry: RetryFact | null;
}

/** The receivers' view of a period, and what it means for every command. */
export interface PeriodView extends PeriodFacts {
  phase: Phase;
  /** The least advanced live submission state, or planned, running, failed, rejected, cancelled, nothing_to_send, given_up. */
  state: string;
  /** What the operator should do, as a sentence; null when nothing. */
  action: string | null;
  /** Submissions the receivers hold or are about to hold. */
  live: SubmissionFact[];
  /** The run alive now, if any. */
  running: RunFact | null;
  /** True when no receiver holds anything and no run stands: `run` and `backfill` may write originals. */
  open: boolean;
  /** The run a report shows: the latest successful one that was not entirely cancelled. */
  reportRunId: number | null;
  /** Dossier rows of the period absent from its lineage (reached the dossier after its run), when counted (src/reconcile/lateRecords.ts). */
  lateRecords?: number;
}

// Least advanced first: the state shown for live submissions.
const PROGRESS: readonly string[] = ['written', 'sent', 'received', 'accepted_with_anomalies', 'accepted'];

/** Derives the view from the facts; pure, so that a test or a model can call it. */
export function derivePeriod(f: PeriodFacts): PeriodView {
  const live = f.submissions.filter((s) => isLive(s.state));
  const running = f.runs.find((r) => r.state === 'running' && r.alive) ?? null;
  const latest = f.runs.at(-1) ?? null;
  // Only an original run that wrote nothing says the period has nothing to send: a rerun that wrote
  // nothing found no change to what was held, which may since have been cancelled.
  const lastSucceeded = f.runs.filter((r) => r.state === 'succeeded' && !r.correction).at(-1) ?? null;
  const newestSubmissionRun = Math.max(0, ...f.submissions.map((s) => s.runId));
  const answered = mayHold(f.submissions);
  const emptySuccess = lastSucceeded !== null && !lastSucceeded.hasSubmissions && lastSucceeded.id > newestSubmissionRun;
  const cmd = `maillon run ${f.flow} --period ${f.period} --env ${f.environment}`;
  const rerun = `maillon rerun ${f.flow} --period ${f.period} --env ${f.environment} --reason "…"`;
  const view = (phase: Phase, state: string, action: string | null): PeriodView => ({
    ...f,
    phase,
    state,
    action,
    live,
    running,
    open: live.length === 0 && !running && !emptySuccess && answered.length === 0,
    reportRunId: reportRun(f),
  });
  if (running) return view('in_progress', 'running', null);
  if (live.length > 0) {
    const problems = receiverProblems(f.submissions, cmd, rerun);
    const least = [...live].sort((a, b) => PROGRESS.indexOf(a.state) - PROGRESS.indexOf(b.state))[0]!.state;
    if (problems.length > 0) return view('needs_attention', least, problems.join(' '));
    return live.every((s) => isFinal(s.state)) ? view('delivered', least, null) : view('in_progress', least, null);
  }
  if (answered.length > 0) {
    const ids = answered.map((s) => `#${s.id}`).join(', ');
    return view('needs_attention', answered.at(-1)!.state, `${whyMayHold(answered)} ${askReceiver(ids, `${cmd} writes it again (maillon serve does not, while this stands)`)}`);
  }
  if (emptySuccess) return view('delivered', 'nothing_to_send', null);
  if (f.retry?.givenUpAt) {
    return view(
      'given_up',
      'given_up',
      `maillon serve gave up after ${f.retry.failures} failed runs (last: ${f.retry.lastError.slice(0, 300)}). Fix the cause, then: ${cmd} (or wait for the flow's next scheduled firing).`,
    );
  }
  if (latest && (latest.state === 'failed' || (latest.state === 'running' && !latest.alive))) {
    const retry = f.retry?.nextAttemptAt ? `maillon serve tries again at ${f.retry.nextAttemptAt.toISOString()}, after ${f.retry.failures} failed runs` : 'maillon serve runs it when it is due';
    return view('to_do', 'failed', `Run #${latest.id} failed${latest.error ? ` (${latest.error.slice(0, 300)})` : ''}. Fix the cause, then: ${cmd} (${retry}).`);
  }
  const lastHeld = [...f.submissions].reverse().find((s) => s.state !== 'cancelled');
  if (lastHeld?.state === 'rejected') {
    const ids = f.submissions
      .filter((s) => s.state === 'rejected')
      .map((s) => `#${s.id}`)
      .join(', ');
    return view(
      'needs_attention',
      'rejected',
      `The receiver rejected ${ids} and holds nothing of this period. Correct the data, then: ${cmd} (maillon serve does not resend a rejected period by itself).`,
    );
  }
  if (f.submissions.some((s) => s.state === 'cancelled')) {
    const ids = f.submissions
      .filter((s) => s.state === 'cancelled')
      .map((s) => `#${s.id}`)
      .join(', ');
    return view('to_do', 'cancelled', `Its submission(s) ${ids} were cancelled and no receiver holds this period: ${cmd} writes it again (maillon serve does it when the period is due).`);
  }
  return view('to_do', 'planned', null);
}

/**
 * The submissions their receiver may hold although the ledger says cancelled or rejected (the
 * `mayHold` fact, as mayHoldSql in src/ledger/mayHold.ts decides it).
 */
export function mayHold<T extends { mayHold?: boolean }>(subs: readonly T[]): T[] {
  return subs.filter((s) => s.mayHold === true);
}

/** Why the receiver may hold submissions mayHold returned, as a sentence. */
function whyMayHold(subs: readonly SubmissionFact[]): string {
  const ids = (state: string): string =>
    subs
      .filter((s) => s.state === state)
      .map((s) => `#${s.id}`)
      .join(', ');
  const cancelled = ids('cancelled');
  const rejected = ids('rejected');
  return [
    cancelled && `The receiver answered ${cancelled} after it was cancelled: it took the GO before the TD and may hold this period although the ledger says cancelled.`,
    rejected && `The receiver rejected ${rejected}, then accepted it in a later reply: it may hold this period although the ledger says rejected.`,
  ]
    .filter(Boolean)
    .join(' ');
}

/** What the operator asks the receiver about submissions it may hold, and what to do when it holds none. */
function askReceiver(ids: string, thenWhat: string): string {
  return `Ask the receiver whether it holds ${ids}, then: if it does not, ${thenWhat}; if it does, send nothing again (docs/state-rules.md).`;
}

/** What is wrong per receiver while some receivers hold the period. */
function receiverProblems(subs: readonly SubmissionFact[], run: string, rerun: string): string[] {
  const problems: string[] = [];
  for (const receiver of [...new Set(subs.map((s) => s.receiver))].sort()) {
    const mine = subs.filter((s) => s.receiver === receiver);
    const live = mine.filter((s) => isLive(s.state));
    const answered = mayHold(mine);
    if (answered.length > 0) {
      const ids = answered.map((s) => `#${s.id}`).join(', ');
      const resend = `${rerun} --receiver-holds-nothing ${answered.map((s) => s.id).join(',')}`;
      const why = answered.every((s) => s.state === 'cancelled')
        ? `it answered after the cancel (it took the GO before the TD), so the ledger's "cancelled" may not be true`
        : `it answered after the cancel or accepted after rejecting, so the ledger's "cancelled" or "rejected" may not be true`;
      problems.push(`${receiver} may hold ${ids}: ${why}. ${askReceiver(ids, `${resend} sends its records again`)}`);
      continue;
    }
    if (live.length === 0) {
      const lost = mine.map((s) => `#${s.id} ${s.state}`).join(', ');
      problems.push(`${receiver} holds nothing of this period (${lost}): ${rerun} sends its records again.`);
      continue;
    }
    const stranded = builtOnRejected(mine);
    for (const s of stranded) problems.push(rejectedBaseProblem(receiver, s, run, rerun));
    const lastHeld = [...mine].reverse().find((s) => s.state !== 'cancelled');
    if (stranded.length === 0 && lastHeld?.state === 'rejected') problems.push(`${receiver} rejected the ${lastHeld.kind} #${lastHeld.id}: correct the data, then ${rerun}.`);
    for (const d of live.filter((s) => s.kind === 'duplicate')) {
      problems.push(`#${d.id} is a second original for ${receiver}, written before maillon refused them: maillon cancel ${d.id} while its GO waits; if the receiver took it, tell the receiver.`);
    }
  }
  return problems;
}

/** The latest successful run with a submission that was not cancelled (or with none); else the latest successful one. */
function reportRun(f: PeriodFacts): number | null {
  const succeeded = f.runs.filter((r) => r.state === 'succeeded');
  const standing = succeeded.filter((r) => !r.hasSubmissions || f.submissions.some((s) => s.runId === r.id && s.state !== 'cancelled'));
  return (standing.at(-1) ?? succeeded.at(-1))?.id ?? null;
}
