import { z } from 'zod';
import type { Pool, PoolClient } from '../db/database.js';
import { queryRows } from '../db/queryRows.js';
import type { Environment } from '../domain/environment.js';
import { PlanChangedError, UsageError } from '../errors/errors.js';
import { ledgerId } from '../ledger/rowSchemas.js';
import type { RunVersion } from '../ledger/runs.js';
import { type Correction, type CorrectionPlan, startCorrection } from './correction.js';
import type { AnyPipeline } from './pipeline.js';
import { loadPreviousVersion, type PreviousVersion, readLiveSubmissions, readRefusals } from './previousVersion.js';

// A rerun's new version of a period: what it corrects, and its refusal when the plan it computes
// is not the one the operator confirmed.

/** What a run request says of a rerun. */
interface RerunRequest {
  pipeline: AnyPipeline;
  environment: Environment;
  correction?: { reason: string; full: boolean };
}

/** The correction a rerun starts from (the version the receivers hold) and the version it writes; nothing for a first run. */
export async function prepareCorrection(ledger: Pool, req: RerunRequest, periodKey: string): Promise<{ correction?: Correction; version?: RunVersion }> {
  if (!req.correction) return {};
  const previous = await loadPreviousVersion(ledger, req.pipeline.id, periodKey, req.environment, cancelsVanished(req.pipeline));
  if (!previous) {
    throw new UsageError(
      `No receiver holds ${req.pipeline.id} ${periodKey} in environment ${req.environment} (nothing was written, or everything was cancelled or rejected): there is nothing to correct. Run it with "maillon run ${req.pipeline.id} --period ${periodKey} --env ${req.environment}".`,
    );
  }
  return {
    correction: startCorrection(previous, req.correction.full, cancelsVanished(req.pipeline)),
    version: { kind: req.correction.full ? 'full-replacement' : 'correction', previousRunId: previous.lastRunId, reason: req.correction.reason },
  };
}

/**
 * True when a rerun of the flow sends a cancellation for each record the receivers hold and the
 * period no longer has (gone from the dossier; one quarantined now is kept as held): a flow corrected record by
 * record, and a flow sent whole whose records the receiver keeps until they are cancelled
 * (Belcotax: it declares `readRecord`). Aggregated tables are replaced whole: nothing to cancel.
 */
export function cancelsVanished(p: AnyPipeline): boolean {
  if (p.output.kind === 'csvTables') return false;
  return (p.corrections ?? 'records') === 'records' || p.output.readRecord !== undefined;
}

/** The refusal (exit 14) of a rerun whose recomputed plan is not the one that was confirmed. */
export function planChanged(req: Pick<RerunRequest, 'pipeline' | 'environment'>, periodKey: string, counts: { quarantined: number }, p: CorrectionPlan): PlanChangedError {
  return new PlanChangedError(
    `The dossier changed after the plan of this rerun was shown: ${req.pipeline.id} ${periodKey} (${req.environment}) now gives new ${p.added.length}, changed ${p.changed.length}, ` +
      `vanished ${p.vanished.length}, unchanged ${p.unchanged}${p.moved.length > 0 ? `, moved ${p.moved.length}` : ''}, quarantined ${counts.quarantined}` +
      `${p.kept.length > 0 ? ` (held ${p.kept.length})` : ''}, which is not the plan that was confirmed. Nothing was written: ` +
      `run "maillon rerun ${req.pipeline.id} --period ${periodKey} --env ${req.environment}" again to see the new plan.`,
  );
}

/**
 * Under the run's lock, in its transaction, just before it publishes: what the receivers hold of the
 * period must still be what the correction was computed from, that is the same live submissions and
 * the same records of theirs refused by a blocking anomaly. `maillon acks` does not take the period's
 * lock, so a reply may have rejected a submission since, or refused some of its records and left it
 * live (accepted_with_anomalies), while a rerun's plan waited for its confirmation, say: the
 * correction would then correct records the receiver never accepted. The live submissions are locked
 * FOR SHARE until the run commits: a reply about one of them afterwards (it locks its submission)
 * comes after the correction (and `maillon send` holds it back). Refused (exit 14) when they moved.
 */
export async function refuseIfBaseMoved(
  tx: PoolClient,
  req: Pick<RerunRequest, 'pipeline' | 'environment'>,
  periodKey: string,
  base: Pick<PreviousVersion, 'liveSubmissions' | 'refusals'>,
): Promise<void> {
  const planned = base.liveSubmissions;
  const now = await readLiveSubmissions(tx, req.pipeline.id, periodKey, req.environment, true);
  const gone = planned.filter((id) => !now.includes(id));
  const moved = gone.length === 0 && now.length === planned.length ? await refusedSince(tx, base) : await submissionsMoved(tx, gone, now);
  if (moved === null) return;
  const cmd = `${req.pipeline.id} --period ${periodKey} --env ${req.environment}`;
  throw new PlanChangedError(
    `What the receivers hold of ${req.pipeline.id} ${periodKey} (${req.environment}) changed after this rerun was computed from ${planned.map((id) => `#${id}`).join(', ')}: ${moved}. ` +
      `Nothing was written: a correction of a version the receiver rejected or refused would correct records it never accepted. "maillon status" says what to do now; ` +
      `when nothing is live any more, "maillon run ${cmd}" writes the period again, else "maillon rerun ${cmd}" computes a new plan.`,
  );
}

/** What became of the submissions no longer live (`gone`), for the refusal. */
async function submissionsMoved(tx: PoolClient, gone: readonly number[], now: readonly number[]): Promise<string> {
  const states = await queryRows(
    tx,
    `SELECT submission_id, state FROM maillon.submissions WHERE submission_id = ANY($1::bigint[]) ORDER BY submission_id`,
    [gone],
    z.object({ submission_id: ledgerId, state: z.string() }),
  );
  return states.map((r) => `#${r.submission_id} is ${r.state}`).join(', ') || `the live submissions are now ${now.map((id) => `#${id}`).join(', ') || 'none'}`;
}

/** The blocking anomalies read about the records of the same live submissions since the plan was computed, for the refusal; null when none. */
async function refusedSince(tx: PoolClient, base: Pick<PreviousVersion, 'liveSubmissions' | 'refusals'>): Promise<string | null> {
  const now = await readRefusals(tx, base.liveSubmissions);
  if (now.count === base.refusals.count && now.lastId === base.refusals.lastId) return null;
  const n = now.count - base.refusals.count;
  return n === 1
    ? '1 blocking anomaly was read since: the receiver refused a record this plan counted as held'
    : `${n} blocking anomalies were read since: the receiver refused records this plan counted as held`;
}
