import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { belcotax28118 } from '../../pipelines/belcotax28118.js';
import { PIPELINES } from '../../pipelines/index.js';
import { periodClosedOn } from '../../src/cli/resolve.js';
import { runBackfill } from '../../src/engine/backfill.js';
import { runPipeline } from '../../src/engine/runPipeline.js';
import { PeriodClosedError } from '../../src/errors/errors.js';
import { parsePeriod } from '../../src/period/period.js';
import { dueRuns } from '../../src/schedule/dueRuns.js';
import { runDueOnce } from '../../src/schedule/runDue.js';
import { createLogger } from '../../src/log/logger.js';
import { statusSnapshot } from '../../src/status/statusSnapshot.js';
import type { Endpoints } from '../../src/transport/receivers.js';
import { sendSubmissions } from '../../src/transport/sendSubmissions.js';
import { createFlowFixture, type FlowFixture } from '../helpers/flowFixture.js';
import { runDeps } from '../helpers/runHarness.js';

// SPF Finances accepts no Belcotax file for income year 2024 after 30 September 2027 (domain.md §6).
const LAST_DAY = '2027-09-30T23:30:00+02:00';
const CLOSED = '2027-10-01T09:00:00+02:00';

/** A year past its legal closing date: nothing is produced, sent, proposed or shown as to do. */
describe('belcotax-281-18 after 30 September of year+3', () => {
  let fx: FlowFixture;
  const runs = async (): Promise<number> => (await fx.db.pool.query(`SELECT count(*)::int AS n FROM maillon.runs WHERE flow = 'belcotax-281-18'`)).rows[0].n;
  const closedRun = (extra: object = {}) =>
    runPipeline(runDeps(fx.db.pool, fx.outbox, CLOSED), { pipeline: belcotax28118, period: parsePeriod('2024'), environment: 'T', sender: '012345', dryRun: false, ...extra });
  beforeAll(async () => {
    fx = await createFlowFixture(undefined, LAST_DAY);
  });
  afterAll(async () => fx.close());

  it('refuses a run, an earlier as-of and a rerun the day after, exit 2 naming the closing date, writing nothing', async () => {
    const before = await runs();
    for (const extra of [{}, { asOf: new Date('2027-09-01T00:00:00+02:00') }, { correction: { reason: 'late fix', full: true } }]) {
      const err = await closedRun(extra).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(PeriodClosedError);
      expect((err as PeriodClosedError).exitCode).toBe(2);
      expect((err as PeriodClosedError).closedAfter).toBe('2027-09-30');
      expect((err as Error).message).toContain('belcotax-281-18 2024 is closed: its receiver accepts no file for it after 2027-09-30, and today is 2027-10-01');
    }
    expect(await runs()).toBe(before);
    await expect(fs.readdir(fx.outbox)).rejects.toThrow(/ENOENT/);
  });

  it('refuses a backfill starting with a closed year, naming the first year still open', async () => {
    const err = await runBackfill(runDeps(fx.db.pool, fx.outbox, CLOSED), {
      pipeline: belcotax28118,
      from: parsePeriod('2023'),
      to: parsePeriod('2025'),
      environment: 'T',
      sender: '012345',
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PeriodClosedError);
    expect((err as Error).message).toContain('belcotax-281-18 2023 is closed: its receiver accepts no file for it after 2026-09-30');
    expect((err as Error).message).toContain('--from 2025');
  });

  it('serve proposes no closed year, whatever its catch-up window', () => {
    const due = dueRuns(PIPELINES, new Date('2018-01-01T00:00:00Z'), new Date(CLOSED)).filter((d) => d.pipeline.id === 'belcotax-281-18');
    expect(due.map((d) => d.period.year)).toEqual([2025, 2026]);
  });

  it('a scheduled run that meets a closed year (queued before midnight) is not a failure to retry', async () => {
    const deps = runDeps(fx.db.pool, fx.outbox, CLOSED);
    const run = () => closedRun().then(() => undefined);
    const outcome = await runDueOnce(
      { ledger: fx.db.pool, clock: deps.clock, logger: createLogger('silent'), environment: 'T', retry: { tickSeconds: 60, limit: 3 }, run },
      belcotax28118,
      parsePeriod('2024'),
    );
    expect(outcome).toBe('not-to-do');
    expect((await fx.db.pool.query(`SELECT count(*)::int AS n FROM maillon.period_retries WHERE flow = 'belcotax-281-18'`)).rows[0].n).toBe(0);
  });

  it('still runs on the last day; a file written then is not sent after it, and a failed year shows as closed, not to do', async () => {
    const ran = await fx.run(belcotax28118, '2024');
    expect(ran.files).toHaveLength(1);
    const endpoints = { forReceiver: () => ({ host: '127.0.0.1', port: 9, user: 'fund' }) } as unknown as Endpoints;
    const { ledger, clock, logger } = runDeps(fx.db.pool, fx.outbox, CLOSED);
    const sent = await sendSubmissions({ ledger, clock, logger, endpoints, passphrase: () => undefined, closedOn: periodClosedOn }, { flow: 'belcotax-281-18' });
    expect(sent.map((o) => o.result)).toEqual(['closed']);
    expect(sent[0]!.reason).toContain(`after 2027-09-30, so it was not sent. Withdraw it: maillon cancel ${sent[0]!.submissionId}`);
    expect((await fx.db.pool.query('SELECT state FROM maillon.submissions WHERE submission_id = $1', [sent[0]!.submissionId])).rows[0].state).toBe('written');

    // 2023 (closed on 2026-09-30): a run that failed in its last days must not stay "to do".
    const notADir = path.join(fx.outbox, 'not-a-folder');
    await fs.writeFile(notADir, '');
    await expect(
      runPipeline(runDeps(fx.db.pool, notADir, '2026-09-30T12:00:00+02:00'), { pipeline: belcotax28118, period: parsePeriod('2023'), environment: 'S', sender: '012345', dryRun: false }),
    ).rejects.toThrow();
    const status = await statusSnapshot(fx.db.pool, PIPELINES, 'S', new Date(CLOSED), 400, 24);
    const y2023 = status.periods.find((p) => p.flow === 'belcotax-281-18' && p.period === '2023')!;
    expect([y2023.state, y2023.category, y2023.deadlineAtRisk]).toEqual(['closed', 'closed', false]);
    expect(y2023.action).toContain('its receiver accepts no file for this period after 2026-09-30');
  });
});
