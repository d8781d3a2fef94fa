import fs from 'node:fs/promises';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type EmbeddedDatabase, startEmbeddedPostgres } from '../../src/db/embeddedPostgres.js';
import { migrate } from '../../src/db/migrate.js';
import { createPool } from '../../src/db/database.js';
import { generateDataset } from '../../src/generate/generateDataset.js';
import { importFolder } from '../../src/import/importFolder.js';
import { parsePeriod } from '../../src/period/period.js';
import { maillon, spawnMaillon } from '../helpers/cli.js';
import { scratchDir } from '../helpers/runHarness.js';

/** PostgreSQL restarted in the middle of a run: an embedded server of the test's own, so no other test is disturbed. */
describe('PostgreSQL restarted during a run', () => {
  let tmp: { dir: string; remove: () => Promise<void> };
  let server: EmbeddedDatabase;
  const pgHome = (): string => tmp.dir;

  beforeAll(async () => {
    tmp = await scratchDir('pgrestart');
    server = await startEmbeddedPostgres(pgHome());
    const pool = createPool(server.url);
    await migrate(pool, 'ledger');
    await migrate(pool, 'dossier');
    const data = path.join(tmp.dir, 'data');
    await generateDataset({ affiliates: 15_000, seed: 2, out: data, invalidRate: 0, lastQuarter: parsePeriod('2026-Q3') });
    await importFolder(pool, data);
    await pool.end();
  });
  afterAll(async () => {
    await server?.stop();
    await tmp?.remove();
  });

  it('fails the run with a clear error, leaves no file claimed that does not exist, and the next run completes', async () => {
    const env = { DATABASE_URL: server.url, MAILLON_HOME: tmp.dir, MAILLON_SENDER: '012345', MAILLON_LOG_LEVEL: 'info' };
    const run = spawnMaillon(['run', 'career', '--period', '2026-Q3', '--as-of', '2026-10-10T00:00:00Z'], env);
    let stderr = '';
    const exited = new Promise<number | null>((resolve) => run.on('exit', (c) => resolve(c)));
    await new Promise<void>((resolve) => {
      run.stderr!.on('data', (c: Buffer) => {
        stderr += c.toString();
        if (stderr.includes('"run started"')) resolve();
      });
    });
    // Fast shutdown of the server while the run streams; then start it again.
    const pid = Number((await fs.readFile(path.join(pgHome(), 'pg', 'data', 'postmaster.pid'), 'utf8')).split('\n')[0]);
    process.kill(pid, 'SIGINT');
    const code = await exited;
    expect(code).not.toBe(0);
    expect(stderr).toMatch(/maillon: .*(terminat|[Cc]onnect)/);
    expect(stderr).not.toContain('localhost:5432');
    await server.stop().catch(() => undefined);
    server = await startEmbeddedPostgres(pgHome());
    const client = new pg.Client({ connectionString: server.url });
    await client.connect();
    try {
      const files = await client.query('SELECT path FROM maillon.files');
      for (const f of files.rows) await expect(fs.stat(f.path)).resolves.toBeTruthy();
      expect(files.rows).toEqual([]);
      const again = await maillon(['run', 'career', '--period', '2026-Q3', '--as-of', '2026-10-10T00:00:00Z'], { ...env, DATABASE_URL: server.url });
      expect(again.code).toBe(0);
      const runs = await client.query('SELECT state, error_class FROM maillon.runs ORDER BY run_id');
      expect(runs.rows).toEqual([{ state: 'failed', error_class: 'Abandoned' }, { state: 'succeeded', error_class: null }]);
      const published = await client.query('SELECT path FROM maillon.files');
      expect(published.rows).toHaveLength(1);
      await expect(fs.stat(published.rows[0].path)).resolves.toBeTruthy();
    } finally {
      await client.end();
    }
  });
});
