import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateDataset } from '../../src/generate/generateDataset.js';
import { importFolder } from '../../src/import/importFolder.js';
import { parseLocalDate } from '../../src/period/localDate.js';
import { parsePeriod } from '../../src/period/period.js';
import { spawnMaillon } from '../helpers/cli.js';
import { scratchDir } from '../helpers/runHarness.js';
import { createTestDatabase, type TestDatabase } from '../helpers/testDatabase.js';

/** Review serve finding 5: `serve --once` (cron, systemd timers) registered no stop, and took the next job after SIGTERM. */
describe('maillon serve --once stopped by SIGTERM', () => {
  let db: TestDatabase;
  let home: { dir: string; remove: () => Promise<void> };

  beforeAll(async () => {
    db = await createTestDatabase();
    home = await scratchDir('serve-once-stop');
    const data = path.join(home.dir, 'data');
    await generateDataset({ affiliates: 100, seed: 9, out: data, invalidRate: 0, lastQuarter: parsePeriod('2026-Q3'), lastRequestDay: parseLocalDate('2026-10-08') });
    await importFolder(db.pool, data);
  });
  afterAll(async () => {
    await db?.drop();
    await home?.remove();
  });

  it('finishes the job in progress, takes no other, and exits 143', async () => {
    const release = path.join(home.dir, 'release');
    // Two jobs due at this instant (a day of incapacity requests, then career 2026-Q3); each run pauses before it publishes.
    const env = {
      DATABASE_URL: db.url,
      MAILLON_HOME: home.dir,
      MAILLON_SENDER: '012345',
      MAILLON_ENV: 'T',
      MAILLON_LOG_LEVEL: 'info',
      MAILLON_NOW: '2026-10-10T02:00:30+02:00',
      MAILLON_CATCHUP_DAYS: '1',
      MAILLON_PAUSE_AT: 'before-publish',
      MAILLON_PAUSE_UNTIL: release,
    };
    const serve = spawnMaillon(['serve', '--once'], env);
    let stderr = '';
    serve.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
    const exited = new Promise<number | null>((resolve) => serve.on('close', (code) => resolve(code)));
    const running = async (): Promise<number> => (await db.pool.query(`SELECT count(*)::int AS n FROM maillon.runs WHERE state = 'running' AND NOT dry_run`)).rows[0].n;
    for (let i = 0; i < 1200 && (await running()) === 0; i++) await new Promise((r) => setTimeout(r, 100));
    expect(await running()).toBe(1);
    serve.kill('SIGTERM');
    // The signal is handled while the run is held: then the run may end.
    for (let i = 0; i < 200 && !stderr.includes('stopping: the job in progress finishes'); i++) await new Promise((r) => setTimeout(r, 50));
    await fs.writeFile(release, '');
    expect(await exited).toBe(143);
    const runs = (await db.pool.query(`SELECT flow, state FROM maillon.runs WHERE NOT dry_run`)).rows;
    expect(runs).toEqual([{ flow: 'incapacity-attestations', state: 'succeeded' }]);
    const jobs = (await db.pool.query(`SELECT data->>'flow' AS flow, state::text FROM maillon_jobs.job ORDER BY created_on, data->>'flow'`)).rows;
    // The job in progress is completed; every other is still waiting (it was taken, left active, before).
    expect(jobs.find((j) => j.flow === 'incapacity-attestations')?.state).toBe('completed');
    expect(jobs.filter((j) => j.flow !== 'incapacity-attestations').map((j) => j.state)).toEqual(['created']);
    expect(stderr).toContain('stopping: the job in progress finishes, nothing new is taken');
  }, 300_000);
});
