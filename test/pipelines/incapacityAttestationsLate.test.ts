import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { incapacityAttestations } from '../../pipelines/incapacityAttestations.js';
import { runPipeline } from '../../src/engine/runPipeline.js';
import { importFolder } from '../../src/import/importFolder.js';
import { parsePeriod } from '../../src/period/period.js';
import { buildReport } from '../../src/reconcile/report.js';
import { fixedClock } from '../../src/clock/clock.js';
import { createMetrics } from '../../src/status/metrics.js';
import { type PeriodStatus, statusSnapshot } from '../../src/status/statusSnapshot.js';
import { createFlowFixture, fixtureWithRows, type FlowFixture } from '../helpers/flowFixture.js';
import { runDeps } from '../helpers/runHarness.js';

const NOW = '2025-01-10T02:00:00+01:00';

describe('incapacity-attestations: requests that reach the dossier after their day was run', () => {
  let fx: FlowFixture;
  const status = async (withDossier = true): Promise<Map<string, PeriodStatus>> => {
    const s = await statusSnapshot(fx.db.pool, [incapacityAttestations], 'T', new Date(NOW), 400, 48, 400, withDossier ? fx.db.pool : undefined);
    return new Map(s.periods.map((p) => [p.period, p]));
  };
  beforeAll(async () => {
    fx = await createFlowFixture();
    await fx.run(incapacityAttestations, '2024-04-15'); // 4 answers written, 2 quarantined
    await fx.run(incapacityAttestations, '2024-04-19'); // no request: nothing to send
    // The next export brings one more request for each of the two days already run.
    const late = await fixtureWithRows({ 'incapacity_requests.csv': ['200-24-0998,D06,200,2024-04-15,2024-04-14', '200-24-0999,D06,200,2024-04-19,2024-04-18'] });
    await importFolder(fx.db.pool, late.dir);
    await late.remove();
  });
  afterAll(async () => fx.close());

  it('shows each day as needing attention, with how many requests wait and the command that answers them', async () => {
    const s = await status();
    expect(s.get('2024-04-19')).toMatchObject({ category: 'needs_attention', phase: 'needs_attention', lateRecords: 1 });
    expect(s.get('2024-04-19')!.action).toContain(
      '1 record(s) of this period reached the dossier after its run and are not answered (200-24-0999): maillon run incapacity-attestations --period 2024-04-19 --env T',
    );
    expect(s.get('2024-04-15')).toMatchObject({ category: 'needs_attention', phase: 'needs_attention', lateRecords: 1 });
    expect(s.get('2024-04-15')!.action).toContain('(200-24-0998): maillon rerun incapacity-attestations --period 2024-04-15 --env T --reason');
    expect(s.get('2024-04-16')).toMatchObject({ lateRecords: null });
  });

  it("counts both days as needing attention in serve's /metrics, which the alert MaillonPeriodNeedsAttention reads", async () => {
    const metrics = (withDossier: boolean): Promise<string> =>
      createMetrics(fx.db.pool, {
        clock: fixedClock(NOW),
        pipelines: [incapacityAttestations],
        environment: 'T',
        windowDays: 400,
        ackDelayHours: 48,
        catchUpDays: 400,
        ...(withDossier ? { dossier: fx.db.pool } : {}),
      }).metrics();
    expect(await metrics(true)).toContain('maillon_periods{flow="incapacity-attestations",phase="needs_attention"} 2');
    // Without the dossier the ledger alone believes both days complete: what /metrics said before.
    expect(await metrics(false)).not.toContain('phase="needs_attention"');
  });

  it('does not say in the report that every record is accounted for', async () => {
    const r = await buildReport(fx.db.pool, incapacityAttestations, '2024-04-19', 'T', new Date(NOW), 48, fx.db.pool);
    expect(r.lateRecords).toEqual({ count: 1, keys: ['200-24-0999'] });
    expect(r.accountedFor).toBe(false);
    expect(r.unaccounted).toContain('1 record(s) of this period reached the dossier after its run');
    expect(r.receivers.phase).toBe('needs_attention');
  });

  it('is answered by the command it names: the late requests go out as new records, and the day is complete again', async () => {
    const fix = await runPipeline(runDeps(fx.db.pool, fx.outbox, NOW), {
      pipeline: incapacityAttestations,
      period: parsePeriod('2024-04-15'),
      environment: 'T',
      sender: '012345',
      asOf: new Date(NOW),
      dryRun: false,
      correction: { reason: "records that reached the dossier after the period's run", full: false },
    });
    expect(fix.plan).toMatchObject({ added: ['200-24-0998'], changed: [], vanished: [] });
    expect(fix.files.map((f) => [f.receiver, f.records])).toEqual([['OA200', 1]]);
    const first = await fx.run(incapacityAttestations, '2024-04-19');
    expect(first.counts).toMatchObject({ extracted: 1, emitted: 1 });
    const s = await status();
    expect(s.get('2024-04-15')).toMatchObject({ lateRecords: 0 });
    expect(s.get('2024-04-15')!.category).not.toBe('needs_attention');
    expect(s.get('2024-04-19')!.lateRecords).toBe(0);
    expect(s.get('2024-04-19')!.action).toBeNull();
  });
});
