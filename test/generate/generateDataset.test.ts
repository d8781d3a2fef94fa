import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { career } from '../../pipelines/career.js';
import { incapacityAttestations } from '../../pipelines/incapacityAttestations.js';
import { isValidInss } from '../../src/domain/inss.js';
import { runPipeline } from '../../src/engine/runPipeline.js';
import { generateDataset, INVALID_LIST } from '../../src/generate/generateDataset.js';
import { importFolder } from '../../src/import/importFolder.js';
import { parseLocalDate } from '../../src/period/localDate.js';
import { parsePeriod } from '../../src/period/period.js';
import { runDeps, scratchDir } from '../helpers/runHarness.js';
import { createTestDatabase, type TestDatabase } from '../helpers/testDatabase.js';

async function digest(folder: string): Promise<string> {
  const h = createHash('sha256');
  for (const f of (await fs.readdir(folder)).sort()) h.update(f).update(await fs.readFile(path.join(folder, f)));
  return h.digest('hex');
}

async function rows(folder: string, file: string): Promise<Record<string, string>[]> {
  return parse(await fs.readFile(path.join(folder, file)), { columns: true });
}

describe('generateDataset', () => {
  let tmp: { dir: string; remove: () => Promise<void> };
  let db: TestDatabase;
  const lastQuarter = parsePeriod('2026-Q3');

  beforeAll(async () => {
    tmp = await scratchDir('gen');
    db = await createTestDatabase();
  });
  afterAll(async () => {
    await tmp.remove();
    await db.drop();
  });

  it('is deterministic for a seed and differs for another seed', async () => {
    const a = path.join(tmp.dir, 'a');
    const b = path.join(tmp.dir, 'b');
    const c = path.join(tmp.dir, 'c');
    await generateDataset({ affiliates: 400, seed: 7, out: a, invalidRate: 0.05, lastQuarter });
    await generateDataset({ affiliates: 400, seed: 7, out: b, invalidRate: 0.05, lastQuarter });
    await generateDataset({ affiliates: 400, seed: 8, out: c, invalidRate: 0.05, lastQuarter });
    expect(await digest(a)).toBe(await digest(b));
    expect(await digest(a)).not.toBe(await digest(c));
  });

  it('produces realistic variety: births before and after 2000, BIS numbers, every category and kind, hard names', async () => {
    const folder = path.join(tmp.dir, 'variety');
    await generateDataset({ affiliates: 3000, seed: 3, out: folder, invalidRate: 0, lastQuarter });
    const affiliates = await rows(folder, 'affiliates.csv');
    expect(affiliates.every((a) => isValidInss(a['inss']!))).toBe(true);
    expect(affiliates.some((a) => a['birth_date']! >= '2000-01-01')).toBe(true);
    expect(affiliates.some((a) => Number(a['inss']!.slice(2, 4)) > 20)).toBe(true);
    expect(affiliates.some((a) => a['country'] !== 'BE')).toBe(true);
    for (const ch of ['&', '<', '"', "'", 'é']) expect(affiliates.some((a) => a['last_name']!.includes(ch) || a['first_name']!.includes(ch))).toBe(true);
    const periods = await rows(folder, 'activity_periods.csv');
    for (const cat of ['main', 'complementary', 'after_pension', 'helper_maxi', 'student']) expect(periods.some((p) => p['category'] === cat)).toBe(true);
    for (const kind of ['activity', 'assimilation_sickness', 'continued_insurance']) expect(periods.some((p) => p['kind'] === kind)).toBe(true);
    const contributions = await rows(folder, 'contributions.csv');
    for (const kind of ['provisional', 'regularisation', 'increase']) expect(contributions.some((c) => c['kind'] === kind)).toBe(true);
    const payments = await rows(folder, 'payments.csv');
    expect(payments.some((p) => p['kind'] === 'refund')).toBe(true);
    expect(payments.some((p) => p['contribution_id'] === '')).toBe(true);
    const allowances = await rows(folder, 'allowances.csv');
    for (const kind of ['bridging_right', 'maternity_vouchers', 'family_allowance']) expect(allowances.some((a) => a['kind'] === kind)).toBe(true);
    expect(allowances.some((a) => a['paid_on'] === '')).toBe(true);
    const mutualities = await rows(folder, 'mutuality_affiliations.csv');
    expect(new Set(mutualities.map((m) => m['affiliate_id'])).size).toBeLessThan(affiliates.length);
    expect((await rows(folder, 'companies.csv')).length).toBeGreaterThan(0);
  });

  it('follows the contract, and its invalid affiliates are quarantined by the career flow', async () => {
    const folder = path.join(tmp.dir, 'invalid');
    const gen = await generateDataset({ affiliates: 2000, seed: 11, out: folder, invalidRate: 0.03, lastQuarter });
    expect(gen.invalidAffiliates).toBeGreaterThan(20);
    await importFolder(db.pool, folder);
    const out = await scratchDir('gen-out');
    try {
      const r = await runPipeline(runDeps(db.pool, out.dir), {
        pipeline: career,
        period: lastQuarter,
        environment: 'S',
        sender: '012345',
        asOf: new Date('2026-10-10T00:00:00Z'),
        dryRun: false,
      });
      expect(r.counts.extracted).toBe(r.counts.emitted + r.counts.quarantined);
      expect(r.counts.quarantined).toBeGreaterThan(0);
      expect(Object.keys(r.quarantineByRule).sort()).toEqual(['activity-without-category', 'inss-check-digit', 'period-incoherent']);
      // Exactly the invalid affiliates the flow extracted are quarantined, each under its fault's rule.
      const invalid = (await fs.readFile(path.join(folder, INVALID_LIST), 'utf8'))
        .trim()
        .split('\n')
        .map((l) => l.split(' '));
      expect(invalid.length).toBe(gen.invalidAffiliates);
      const outcomes = await db.pool.query<{ source_key: string; outcome: string; rule: string | null }>('SELECT source_key, outcome, rule FROM maillon.record_outcomes WHERE run_id = $1', [r.runId]);
      const extracted = new Set(outcomes.rows.map((o) => o.source_key));
      const expected = invalid
        .filter(([id]) => extracted.has(id!))
        .map(([id, rule]) => `${id} ${rule}`)
        .sort();
      const quarantined = outcomes.rows
        .filter((o) => o.outcome === 'quarantined')
        .map((o) => `${o.source_key} ${o.rule}`)
        .sort();
      expect(quarantined).toEqual(expected);
    } finally {
      await out.remove();
    }
  });

  it('writes incapacity requests over the week up to the last request day, which the daily flow answers', async () => {
    const folder = path.join(tmp.dir, 'requests');
    await generateDataset({ affiliates: 3000, seed: 5, out: folder, invalidRate: 0.03, lastQuarter, lastRequestDay: parseLocalDate('2026-09-30') });
    const requests = await rows(folder, 'incapacity_requests.csv');
    expect(requests.length).toBeGreaterThan(40);
    expect(new Set(requests.map((r) => r['requested_on'])).size).toBe(7);
    expect(requests.every((r) => r['requested_on']! >= '2026-09-24' && r['requested_on']! <= '2026-09-30')).toBe(true);
    expect(new Set(requests.map((r) => r['request_id'])).size).toBe(requests.length);
    await importFolder(db.pool, folder);
    const out = await scratchDir('gen-requests');
    try {
      const r = await runPipeline(runDeps(db.pool, out.dir), {
        pipeline: incapacityAttestations,
        period: parsePeriod('2026-09-30'),
        environment: 'S',
        sender: '012345',
        asOf: new Date('2026-10-01T06:00:00+02:00'),
        dryRun: false,
      });
      expect(r.counts.extracted).toBe(requests.filter((q) => q['requested_on'] === '2026-09-30').length);
      expect(r.counts.extracted).toBe(r.counts.emitted + r.counts.quarantined);
      expect(r.counts.emitted).toBeGreaterThan(0);
      expect(new Set(r.files.map((f) => f.receiver)).size).toBeGreaterThan(1);
      for (const rule of Object.keys(r.quarantineByRule)) expect(['inss-check-digit', 'period-incoherent', 'activity-without-category', 'incapacity-start-after-request']).toContain(rule);
    } finally {
      await out.remove();
    }
  });
});
