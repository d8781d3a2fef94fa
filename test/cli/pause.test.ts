import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateDataset } from '../../src/generate/generateDataset.js';
import { importFolder } from '../../src/import/importFolder.js';
import { parsePeriod } from '../../src/period/period.js';
import { setFlowPaused } from '../../src/ledger/flowPauses.js';
import { maillon, pausedAfterPlan } from '../helpers/cli.js';
import { scratchDir } from '../helpers/runHarness.js';
import { createTestDatabase, type TestDatabase } from '../helpers/testDatabase.js';

/** Issue 22 point 5: a flow can be paused and resumed; every instance and command honours it. */
describe('maillon pause / resume', () => {
  let db: TestDatabase;
  let home: { dir: string; remove: () => Promise<void> };
  let env: Record<string, string>;
  const runsOf = async (flow: string): Promise<number> => (await db.pool.query(`SELECT count(*)::int AS n FROM maillon.runs WHERE flow = $1 AND NOT dry_run`, [flow])).rows[0].n;

  beforeAll(async () => {
    db = await createTestDatabase();
    home = await scratchDir('pause');
    const data = path.join(home.dir, 'data');
    await generateDataset({ affiliates: 120, seed: 4, out: data, invalidRate: 0, lastQuarter: parsePeriod('2026-Q3') });
    await importFolder(db.pool, data);
    env = { DATABASE_URL: db.url, MAILLON_HOME: home.dir, MAILLON_SENDER: '012345', MAILLON_ENV: 'T', MAILLON_LOG_LEVEL: 'warn', MAILLON_NOW: '2026-10-10T02:00:30+02:00', MAILLON_CATCHUP_DAYS: '1' };
  });
  afterAll(async () => {
    await db?.drop();
    await home?.remove();
  });

  it('a paused flow is refused by run (exit 8, naming the pause and how to resume), skipped by serve, shown by status', async () => {
    const paused = await maillon(['pause', 'career', '--reason', 'receiver asked to wait'], env);
    expect(paused.code).toBe(0);
    expect(paused.stdout).toContain('career (T) paused');
    expect((await maillon(['pause', 'career', '--reason', 'again'], env)).stdout).toContain('already paused');

    const run = await maillon(['run', 'career', '--period', '2026-Q3'], env);
    expect(run.code).toBe(8);
    expect(run.stderr).toContain('The flow career is paused in environment T');
    expect(run.stderr).toContain('receiver asked to wait');
    expect(run.stderr).toContain('maillon resume career --env T');
    // A dry run writes nothing: it is allowed.
    expect((await maillon(['run', 'career', '--period', '2026-Q3', '--dry-run'], env)).code).toBe(0);

    const serve = await maillon(['serve', '--once'], env);
    expect(serve.code).toBe(0);
    expect(await runsOf('career')).toBe(0);

    const status = JSON.parse((await maillon(['status', '--json', '--days', '5'], env)).stdout) as { paused: { flow: string; reason: string }[] };
    expect(status.paused).toEqual([expect.objectContaining({ flow: 'career', reason: 'receiver asked to wait' })]);
    expect((await maillon(['status', '--days', '5'], env)).stdout).toMatch(/^paused career .*receiver asked to wait/m);
    // Another environment is not paused.
    expect(JSON.parse((await maillon(['status', '--json', '--env', 'S'], env)).stdout).paused).toEqual([]);
  });

  it('resume lets the next serve tick run the period; both changes are events of the verified chain', async () => {
    const resumed = await maillon(['resume', 'career'], env);
    expect(resumed.code).toBe(0);
    expect(resumed.stdout).toContain('career (T) resumed');
    expect((await maillon(['resume', 'career'], env)).stdout).toContain('was not paused');
    expect((await maillon(['serve', '--once'], env)).code).toBe(0);
    expect(await runsOf('career')).toBe(1);
    const events = await db.pool.query(`SELECT kind, detail FROM maillon.events WHERE kind LIKE 'flow_%' ORDER BY event_id`);
    expect(events.rows.map((r) => `${r.kind} ${r.detail.flow} ${r.detail.environment}`)).toEqual(['flow_paused career T', 'flow_resumed career T']);
    expect((await maillon(['verify-ledger'], env)).code).toBe(0);
  });

  it('a pause while a rerun waits for its confirmation stops it: exit 8 naming the pause, nothing written (review item 4)', async () => {
    const written = async (): Promise<number> => (await db.pool.query(`SELECT count(*)::int AS n FROM maillon.submissions WHERE flow = 'career'`)).rows[0].n;
    const before = await written();
    expect(before).toBeGreaterThan(0);
    const outbox = path.join(home.dir, 'outbox');
    const files = await fs.readdir(outbox);
    const paused = pausedAfterPlan(['rerun', 'career', '--period', '2026-Q3', '--full', '--reason', 'p', '--yes'], env);
    await paused.planShown;
    // What `maillon pause` records, from this process: the rerun's plan waits 3 s.
    expect(await setFlowPaused(db.pool, 'T', 'career', true, new Date(env['MAILLON_NOW']!), 'stop everything')).toBe(true);
    const { code, stdout, stderr } = await paused.ended;
    expect(code, stdout + stderr).toBe(8);
    expect(stderr).toContain('The flow career is paused in environment T');
    expect(stderr).toContain('stop everything');
    expect(await written()).toBe(before);
    expect((await fs.readdir(outbox)).sort()).toEqual(files.sort());
    expect((await maillon(['resume', 'career'], env)).code).toBe(0);
    expect((await maillon(['verify-ledger'], env)).code).toBe(0);
  });

  it("maillon status uses serve's catch-up window: older periods to do are outside it, in text and JSON (issue 22: 400 days shown as planned)", async () => {
    const json = JSON.parse((await maillon(['status', '--json', '--days', '400'], env)).stdout) as {
      catchUpDays: number;
      periods: { flow: string; period: string; state: string; category: string }[];
    };
    expect(json.catchUpDays).toBe(1);
    expect(json.periods.find((p) => p.flow === 'career' && p.period === '2026-Q2')).toMatchObject({ state: 'outside_window', category: 'outside_window' });
    const text = (await maillon(['status', '--days', '400'], env)).stdout;
    expect(text).toMatch(/^career\s+2026-Q2 .*outside_window.*\[outside the catch-up window\]$/m);
    expect(text).toMatch(/^next \S+\s+\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} \+0[12]:00$/m);
  });

  it('refuses an unknown flow (exit 4) and an empty reason (exit 2)', async () => {
    expect((await maillon(['pause', 'nope', '--reason', 'x'], env)).code).toBe(4);
    expect((await maillon(['pause', 'career', '--reason', ' '], env)).code).toBe(2);
  });
});
