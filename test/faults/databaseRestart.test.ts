import fs from 'node:fs/promises';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type EmbeddedDatabase, startEmbeddedPostgres } from '../../src/db/embeddedPostgres.js';
import { migrate } from '../../src/db/migrate.js';
import { createPool } from '../../src/db/database.js';
import { generateDataset } from '../../src/generate/generateDataset.js';
import { CONTRACT } from '../../src/import/contract.js';
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

  /** A fast shutdown of the server (what a restart by an operator or a crash does to its sessions). */
  async function shutDown(): Promise<void> {
    const pid = Number((await fs.readFile(path.join(pgHome(), 'pg', 'data', 'postmaster.pid'), 'utf8')).split('\n')[0]);
    process.kill(pid, 'SIGINT');
  }
  /** Starts the server again, on the same port when asked (where a running client expects it). */
  async function startAgain(port?: number): Promise<void> {
    await server.stop().catch(() => undefined);
    server = await startEmbeddedPostgres(pgHome(), port === undefined ? {} : { port });
  }

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
    await shutDown();
    const code = await exited;
    expect(code).toBe(6);
    // Lost under a query, or refused when the run asked for a connection while the server stopped.
    expect(stderr).toMatch(
      /maillon: (The connection to PostgreSQL was lost during maillon run \(.*\): the server stopped or restarted\. .*Run it again once the server answers\.|Cannot connect to PostgreSQL \(.*\): .*Check DATABASE_URL)/,
    );
    expect(stderr).not.toContain('unexpected failure');
    expect(stderr).not.toContain('localhost:5432');
    await startAgain();
    const client = new pg.Client({ connectionString: server.url });
    await client.connect();
    try {
      const files = await client.query('SELECT path FROM maillon.files');
      for (const f of files.rows) await expect(fs.stat(f.path)).resolves.toBeTruthy();
      expect(files.rows).toEqual([]);
      const again = await maillon(['run', 'career', '--period', '2026-Q3', '--as-of', '2026-10-10T00:00:00Z'], { ...env, DATABASE_URL: server.url });
      expect(again.code).toBe(0);
      const runs = await client.query('SELECT state, error_class FROM maillon.runs ORDER BY run_id');
      expect(runs.rows).toEqual([
        { state: 'failed', error_class: 'Abandoned' },
        { state: 'succeeded', error_class: null },
      ]);
      const published = await client.query('SELECT path FROM maillon.files');
      expect(published.rows).toHaveLength(1);
      await expect(fs.stat(published.rows[0].path)).resolves.toBeTruthy();
    } finally {
      await client.end();
    }
  });

  it('an import cut by a restart: a clear error, the dossier as it was, and the next import completes', async () => {
    const env = { DATABASE_URL: server.url, MAILLON_HOME: tmp.dir, MAILLON_LOG_LEVEL: 'info' };
    const newer = path.join(tmp.dir, 'newer');
    await generateDataset({ affiliates: 3000, seed: 5, out: newer, invalidRate: 0, lastQuarter: parsePeriod('2026-Q3') });
    const client = new pg.Client({ connectionString: server.url });
    // The server is shut down under this connection: its termination is expected, not an error of the test.
    client.on('error', () => undefined);
    await client.connect();
    const before = (await client.query('SELECT count(*)::int AS n FROM dossier.affiliates')).rows[0].n;
    expect(before).toBe(15_000);
    // Hold the affiliates' table: the import loads the contributions and the payments beside the
    // dossier, then waits for it. The server is shut down there, in the middle of the import.
    await client.query('BEGIN');
    await client.query('LOCK TABLE dossier.affiliates IN ACCESS EXCLUSIVE MODE');
    const run = spawnMaillon(['import', newer], env);
    let stderr = '';
    run.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
    const exited = new Promise<number | null>((resolve) => run.on('exit', (c) => resolve(c)));
    const loaded = async (): Promise<boolean> => {
      const res = await client.query(`SELECT count(*)::int AS n FROM pg_locks l JOIN pg_class c ON c.oid = l.relation WHERE c.relname = 'affiliates' AND NOT l.granted`);
      return res.rows[0].n > 0;
    };
    while (!(await loaded())) await new Promise((r) => setTimeout(r, 20));
    await shutDown();
    await client.end().catch(() => undefined);
    expect(await exited).toBe(6);
    expect(stderr).toMatch(
      /maillon: The connection to PostgreSQL was lost during maillon import \(.*\): the server stopped or restarted\. What the command had not committed was rolled back\. Run it again once the server answers\./,
    );
    expect(stderr).not.toContain('unexpected failure');
    await startAgain();
    const after = new pg.Client({ connectionString: server.url });
    await after.connect();
    try {
      expect((await after.query('SELECT count(*)::int AS n FROM dossier.affiliates')).rows[0].n).toBe(15_000);
      // Tables the import had finished before the cut may remain under their `__new` name (no flow
      // reads them); the next import drops them first.
      const leftovers = async (): Promise<string[]> =>
        (await after.query(`SELECT tablename FROM pg_tables WHERE schemaname = 'dossier' AND tablename LIKE '%\\_\\_new' ORDER BY 1`)).rows.map((r) => r.tablename as string);
      const tables = CONTRACT.map((t) => `${t.table}__new`);
      for (const t of await leftovers()) expect(tables).toContain(t);
      const again = await maillon(['import', newer], { ...env, DATABASE_URL: server.url });
      expect(again.code, again.stderr).toBe(0);
      expect((await after.query('SELECT count(*)::int AS n FROM dossier.affiliates')).rows[0].n).toBe(3000);
      expect(await leftovers()).toEqual([]);
    } finally {
      await after.end();
    }
  });

  it('maillon serve keeps working through a restart in the middle of a run, and runs every due period once', async () => {
    const port = Number(new URL(server.url).port);
    // Simulation environment: the periods of the tests above (environment T) are not in the way.
    const env = {
      DATABASE_URL: server.url,
      MAILLON_HOME: tmp.dir,
      MAILLON_SENDER: '012345',
      MAILLON_ENV: 'S',
      MAILLON_LOG_LEVEL: 'info',
      MAILLON_NOW: '2026-10-20T08:00:00Z',
      MAILLON_CATCHUP_DAYS: '30',
      MAILLON_TICK_SECONDS: '1',
      MAILLON_STATUS_PORT: '0',
    };
    const due = ['allowance-certificates 2026-09', 'career 2026-Q3', 'contribution-slips 2026-Q3', 'statistics 2026-Q3'];
    // The daily flow would add thirty runs of the catch-up window to a test about the restart.
    const paused = await maillon(['pause', 'incapacity-attestations', '--reason', 'not under test here'], env);
    expect(paused.code, paused.stderr).toBe(0);
    const serve = spawnMaillon(['serve'], env);
    let stderr = '';
    let exitCode: number | null | undefined;
    const exited = new Promise<number | null>((resolve) => serve.on('exit', (c) => resolve((exitCode = c))));
    // The server is shut down as the second scheduled run starts.
    await new Promise<void>((resolve) => {
      serve.stderr!.on('data', (c: Buffer) => {
        stderr += c.toString();
        if ((stderr.match(/"run started"/g) ?? []).length >= 2) resolve();
      });
    });
    await shutDown();
    await startAgain(port);
    const client = new pg.Client({ connectionString: server.url });
    await client.connect();
    try {
      const succeeded = async (): Promise<string[]> =>
        (await client.query(`SELECT flow || ' ' || period AS k FROM maillon.runs WHERE environment = 'S' AND state = 'succeeded' AND NOT dry_run ORDER BY 1`)).rows.map((r) => r.k as string);
      const deadline = Date.now() + 45_000;
      while ((await succeeded()).length < due.length && Date.now() < deadline && exitCode === undefined) await new Promise((r) => setTimeout(r, 250));
      expect(
        exitCode,
        stderr
          .split('\n')
          .filter((l) => !l.startsWith('{'))
          .join('\n'),
      ).toBeUndefined();
      expect(await succeeded()).toEqual(due);
      const files = await client.query(`SELECT f.path FROM maillon.files f JOIN maillon.runs r USING (run_id) WHERE r.environment = 'S'`);
      expect(files.rows.length).toBeGreaterThanOrEqual(due.length);
      for (const f of files.rows) await expect(fs.stat(f.path)).resolves.toBeTruthy();
      const names = files.rows.map((f) => path.basename(f.path as string));
      expect(new Set(names).size).toBe(names.length);
      // The run cut by the restart could not record its end; serve's next runs closed it.
      const open = await client.query(`SELECT flow, period FROM maillon.runs WHERE environment = 'S' AND state = 'running'`);
      expect(open.rows).toEqual([]);
      expect(stderr).toMatch(/"msg":"(scheduled run failed|job queue unreachable: trying again|tick failed|job queue error)"/);
    } finally {
      await client.end();
      serve.kill('SIGTERM');
      expect(await exited).toBe(143);
    }
  });
});
