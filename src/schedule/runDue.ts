import type { Clock } from '../clock/clock.js';
import type { Environment } from '../domain/environment.js';
import type { Pool } from '../db/database.js';
import { connectionLost } from '../db/connectionLost.js';
import type { AnyPipeline } from '../engine/pipeline.js';
import { BusyError, FlowPausedError, PeriodClosedError, PeriodHeldError } from '../errors/errors.js';
import { recordPeriodFailure, type RetryPolicy } from '../ledger/periodRetries.js';
import { readPeriodView } from '../ledger/periodView.js';
import type { Logger } from '../log/logger.js';
import { dueDecision } from './dueRuns.js';
import { formatPeriod, type Period } from '../period/period.js';

/** What a scheduled run does once it holds the period: run the flow (its delivery follows on the tick). */
export type RunPeriod = (pipeline: AnyPipeline, period: Period) => Promise<void>;

/** What a scheduled run needs. */
export interface RunDueDeps {
  ledger: Pool;
  clock: Clock;
  logger: Logger;
  environment: Environment;
  retry: RetryPolicy;
  run: RunPeriod;
}

/** How a scheduled run ended. */
export type DueOutcome = 'ran' | 'not-to-do' | 'paused' | 'busy' | 'failed' | 'given-up';

/**
 * Runs a due (flow, period, environment) at most once across every maillon process sharing the
 * database: the period must still be to do and not waiting for a retry (the view), and the run itself takes the period's lock
 * and refuses a period its receivers hold (another process was quicker: not a failure). A failure
 * is recorded against the period (retried later with a growing delay, given up at the limit);
 * losing the database is not the period's failure: the next tick tries again.
 */
export async function runDueOnce(deps: RunDueDeps, pipeline: AnyPipeline, period: Period): Promise<DueOutcome> {
  const key = { flow: pipeline.id, period: formatPeriod(period), environment: deps.environment };
  // Checked again when the job runs: another instance may have run, or failed, it meanwhile.
  const view = await readPeriodView(deps.ledger, deps.environment, key.flow, key.period);
  const decision = dueDecision(view, pipeline.schedule, deps.clock.now());
  if (decision === 'skip' || decision === 'wait') return 'not-to-do';
  deps.logger.info(key, 'scheduled run starting');
  try {
    await deps.run(pipeline, period);
    return 'ran';
  } catch (err) {
    if (err instanceof BusyError) return 'busy';
    if (err instanceof PeriodHeldError) return 'not-to-do';
    // Paused after the job was queued, or while the run was computed (refused before it published
    // anything): the operator's decision, not the period's failure. It runs again once resumed.
    if (err instanceof FlowPausedError) {
      deps.logger.info(key, 'scheduled run not done: its flow was paused (maillon pause); serve runs the period once it is resumed (maillon resume)');
      return 'paused';
    }
    // Closed after the job was queued: nothing can be sent for it any more, so it is never retried.
    if (err instanceof PeriodClosedError) return 'not-to-do';
    if (connectionLost(err, 'serve')) throw err;
    const failed = await recordPeriodFailure(deps.ledger, key, deps.clock.now(), (err as Error).message, deps.retry);
    if (failed.givenUp) {
      deps.logger.error({ ...key, failures: failed.failures, err }, 'scheduled run failed: given up until an operator runs the period or its flow fires again');
      return 'given-up';
    }
    deps.logger.error({ ...key, failures: failed.failures, nextAttemptAt: failed.nextAttemptAt?.toISOString(), err }, 'scheduled run failed: retried later');
    return 'failed';
  }
}
