import PgBoss from 'pg-boss';
import type { Clock } from '../clock/clock.js';
import type { Environment } from '../config/config.js';
import { connect, type Pool } from '../db/database.js';
import type { AnyPipeline } from '../engine/pipeline.js';
import type { Logger } from '../log/logger.js';
import { formatPeriod, parsePeriod } from '../period/period.js';
import { dueRuns } from './dueRuns.js';
import { isDelivered, type RunPeriod, runDueOnce } from './runDue.js';

const QUEUE = 'maillon-run';
const STARTUP_LOCK = 0x6d61_0006;

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
  run: RunPeriod;
}

/** The PostgreSQL-backed job queue (pg-boss) of the scheduler. */
export interface Scheduler {
  /** Proposes every due period of the catch-up window not delivered yet, oldest first (a job per period, one at a time per key). */
  tick(): Promise<number>;
  /** Processes queued jobs until none is left (the `--once` mode and the tests). */
  drain(): Promise<number>;
  /** Starts a worker that processes jobs as they come. */
  work(): Promise<void>;
  /** Stops: the job in progress finishes, nothing new is taken. */
  stop(): Promise<void>;
}

/** Starts pg-boss in its own schema of the ledger database. */
export async function createScheduler(deps: SchedulerDeps): Promise<Scheduler> {
  const boss = new PgBoss({ connectionString: deps.databaseUrl, schema: 'maillon_jobs', max: 3 });
  boss.on('error', (err) => deps.logger.error({ err }, 'job queue error'));
  // Instances starting together would deadlock on pg-boss's own schema setup: one at a time.
  const lock = await connect(deps.ledger);
  try {
    await lock.query('SELECT pg_advisory_lock($1)', [STARTUP_LOCK]);
    await boss.start();
    // short: at most one job waiting per singleton key (flow, period, environment). Running jobs are
    // not gated by the queue: a job left "active" by a killed process must not block the period;
    // the advisory lock and the delivered check of runDueOnce make each run happen once.
    if (!(await boss.getQueue(QUEUE))) await boss.createQueue(QUEUE, { name: QUEUE, policy: 'short' });
  } catch (err) {
    await boss.stop({ graceful: false, wait: true }).catch(() => undefined);
    throw err;
  } finally {
    await lock.query('SELECT pg_advisory_unlock($1)', [STARTUP_LOCK]).catch(() => undefined);
    lock.release();
  }
  const handle = async (job: PgBoss.Job<RunJob>): Promise<void> => {
    const pipeline = deps.pipelines.find((p) => p.id === job.data.flow);
    if (!pipeline) return;
    await runDueOnce(deps.ledger, deps.logger, job.data.environment, pipeline, parsePeriod(job.data.period), deps.run);
  };
  return {
    async tick() {
      const now = deps.clock.now();
      const from = new Date(now.getTime() - deps.catchUpDays * 86_400_000);
      let proposed = 0;
      for (const due of dueRuns(deps.pipelines, from, now)) {
        const period = formatPeriod(due.period);
        if (await isDelivered(deps.ledger, due.pipeline.id, period, deps.environment)) continue;
        const id = await boss.send(QUEUE, { flow: due.pipeline.id, period, environment: deps.environment } satisfies RunJob, {
          singletonKey: `${due.pipeline.id}:${period}:${deps.environment}`,
          retryLimit: 3,
          retryDelay: 60,
        });
        if (id) proposed++;
      }
      return proposed;
    },
    async drain() {
      let n = 0;
      for (;;) {
        const jobs = await boss.fetch<RunJob>(QUEUE, { batchSize: 1 });
        const job = jobs?.[0];
        if (!job) return n;
        try {
          await handle(job);
          await boss.complete(QUEUE, job.id);
        } catch (err) {
          await boss.fail(QUEUE, job.id, { message: (err as Error).message });
          deps.logger.error({ err, flow: job.data.flow, period: job.data.period }, 'scheduled run failed');
        }
        n++;
      }
    },
    async work() {
      await boss.work<RunJob>(QUEUE, { batchSize: 1, pollingIntervalSeconds: 2 }, async ([job]) => {
        if (job) await handle(job);
      });
    },
    async stop() {
      await boss.stop({ graceful: true, wait: true, timeout: 120_000 });
    },
  };
}
