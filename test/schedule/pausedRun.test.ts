import { randomUUID } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PIPELINES } from '../../pipelines/index.js';
import { generateDataset } from '../../src/generate/generateDataset.js';
import { importFolder } from '../../src/import/importFolder.js';
import { setFlowPaused } from '../../src/ledger/flowPauses.js';
import { parsePeriod } from '../../src/period/period.js';
import { createMetrics } from '../../src/status/metrics.js';
import { maillon } from '../helpers/cli.js';
import { scratchDir } from '../helpers/runHarness.js';
import { createTestDatabase, type TestDatabase } from '../helpers/testDatabase.js';

const NOW = '2026-10-10T02:00:30+02:00';

/**
 * An operator pauses a flow while serve's own run of it is computing: the run is refused when it
 * would publish (the pause is checked again there), which is the operator's decision, not a
 * failure of the period. serve says so, retries nothing, raises no failure, and runs the period
 * normally once the flow is resumed.
 */
describe('serve: a flow paused while its scheduled run computes', () => {
  let db: TestDatabase;
  let home: { dir: string; remove: () => Promise<void> };
  let env: Record<string, string>;
  const careerRuns = async () => (await db.pool.query(`SELECT run_id, state, dry_run, error_class FROM maillon.runs WHERE flow = 'career' ORDER BY run_id`)).rows;
  const metricsText = () => createMetrics(db.pool, { clock: { now: () => new Date(NOW) }, pipelines: PIPELINES, environment: 'T', windowDays: 30, ackDelayHours: 48, catchUpDays: 1 }).metrics();
  const careerStatus = async () => {
    const status = JSON.parse((await maillon(['status', '--json', '--days', '5'], env)).stdout) as { periods: { flow: string; period: string; state: string; action: string | null }[] };
    return status.periods.find((p) => p.flow === 'career' && p.period === '2026-Q3')!;
  };

  beforeAll(async () => {
    db = await createTestDatabase();
    home = await scratchDir('paused-run');
    const data = path.join(home.dir, 'data');
    await generateDataset({ affiliates: 120, seed: 4, out: data, invalidRate: 0, lastQuarter: parsePeriod('2026-Q3') });
    await importFolder(db.pool, data);
    env = { DATABASE_URL: db.url, MAILLON_HOME: home.dir, MAILLON_SENDER: '012345', MAILLON_ENV: 'T', MAILLON_LOG_LEVEL: 'info', MAILLON_NOW: NOW, MAILLON_CATCHUP_DAYS: '1' };
    // Only career is run by serve here: another flow's run would wait at the same step first.
    for (const p of PIPELINES) if (p.id !== 'career') await setFlowPaused(db.pool, 'T', p.id, true, new Date(NOW), 'not this test');
  });
  afterAll(async () => {
    await db?.drop();
    await home?.remove();
  });

  it('is refused at publish and logged as paused: no failure, no retry, no failure metric', async () => {
    const release = path.join(os.tmpdir(), `maillon-pause-${process.pid}-${randomUUID()}`);
    const serve = maillon(['serve', '--once'], { ...env, MAILLON_PAUSE_AT: 'before-publish', MAILLON_PAUSE_UNTIL: release });
    try {
      // serve's run of career 2026-Q3 is computed and waits before publishing: the operator pauses career then.
      for (let polls = 0; polls < 1200 && (await careerRuns()).length === 0; polls++) await new Promise((r) => setTimeout(r, 50));
      expect(await careerRuns()).toMatchObject([{ state: 'running' }]);
      expect(await setFlowPaused(db.pool, 'T', 'career', true, new Date(NOW), 'receiver asked to wait')).toBe(true);
    } finally {
      await fs.writeFile(release, '');
    }
    const { code, stderr } = await serve;
    await fs.rm(release, { force: true });
    expect(code, stderr).toBe(0);

    const lines = stderr
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as { level: number; msg: string; flow?: string });
    expect(lines.filter((l) => l.level >= 50)).toEqual([]);
    expect(lines).toContainEqual(expect.objectContaining({ flow: 'career', period: '2026-Q3', msg: expect.stringContaining('paused') }));
    expect((await db.pool.query(`SELECT count(*)::int AS n FROM maillon.submissions WHERE flow = 'career'`)).rows[0].n).toBe(0);
    // The run stays in the ledger, as one that wrote nothing.
    expect(await careerRuns()).toMatchObject([{ state: 'failed', dry_run: true, error_class: 'FlowPausedError' }]);
    // Not the period's failure: no retry is scheduled, the period is planned as before the run.
    expect((await db.pool.query(`SELECT * FROM maillon.period_retries WHERE flow = 'career'`)).rows).toEqual([]);
    expect(await careerStatus()).toMatchObject({ state: 'planned' });
    const metrics = await metricsText();
    expect(metrics).not.toMatch(/^maillon_runs\{flow="career",state="failed"\}/m);
    expect(metrics).not.toMatch(/^maillon_last_failure_timestamp_seconds\{flow="career"\}/m);
    expect(metrics).not.toMatch(/^maillon_period_states\{flow="career",state="failed"\}/m);
    // Still paused: the next tick proposes nothing of it.
    expect((await maillon(['serve', '--once'], env)).code).toBe(0);
    expect(await careerRuns()).toHaveLength(1);
  });

  it('runs the period normally once the flow is resumed', async () => {
    expect((await maillon(['resume', 'career'], env)).code).toBe(0);
    const serve = await maillon(['serve', '--once'], env);
    expect(serve.code, serve.stderr).toBe(0);
    expect((await careerRuns()).map((r) => r.state)).toEqual(['failed', 'succeeded']);
    expect((await db.pool.query(`SELECT count(*)::int AS n FROM maillon.submissions WHERE flow = 'career'`)).rows[0].n).toBeGreaterThan(0);
    expect(await careerStatus()).toMatchObject({ state: 'written' });
    expect((await maillon(['verify-ledger'], env)).code).toBe(0);
  });
});
