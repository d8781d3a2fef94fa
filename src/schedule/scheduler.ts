import { setTimeout as sleep } from 'node:timers/promises';
import { type Job, PgBoss } from 'pg-boss';
import type { Clock } from '../clock/clock.js';
import type { Environment } from '../domain/environment.js';
import { connect, type Pool } from '../db/database.js';
import type { AnyPipeline } from '../engine/pipeline.js';
import type { Logger } from '../log/logger.js';
import { pausedFlows } from '../ledger/flowPauses.js';
import { clearPeriodRetries } from '../ledger/periodRetries.js';
import { readPeriodViews } from '../ledger/periodView.js';
import { formatPeriod, parsePeriod } from '../period/period.js';
import { dueDecision, dueRuns } from './dueRuns.js';
import { type RunPeriod, runDueOnce } from './runDue.js';

const QUEUE = 'maillon-run';
const STARTUP_LOCK = 0x6d61_0006;
/** How often the worker looks for a queued job. */
const POLL_MS = 2_000;

/** A job: one flow for one period in one environment. */
interface RunJob {
  flow: string;
  period: string;
  environment: Environment;
}

/** What the scheduler needs. */
export interface SchedulerDeps {
  databaseUrl: string;
  ledger: Pool;
  clock: Clock;
  logger: Logger;
  pipelines: readonly AnyPipeline[];
  environment: Environment;
  /** How far back a missed period is still caught up, days. */
  catchUpDays: number;
  /** Seconds between two ticks; a failed run is retried after one tick, then twice as long each time. */
  tickSeconds: number;
  /** Failed runs of a due period after which it is given up (MAILLON_RETRY_LIMIT). */
  retryLimit: number;
  run: RunPeriod;
}

/** The PostgreSQL-backed job queue (pg-boss) of the scheduler. */
export interface Scheduler {
  /** Proposes every due period of the catch-up window that is to do, not waiting for a retry and of a flow not paused, oldest first (a job per period, one at a time per key); none once stopped. */
  tick(): Promise<number>;
  /** Processes queued jobs until none is left or stop() is called (the `--once` mode and the tests). */
  drain(): Promise<number>;
  /** Starts a worker that processes jobs as they come, and keeps it going through database outages. */
  work(): void;
  /** Stops: the job in progress (of the worker or of a drain) and a proposal in progress finish, nothing new is taken or proposed; called again, the same stop. */
  stop(): Promise<void>;
}

/** Starts pg-boss in its own schema of the ledger database. */
export async function createScheduler(deps: SchedulerDeps): Promise<Scheduler> {
  const boss = new PgBoss({ connectionString: deps.databaseUrl, schema: 'maillon_jobs', max: 3 });
  boss.on('error', (err: Error) => deps.logger.error({ err }, 'job queue error'));
  // Instances starting together would deadlock on pg-boss's own schema setup: one at a time.
  const lock = await connect(deps.ledger);
  try {
    await lock.query('SELECT pg_advisory_lock($1)', [STARTUP_LOCK]);
    await boss.start();
    // short: at most one job waiting per singleton key (flow, period, environment). Running jobs are
    // not gated by the queue: a job left "active" by a killed process must not block the period;
    // the period's lock and the period view (runDueOnce, runPipeline) make each run happen once.
    if (!(await boss.getQueue(QUEUE))) await boss.createQueue(QUEUE, { policy: 'short' });
  } catch (err) {
    await boss.stop({ graceful: false }).catch(() => undefined);
    throw err;
  } finally {
    await lock.query('SELECT pg_advisory_unlock($1)', [STARTUP_LOCK]).catch(() => undefined);
    lock.release();
  }
  const handle = async (job: Job<RunJob>): Promise<void> => {
    const pipeline = deps.pipelines.find((p) => p.id === job.data.flow);
    if (!pipeline) return;
    // A failed run is recorded against its period (retried by a later tick, or given up): the job is done.
    await runDueOnce(
      { ledger: deps.ledger, clock: deps.clock, logger: deps.logger, environment: job.data.environment, retry: { tickSeconds: deps.tickSeconds, limit: deps.retryLimit }, run: deps.run },
      pipeline,
      parsePeriod(job.data.period),
    );
  };
  // The worker. pg-boss's own (boss.work) neither awaits nor catches its call to mark a job
  // failed: when the database went away under a run, that rejection ended the process. This one
  // awaits every step: a database that is down stops the draining until the next poll, and the
  // job (left active, or failed and retried) or the next tick's proposal runs the period again.
  let working: Promise<void> | null = null;
  const stopping = new AbortController();
  // A drain called directly (`--once`): stop() lets its job end before closing the queue.
  let draining: Promise<number> | null = null;
  const drainJobs = async (): Promise<number> => {
    let n = 0;
    // Checked before every fetch: once stopped, no job is taken.
    while (!stopping.signal.aborted) {
      const jobs = await boss.fetch<RunJob>(QUEUE, { batchSize: 1 });
      const job = jobs?.[0];
      if (!job) return n;
      try {
        await handle(job);
        await boss.complete(QUEUE, job.id);
      } catch (err) {
        deps.logger.error({ err, flow: job.data.flow, period: job.data.period }, 'scheduled run failed');
        await boss.fail(QUEUE, job.id, { message: (err as Error).message });
      }
      n++;
    }
    return n;
  };
  // A proposal in progress: stop() lets it end before closing the queue it sends jobs to.
  let proposing: Promise<number> | null = null;
  let stopped: Promise<void> | null = null;
  const propose = async (): Promise<number> => {
    const now = deps.clock.now();
    const from = new Date(now.getTime() - deps.catchUpDays * 86_400_000);
    let proposed = 0;
    // A paused flow (maillon pause) is not proposed; its periods wait for maillon resume.
    const paused = await pausedFlows(deps.ledger, deps.environment);
    const due = dueRuns(deps.pipelines, from, now).filter((d) => !paused.has(d.pipeline.id));
    const views = await readPeriodViews(
      deps.ledger,
      deps.environment,
      due.map((d) => ({ flow: d.pipeline.id, period: formatPeriod(d.period) })),
    );
    for (const d of due) {
      const period = formatPeriod(d.period);
      const view = views.find((v) => v.flow === d.pipeline.id && v.period === period)!;
      const decision = dueDecision(view, d.pipeline.schedule, now);
      if (decision === 'skip' || decision === 'wait') continue;
      if (decision === 'reset') await clearPeriodRetries(deps.ledger, { flow: d.pipeline.id, period, environment: deps.environment });
      const id = await boss.send(QUEUE, { flow: d.pipeline.id, period, environment: deps.environment } satisfies RunJob, {
        singletonKey: `${d.pipeline.id}:${period}:${deps.environment}`,
        // maillon retries a failed run itself (period_retries): pg-boss does not.
        retryLimit: 0,
      });
      if (id) proposed++;
    }
    return proposed;
  };
  return {
    async tick() {
      if (stopping.signal.aborted) return 0;
      proposing = propose();
      try {
        return await proposing;
      } finally {
        proposing = null;
      }
    },
    async drain() {
      draining = drainJobs();
      try {
        return await draining;
      } finally {
        draining = null;
      }
    },
    work() {
      working ??= (async () => {
        while (!stopping.signal.aborted) {
          await drainJobs().catch((err: unknown) => deps.logger.error({ err }, 'job queue unreachable: trying again'));
          // Cut short by stop().
          await sleep(POLL_MS, undefined, { signal: stopping.signal }).catch(() => undefined);
        }
      })();
    },
    stop() {
      // Once: a second call (the signal's, then the command's own end) waits for the same stop.
      stopped ??= (async () => {
        stopping.abort();
        await working;
        await draining?.catch(() => undefined);
        await proposing?.catch(() => undefined);
        await boss.stop({ graceful: true, timeout: 120_000 });
      })();
      return stopped;
    },
  };
}
