import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.js';
import { ConfigError } from '../../src/errors/errors.js';
import { importFolder } from '../../src/import/importFolder.js';
import { maillon } from '../helpers/cli.js';
import { createTestPki, type TestPki } from '../helpers/pki.js';
import { ROOT, scratchDir } from '../helpers/runHarness.js';
import { createTestDatabase, type TestDatabase } from '../helpers/testDatabase.js';

/** MAILLON_NOW, MAILLON_CRASH_AT and MAILLON_PAUSE_AT are for tests: production (R) refuses to start with them (issue 20). */
describe('test hooks in production', () => {
  let tmp: { dir: string; remove: () => Promise<void> };
  let pki: TestPki;
  let db: TestDatabase;
  let env: Record<string, string>;

  beforeAll(async () => {
    tmp = await scratchDir('hooks');
    pki = await createTestPki(path.join(tmp.dir, 'pki'));
    db = await createTestDatabase();
    await importFolder(db.pool, path.join(ROOT, 'fixtures/career/input'));
    const receivers = path.join(tmp.dir, 'receivers.json');
    const unreachable = { host: '127.0.0.1', port: 9, user: 'fund', privateKeyPath: 'absent', hostKeyFingerprint: `SHA256:${'A'.repeat(43)}` };
    await fs.writeFile(receivers, JSON.stringify({ '*': unreachable }), { mode: 0o600 });
    env = {
      DATABASE_URL: db.url,
      MAILLON_HOME: tmp.dir,
      MAILLON_SENDER: '012345',
      MAILLON_ENV: 'T',
      MAILLON_RECEIVERS: receivers,
      MAILLON_SIGN_CERT: pki.fundCert,
      MAILLON_SIGN_KEY: pki.fundKey,
    };
  });
  afterAll(async () => {
    await db?.drop();
    await tmp?.remove();
  });

  it('refuses them at start when the environment is R, naming them (exit 2); nothing is written', async () => {
    expect(() => loadConfig({ MAILLON_ENV: 'R', MAILLON_PAUSE_AT: 'after-upload' })).toThrow(ConfigError);
    expect(() => loadConfig({ MAILLON_ENV: 'R', MAILLON_PAUSE_UNTIL: '/tmp/release' })).toThrow('MAILLON_PAUSE_UNTIL is for tests only');
    const status = await maillon(['status'], { ...env, MAILLON_ENV: 'R', MAILLON_NOW: '2027-01-01T00:00:00Z' });
    expect(status.code).toBe(2);
    expect(status.stderr).toContain('MAILLON_NOW is for tests only and may not be set for production (environment R): unset it and start again.');
    const run = await maillon(['run', 'career', '--period', '2026-Q3', '--env', 'R'], { ...env, MAILLON_NOW: '2026-10-10T02:00:00+02:00' });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('MAILLON_NOW is for tests only');
    const send = await maillon(['send', '--env', 'R'], { ...env, MAILLON_CRASH_AT: 'after-go', MAILLON_PAUSE_AT: 'after-upload' });
    expect(send.code).toBe(2);
    expect(send.stderr).toContain('MAILLON_CRASH_AT, MAILLON_PAUSE_AT are for tests only');
    expect((await db.pool.query('SELECT count(*)::int AS n FROM maillon.runs')).rows[0].n).toBe(0);
  });

  it('cancel refuses them for a production submission, which stays as it was', async () => {
    const run = await maillon(['run', 'career', '--period', '2026-Q3', '--env', 'R', '--as-of', '2026-10-10T02:00:00+02:00'], env);
    expect(run.code, run.stderr).toBe(0);
    const id = Number((await db.pool.query(`SELECT submission_id FROM maillon.submissions WHERE environment = 'R'`)).rows[0].submission_id);
    const cancel = await maillon(['cancel', String(id)], { ...env, MAILLON_NOW: '2027-01-01T00:00:00Z' });
    expect(cancel.code).toBe(2);
    expect(cancel.stderr).toContain('MAILLON_NOW is for tests only');
    expect((await db.pool.query('SELECT state FROM maillon.submissions WHERE submission_id = $1', [id])).rows[0].state).toBe('written');
  });
});
