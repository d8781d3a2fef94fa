import { randomUUID } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importFolder } from '../../src/import/importFolder.js';
import { spawnMaillon } from '../helpers/cli.js';
import { ROOT, scratchDir } from '../helpers/runHarness.js';
import { createTestDatabase, type TestDatabase } from '../helpers/testDatabase.js';

/**
 * `maillon run --all` goes on after a flow fails, and tells that failure as every command does:
 * a connection lost is exit 6 with its sentence (it was exit 1 with the driver's words).
 */
describe('maillon run --all with the database lost under one flow', () => {
  let db: TestDatabase;
  let home: { dir: string; remove: () => Promise<void> };
  let env: Record<string, string>;

  beforeAll(async () => {
    db = await createTestDatabase();
    home = await scratchDir('run-all-lost');
    await importFolder(db.pool, path.join(ROOT, 'fixtures/career/input'));
    env = { DATABASE_URL: db.url, MAILLON_HOME: home.dir, MAILLON_SENDER: '012345', MAILLON_ENV: 'T', MAILLON_LOG_LEVEL: 'info' };
  });
  afterAll(async () => {
    await db?.drop();
    await home?.remove();
  });

  it('exits 6 with the lost-connection sentence, not 1 with the driver message', async () => {
    const release = path.join(os.tmpdir(), `maillon-pause-${process.pid}-${randomUUID()}`);
    const child = spawnMaillon(['run', '--all', '--period', '2026-Q3', '--as-of', '2026-10-10T02:00:00+02:00', '--json'], {
      ...env,
      MAILLON_PAUSE_AT: 'before-publish',
      MAILLON_PAUSE_UNTIL: release,
    });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (c: Buffer) => (stdout += c.toString()));
    const closed = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    try {
      // The first flow's files are checked: it waits to publish, inside its transaction.
      await new Promise<void>((resolve) =>
        child.stderr!.on('data', (c: Buffer) => {
          stderr += c.toString();
          if (stderr.includes('"files checked"')) resolve();
        }),
      );
      const ended = await db.pool.query(`SELECT pg_terminate_backend(pid) AS ok FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() AND application_name = 'maillon'`);
      expect(ended.rows.length).toBeGreaterThan(0);
    } finally {
      await fs.writeFile(release, '');
    }
    const code = await closed;
    await fs.rm(release, { force: true });
    const flow = (JSON.parse(stderr.split('\n').find((l) => l.includes('"files checked"'))!) as { flow: string }).flow;
    expect(stderr).toContain(`maillon: ${flow} 2026-Q3 failed: The connection to PostgreSQL was lost during maillon run (`);
    expect(stderr).toContain('Run it again once the server answers.');
    expect((JSON.parse(stdout) as Record<string, { error?: string }>)[flow]!.error).toMatch(/^The connection to PostgreSQL was lost during maillon run/);
    expect(code).toBe(6);
  });
});
