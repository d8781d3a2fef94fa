import { existsSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isValidInss } from '../../src/domain/inss.js';
import { maillon } from '../helpers/cli.js';
import { ROOT, scratchDir } from '../helpers/runHarness.js';
import { createTestDatabase, type TestDatabase } from '../helpers/testDatabase.js';

/** Every 11-digit number that passes the INSS check digits. */
function fullInssIn(text: string): string[] {
  return [...text.matchAll(/(?<!\d)\d{11}(?!\d)/g)].map((m) => m[0]).filter(isValidInss);
}

describe('the maillon command on a real database', () => {
  let db: TestDatabase;
  let home: { dir: string; remove: () => Promise<void> };
  let env: Record<string, string>;
  const logs: string[] = [];

  beforeAll(async () => {
    db = await createTestDatabase();
    home = await scratchDir('cli');
    env = { DATABASE_URL: db.url, MAILLON_HOME: home.dir, MAILLON_SENDER: '012345', MAILLON_ENV: 'T', MAILLON_LOG_LEVEL: 'debug' };
  });
  afterAll(async () => {
    await db.drop();
    await home.remove();
  });

  it('generates, imports, runs and reports, with JSON logs on stderr', async () => {
    const data = path.join(home.dir, 'data');
    const gen = await maillon(['generate', '--affiliates', '500', '--seed', '5', '--invalid-rate', '0.05', '--last-quarter', '2026-Q3', '--out', data], env);
    expect(gen.code).toBe(0);
    const imp = await maillon(['import', data], env);
    logs.push(imp.stderr);
    expect(imp.code).toBe(0);
    expect(imp.stdout).toMatch(/imported \d+ rows/);
    const run = await maillon(['run', 'career', '--period', '2026-Q3', '--as-of', '2026-10-10T02:00:00+02:00'], env);
    logs.push(run.stderr);
    expect(run.code).toBe(0);
    const lines = run.stderr
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { msg: string });
    expect(lines.map((l) => l.msg)).toContain('run succeeded');
    const rep = await maillon(['report', 'career', '--period', '2026-Q3', '--json'], env);
    logs.push(rep.stderr);
    expect(rep.code).toBe(0);
    const report = JSON.parse(rep.stdout);
    expect(Object.keys(report)).toEqual(expect.arrayContaining(['flow', 'period', 'environment', 'asOf', 'counts', 'quarantine', 'files']));
    expect(report).toMatchObject({ flow: 'career', period: '2026-Q3', environment: 'T', asOf: '2026-10-10T00:00:00.000Z' });
    expect(report.counts.extracted).toBe(report.counts.emitted + report.counts.quarantined);
    expect(report.quarantine.length).toBe(report.counts.quarantined);
    expect(report.quarantine[0]).toEqual({ rule: expect.any(String), sourceKey: expect.stringMatching(/^A\d{9}$/), message: expect.any(String) });
    expect(report.files).toHaveLength(1);
    expect(report.files[0]).toEqual(expect.objectContaining({ receiver: 'INASTI', records: report.counts.emitted, bytes: expect.any(Number), sha256: expect.stringMatching(/^[0-9a-f]{64}$/) }));
    expect(existsSync(report.files[0].path)).toBe(true);
    const runs = await maillon(['runs'], env);
    expect(runs.stdout).toMatch(/career\s+2026-Q3\s+T succeeded/);
  });

  it('runs every flow of a period kind with --all', async () => {
    const all = await maillon(['run', '--all', '--period', '2026-Q2', '--as-of', '2026-10-20T02:00:00+02:00', '--json'], env);
    logs.push(all.stderr);
    expect(all.code).toBe(0);
    const results = JSON.parse(all.stdout);
    expect(Object.keys(results)).toEqual(['career', 'contribution-slips', 'statistics']);
    for (const r of Object.values<{ counts: { extracted: number; emitted: number; quarantined: number } }>(results)) {
      expect(r.counts.extracted).toBe(r.counts.emitted + r.counts.quarantined);
    }
    const year = await maillon(['run', '--all', '--period', '2025', '--dry-run', '--json'], env);
    expect(Object.keys(JSON.parse(year.stdout))).toEqual(['tax-attestations', 'belcotax-281-18']);
    const both = await maillon(['run', 'career', '--all', '--period', '2026-Q3'], env);
    expect(both.code).toBe(2);
  });

  it('writes no full INSS in any log line of the run (masked instead)', () => {
    const all = logs.join('\n');
    expect(all.length).toBeGreaterThan(0);
    expect(fullInssIn(all)).toEqual([]);
  });

  it('exits with documented codes and says what is wrong', async () => {
    const badImport = await maillon(['import', path.join(ROOT, 'fixtures/import/broken')], env);
    expect(badImport.code).toBe(3);
    expect(badImport.stderr).toContain('payments.csv:2: amount_cents: expected an integer (euro cents, no decimals), got "12.50"');
    expect(badImport.stderr).toContain('nothing was imported');
    expect(fullInssIn(badImport.stderr)).toEqual([]);
    const wrongKind = await maillon(['run', 'career', '--period', '2026-07'], env);
    expect(wrongKind.code).toBe(2);
    expect(wrongKind.stderr).toContain('runs per quarter');
    const noRun = await maillon(['report', 'career', '--period', '2025-Q1'], env);
    expect(noRun.code).toBe(4);
    expect(noRun.stderr).toContain('No successful run of career for 2025-Q1');
    const badConfig = await maillon(['runs'], { ...env, MAILLON_SENDER: 'x' });
    expect(badConfig.code).toBe(2);
    expect(badConfig.stderr).toContain('MAILLON_SENDER');
  });
});
