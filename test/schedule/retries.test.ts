import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { career } from '../../pipelines/career.js';
import type { Clock } from '../../src/clock/clock.js';
import { runPipeline } from '../../src/engine/runPipeline.js';
import { importFolder } from '../../src/import/importFolder.js';
import { readPeriodView } from '../../src/ledger/periodView.js';
import { parsePeriod } from '../../src/period/period.js';
import { createScheduler, type Scheduler } from '../../src/schedule/scheduler.js';
import { createMetrics } from '../../src/status/metrics.js';
import { statusToHtml } from '../../src/status/statusHtml.js';
import { statusSnapshot } from '../../src/status/statusSnapshot.js';
import { ROOT, runDeps, scratchDir } from '../helpers/runHarness.js';
import { createTestDatabase, type TestDatabase } from '../helpers/testDatabase.js';

const TICK = 60;

/** `serve` with a failure that does not go away (the outbox is a file): bounded retries, then given up (issue 20). */
describe('a due period whose run keeps failing under serve', () => {
  let db: TestDatabase;
  let tmp: { dir: string; remove: () => Promise<void> };
  let scheduler: Scheduler;
  let t = Date.parse('2026-10-10T02:00:30+02:00');
  const clock: Clock = { now: () => new Date(t) };
  let outbox: string;
  const runsOf = async (period: string): Promise<Date[]> =>
    (await db.pool.query(`SELECT started_at FROM maillon.runs WHERE flow = 'career' AND period = $1 ORDER BY run_id`, [period])).rows.map((r) => r.started_at);
  /** One tick of serve, then the queue drained, then the clock moved by a tick. */
  const tickAndWait = async (): Promise<void> => {
    await scheduler.tick();
    await scheduler.drain();
    t += TICK * 1000;
  };

  beforeAll(async () => {
    db = await createTestDatabase();
    tmp = await scratchDir('retries');
    await importFolder(db.pool, path.join(ROOT, 'fixtures/career/input'));
    // A regular file where the outbox folder should be: every run fails the same way.
    outbox = path.join(tmp.dir, 'outbox');
    await fs.writeFile(outbox, '');
    const deps = { ...runDeps(db.pool, outbox), clock };
    scheduler = await createScheduler({
      databaseUrl: db.url,
      ledger: db.pool,
      clock,
      logger: deps.logger,
      pipelines: [career],
      environment: 'T',
      catchUpDays: 100,
      tickSeconds: TICK,
      retryLimit: 5,
      run: async (pipeline, period) => {
        await runPipeline(deps, { pipeline, period, environment: 'T', sender: '012345', dryRun: false, trigger: 'schedule' });
      },
    });
  });
  afterAll(async () => {
    await scheduler?.stop();
    await db?.drop();
    await tmp?.remove();
  });

  it('is retried after 1, 2, 4 and 8 ticks, then given up: visible in status, the page and /metrics, and left alone', async () => {
    for (let i = 0; i < 40; i++) await tickAndWait();
    const started = await runsOf('2026-Q3');
    expect(started).toHaveLength(5);
    const gaps = started.slice(1).map((s, i) => (s.getTime() - started[i]!.getTime()) / 1000 / TICK);
    expect(gaps).toEqual([1, 2, 4, 8]);
    const view = await readPeriodView(db.pool, 'T', 'career', '2026-Q3');
    expect(view).toMatchObject({ phase: 'given_up', state: 'given_up', retry: { failures: 5, nextAttemptAt: null } });
    const status = await statusSnapshot(db.pool, [career], 'T', clock.now(), 30, 48);
    const q3 = status.periods.find((p) => p.period === '2026-Q3')!;
    expect(q3).toMatchObject({ phase: 'given_up', state: 'given_up', retry: { failures: 5 } });
    expect(q3.action).toMatch(/^maillon serve gave up after 5 failed runs \(last: Cannot prepare the outbox .*\)\. Fix the cause, then: maillon run career --period 2026-Q3 --env T/);
    expect(statusToHtml(status)).toContain('<td class="phase given_up">given up</td>');
    const metrics = await createMetrics(db.pool, { clock, pipelines: [career], environment: 'T', windowDays: 30, ackDelayHours: 48 }).metrics();
    // 2026-Q2 (due on 10 July, in the catch-up window) failed the same way.
    expect((await runsOf('2026-Q2')).length).toBe(5);
    expect(metrics).toContain('maillon_periods{flow="career",phase="given_up"} 2');
  });

  it('an operator who runs the period gives it a fresh start; the next scheduled firing does too', async () => {
    // The operator fixes the outbox and runs the period: it is written, serve's failures are forgotten.
    const fixed = path.join(tmp.dir, 'outbox-fixed');
    const ok = await runPipeline({ ...runDeps(db.pool, fixed), clock }, { pipeline: career, period: parsePeriod('2026-Q3'), environment: 'T', sender: '012345', dryRun: false });
    expect(ok.files).toHaveLength(1);
    expect(await readPeriodView(db.pool, 'T', 'career', '2026-Q3')).toMatchObject({ phase: 'in_progress', retry: null });
    // 2026-Q4 falls due on 10 January and fails until given up; at the next firing (10 April) it is tried again.
    t = Date.parse('2027-01-10T02:00:30+01:00');
    for (let i = 0; i < 40; i++) await tickAndWait();
    expect(await runsOf('2026-Q4')).toHaveLength(5);
    expect(await readPeriodView(db.pool, 'T', 'career', '2026-Q4')).toMatchObject({ phase: 'given_up' });
    t = Date.parse('2027-04-10T02:00:30+02:00');
    await scheduler.tick();
    await scheduler.drain();
    expect(await runsOf('2026-Q4')).toHaveLength(6);
    expect(await readPeriodView(db.pool, 'T', 'career', '2026-Q4')).toMatchObject({ phase: 'to_do', state: 'failed', retry: { failures: 1, givenUpAt: null } });
  });
});
