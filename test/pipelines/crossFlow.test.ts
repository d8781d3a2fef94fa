import fs from 'node:fs/promises';
import path from 'node:path';
import { parse } from 'csv-parse/sync';
import { XMLParser } from 'fast-xml-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { career } from '../../pipelines/career.js';
import { contributionSlips } from '../../pipelines/contributionSlips.js';
import { statistics } from '../../pipelines/statistics.js';
import { type RunResult, runPipeline } from '../../src/engine/runPipeline.js';
import { generateDataset } from '../../src/generate/generateDataset.js';
import { importFolder } from '../../src/import/importFolder.js';
import { parsePeriod } from '../../src/period/period.js';
import { runDeps, scratchDir } from '../helpers/runHarness.js';
import { createTestDatabase, type TestDatabase } from '../helpers/testDatabase.js';

const QUARTER = parsePeriod('2026-Q3');
const AS_OF = '2026-10-15T12:00:00+02:00';
const parser = new XMLParser({ parseTagValue: false, isArray: (n) => n === 'Attestation' });

async function contributionStates(r: RunResult, root: string): Promise<Map<string, unknown>> {
  const states = new Map<string, unknown>();
  for (const f of r.files) {
    for (const a of parser.parse(await fs.readFile(f.path, 'utf8'))[root].Attestation ?? []) {
      const c = a.Contribution;
      states.set(a.INSS, [c.Due, c.Paid, c.PaidInFull, c.PaidInFullDate ?? null]);
    }
  }
  return states;
}

describe('consistency across flows on generated data', () => {
  let db: TestDatabase;
  let tmp: { dir: string; remove: () => Promise<void> };
  let runs: Record<string, RunResult>;

  beforeAll(async () => {
    db = await createTestDatabase();
    tmp = await scratchDir('cross');
    const data = path.join(tmp.dir, 'data');
    await generateDataset({ affiliates: 3000, seed: 21, out: data, invalidRate: 0, lastQuarter: QUARTER });
    await importFolder(db.pool, data);
    const deps = runDeps(db.pool, path.join(tmp.dir, 'outbox'), AS_OF);
    const run = (pipeline: typeof career | typeof contributionSlips | typeof statistics) =>
      runPipeline(deps, { pipeline, period: QUARTER, environment: 'S', sender: '012345', asOf: new Date(AS_OF), dryRun: false });
    runs = { career: await run(career), slips: await run(contributionSlips), statistics: await run(statistics) };
  });
  afterAll(async () => {
    await db.drop();
    await tmp.remove();
  });

  it('career and contribution-slips agree on due, paid and paid-in-full (flag and date) for every affiliate in both', async () => {
    const fromCareer = await contributionStates(runs['career']!, 'CARR');
    const fromSlips = await contributionStates(runs['slips']!, 'BONC');
    expect(fromSlips.size).toBeGreaterThan(1000);
    let compared = 0;
    for (const [inss, state] of fromSlips) {
      expect(fromCareer.get(inss), inss).toEqual(state);
      compared++;
    }
    expect(compared).toBe(fromSlips.size);
    expect([...fromSlips.values()].some((s) => (s as unknown[])[2] === 'true')).toBe(true);
    expect([...fromSlips.values()].some((s) => (s as unknown[])[2] === 'false')).toBe(true);
  });

  it('statistics totals equal the sums over the dossier tables, computed by independent SQL', async () => {
    const st = runs['statistics']!;
    expect(st.counts.quarantined).toBe(0);
    const [affiliates, contributions, allowances, companies] = await Promise.all(
      st.files.slice(0, 4).map(async (f) => parse<Record<string, any>>(await fs.readFile(f.path), { columns: true, cast: (v, c) => (c.header || Number.isNaN(Number(v)) ? v : Number(v)) })),
    );
    const sum = (rows: Record<string, any>[], col: string): number => rows.reduce((n, r) => n + Number(r[col]), 0);
    const q = async (sql: string): Promise<any[]> => (await db.pool.query(sql)).rows;

    const [aff] = await q(`SELECT count(DISTINCT affiliate_id)::int AS n FROM dossier.activity_periods
      WHERE kind = 'activity' AND start_date <= '2026-09-30' AND (end_date IS NULL OR end_date >= '2026-07-01')`);
    expect(sum(affiliates!, 'affiliates')).toBe(aff.n);

    const byKind = await q(`SELECT c.kind, count(*)::int AS n, sum(c.amount_cents)::bigint AS charged,
        coalesce(sum((SELECT sum(CASE WHEN p.kind = 'refund' THEN -p.amount_cents ELSE p.amount_cents END) FROM dossier.payments p
                      WHERE p.contribution_id = c.contribution_id AND p.value_date <= '2026-10-15')), 0)::bigint AS collected
      FROM dossier.contributions c WHERE c.quarter = '2026-Q3' GROUP BY c.kind ORDER BY c.kind`);
    expect(contributions!.map((r) => [r['kind'], r['contributions'], r['charged_cents'], r['collected_cents'], r['outstanding_cents']])).toEqual(
      byKind.map((r) => [r.kind, r.n, Number(r.charged), Number(r.collected), Number(r.charged) - Number(r.collected)]),
    );

    const al = await q(`SELECT kind, count(*)::int AS n, coalesce(sum(amount_cents), 0)::bigint AS amount, coalesce(sum(vouchers), 0)::bigint AS vouchers
      FROM dossier.allowances WHERE month IN ('2026-07', '2026-08', '2026-09') GROUP BY kind ORDER BY kind`);
    expect(allowances!.map((r) => [r['kind'], r['allowances'], r['amount_cents'], r['vouchers']])).toEqual(al.map((r) => [r.kind, r.n, Number(r.amount), Number(r.vouchers)]));

    const [co] = await q(`SELECT count(*)::int AS n, sum(amount_cents)::bigint AS charged, sum(paid_cents)::bigint AS paid FROM dossier.companies WHERE year = 2026`);
    expect(companies).toEqual([{ companies: co.n, charged_cents: Number(co.charged), paid_cents: Number(co.paid) }]);
  });
});
