import type { Command } from 'commander';
import { PIPELINES } from '../../../pipelines/index.js';
import { requireSender } from '../../config/config.js';
import { runPipeline } from '../../engine/runPipeline.js';
import { checkOutboxMarker } from '../../package/outboxMarker.js';
import { reportPage } from '../../reconcile/reportPage.js';
import { traceToHtml } from '../../trace/traceHtml.js';
import { traceRecord } from '../../trace/traceRecord.js';
import { createScheduler } from '../../schedule/scheduler.js';
import { runTickLoop } from '../../schedule/tickLoop.js';
import { createMetrics } from '../../status/metrics.js';
import { withLinkBack } from '../../status/statusGrid.js';
import { statusToHtml } from '../../status/statusHtml.js';
import { createLateRecordsStore } from '../../status/lateRecordsStore.js';
import { refreshLateRecords, statusSnapshot } from '../../status/statusSnapshot.js';
import { checkHealth } from '../../status/health.js';
import { recordTick } from '../../status/heartbeat.js';
import { requireStatusToken, startStatusServer } from '../../status/statusServer.js';
import { loadEndpoints } from '../../transport/receivers.js';
import { sendSubmissions } from '../../transport/sendSubmissions.js';
import type { CliContext } from '../context.js';
import { findPipeline, periodClosedOn, periodFor } from '../resolve.js';
import { onShutdown } from '../shutdown.js';
import { deliveryTestHooks, runTestHooks } from '../testHooks.js';
import { readAcks } from './acks.js';
import { cliRunDeps } from './run.js';

/** How far back the status page shows periods; those to do before the catch-up window are marked outside it. */
const STATUS_WINDOW_DAYS = 400;

/** `maillon serve`: the long-running scheduler, with catch-up, delivery, replies and a status page. */
export function registerServe(program: Command, ctx: () => CliContext): void {
  program
    .command('serve')
    .description('run the schedules: due periods (and missed ones, oldest first) are run once across every instance, delivered, and their replies read')
    .option('--once', 'one tick: propose the due periods, process the queue, deliver, read replies, then exit')
    .action(async (opts: { once?: boolean }) => {
      const c = ctx();
      const sender = requireSender(c.config);
      const env = c.config.environment;
      // Before anything starts: a page reachable from other machines must ask for a token.
      const token = opts.once ? null : requireStatusToken(c.config.statusHost, c.config.statusToken);
      const startedAt = c.clock.now();
      let lastTickAt: Date | null = null;
      const dbs = await c.databases();
      // Every instance reads the others' files back from the outbox: refuse one that is not shared.
      await checkOutboxMarker(dbs.ledger, c.clock, c.config.outbox);
      const deps = { ...(await cliRunDeps(c)), ...runTestHooks(c.config, env) };
      // Aborted by SIGTERM: no new tick, job or delivery starts; what is in progress finishes.
      const stopping = new AbortController();
      const deliver = async (): Promise<void> => {
        if (!c.config.receiversFile) return;
        // Replies are read even when sending failed: they answer what was delivered before.
        try {
          const endpoints = loadEndpoints(c.config.receiversFile);
          await sendSubmissions(
            { ledger: dbs.ledger, clock: c.clock, logger: c.logger, endpoints, passphrase: c.config.secret, closedOn: periodClosedOn, ...deliveryTestHooks(c.config, env) },
            { environment: env },
          );
        } catch (err) {
          c.logger.error({ err }, 'submissions could not be sent this tick: the next tick tries again');
        }
        if (stopping.signal.aborted) return;
        await readAcks(c, env).catch((err: Error) => c.logger.warn({ err }, 'replies could not be read this tick'));
      };
      const scheduler = await createScheduler({
        databaseUrl: dbs.ledgerUrl,
        ledger: dbs.ledger,
        clock: c.clock,
        logger: c.logger,
        pipelines: PIPELINES,
        environment: env,
        catchUpDays: c.config.catchUpDays,
        tickSeconds: c.config.tickSeconds,
        retryLimit: c.config.retryLimit,
        run: async (pipeline, period) => {
          await runPipeline(deps, { pipeline, period, environment: env, sender, dryRun: false, trigger: 'schedule' });
          // Deliver at once (unless stopping: the next start delivers it); a failure is retried on the next tick (the run itself succeeded).
          if (stopping.signal.aborted) return;
          await deliver().catch((err: Error) => c.logger.warn({ err }, 'delivery will be retried on the next tick'));
        },
      });
      const windowDays = Math.max(STATUS_WINDOW_DAYS, c.config.catchUpDays);
      // The page's and /metrics' late-record counts, counted again at each tick when the dossier changed.
      const late = createLateRecordsStore(dbs.dossier, dbs.ledger);
      // Its steps check the signal between them: once stopping, the step in progress is the last.
      const tick = async (signal: AbortSignal): Promise<void> => {
        lastTickAt = c.clock.now();
        await recordTick(dbs.ledger, env, startedAt, lastTickAt, c.config.tickSeconds).catch((err: Error) => c.logger.warn({ err }, 'the heartbeat could not be recorded this tick'));
        if (signal.aborted) return;
        const proposed = await scheduler.tick();
        if (proposed) c.logger.info({ proposed }, 'due periods proposed');
        if (signal.aborted) return;
        if (opts.once) await scheduler.drain();
        if (signal.aborted) return;
        await deliver();
        if (signal.aborted || opts.once) return;
        await refreshLateRecords(late, dbs.ledger, PIPELINES, env, c.clock.now(), windowDays, c.config.ackDelayHours).catch((err: Error) =>
          c.logger.warn({ err }, 'the late records of the status page could not be counted this tick'),
        );
      };
      if (opts.once) {
        const once = tick(stopping.signal).finally(() => scheduler.stop());
        // SIGTERM as for the long-running form: the job in progress ends, no other is taken, nothing
        // more is delivered; main.ts then exits 143.
        const stopped = new Promise<void>((resolve) => {
          onShutdown(async () => {
            c.logger.info('stopping: the job in progress finishes, nothing new is taken');
            stopping.abort();
            await scheduler.stop();
            await once.catch(() => undefined);
            resolve();
          });
        });
        await once;
        if (stopping.signal.aborted) await stopped;
        return;
      }
      const snapshot = (): ReturnType<typeof statusSnapshot> => statusSnapshot(dbs.ledger, PIPELINES, env, c.clock.now(), windowDays, c.config.ackDelayHours, c.config.catchUpDays, late);
      const status = await startStatusServer(
        {
          html: async () => statusToHtml(await snapshot()),
          json: snapshot,
          trace: async (key) => traceToHtml(key ? await traceRecord({ ledger: dbs.ledger, dossier: dbs.dossier }, key, { now: c.clock.now() }) : null),
          report: async (flow, period) => {
            const pipeline = findPipeline(flow);
            // A period the flow cannot have is a 400 naming the forms, before the ledger is read.
            periodFor(pipeline, period, 'The period of the address');
            return withLinkBack(await reportPage(dbs.ledger, pipeline, period, env, c.clock.now(), c.config.ackDelayHours), { flow, period });
          },
          health: () => checkHealth({ ledger: dbs.ledger, outbox: c.config.outbox, tickSeconds: c.config.tickSeconds, startedAt, lastTickAt: () => lastTickAt, now: () => c.clock.now() }),
          metrics: createMetrics(dbs.ledger, {
            clock: c.clock,
            pipelines: PIPELINES,
            environment: env,
            windowDays,
            ackDelayHours: c.config.ackDelayHours,
            catchUpDays: c.config.catchUpDays,
            dossier: late,
          }),
          logger: c.logger,
        },
        c.config.statusPort,
        c.config.statusHost,
        token,
      );
      console.log(
        `maillon serve: environment ${env}, status page http://${c.config.statusHost}:${status.port}/${token ? ' (asks for MAILLON_STATUS_TOKEN: open it once with ?token=…; Prometheus sends it as a bearer token)' : ''}`,
      );
      scheduler.work();
      // One tick at a time, the next a tick's interval after it ended: none is ever queued.
      const ticking = runTickLoop({ tick, intervalMs: c.config.tickSeconds * 1000, logger: c.logger }, stopping.signal);
      await new Promise<void>((resolve) => {
        onShutdown(async () => {
          c.logger.info('stopping: the job in progress finishes, nothing new is taken');
          stopping.abort();
          // The worker takes no new job first; then the tick in flight, and only it, is awaited.
          await scheduler.stop();
          await ticking;
          await status.close();
          resolve();
        });
      });
    });
}
