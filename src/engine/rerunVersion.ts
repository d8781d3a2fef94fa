import type { Pool } from '../db/database.js';
import type { Environment } from '../domain/environment.js';
import { PlanChangedError, UsageError } from '../errors/errors.js';
import type { RunVersion } from '../ledger/runs.js';
import { type Correction, type CorrectionPlan, startCorrection } from './correction.js';
import type { AnyPipeline } from './pipeline.js';
import { loadPreviousVersion } from './previousVersion.js';

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
  const previous = await loadPreviousVersion(ledger, req.pipeline.id, periodKey, req.environment);
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
 * period no longer has (gone from the dossier, or quarantined now): a flow corrected record by
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
      `vanished ${p.vanished.length}, unchanged ${p.unchanged}, quarantined ${counts.quarantined}, which is not the plan that was confirmed. Nothing was written: ` +
      `run "maillon rerun ${req.pipeline.id} --period ${periodKey} --env ${req.environment}" again to see the new plan.`,
  );
}
