import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { belcotax28118 } from '../../pipelines/belcotax28118.js';
import { loadConfig } from '../../src/config/config.js';
import { fundIdentityFrom, placeholderFund } from '../../src/config/fundConfig.js';
import { runPipeline, type RunResult } from '../../src/engine/runPipeline.js';
import { generateDataset } from '../../src/generate/generateDataset.js';
import { importFolder } from '../../src/import/importFolder.js';
import { parsePeriod } from '../../src/period/period.js';
import { dossierOf, expectSection6 } from '../helpers/belcotaxSection6.js';
import { createFlowFixture, type FlowFixture } from '../helpers/flowFixture.js';
import { FUND_BLOCKS_ENV, REAL_FUND_ENV } from '../helpers/fund.js';
import { xmllint } from '../helpers/golden.js';
import { runDeps, scratchDir } from '../helpers/runHarness.js';
import { createTestDatabase, type TestDatabase } from '../helpers/testDatabase.js';

describe('the Belcotax file against shared/domain.md §6, field by field', () => {
  describe('on the 2024 fixture', () => {
    let fx: FlowFixture;
    beforeAll(async () => {
      fx = await createFlowFixture();
    });
    afterAll(async () => fx.close());

    it('has the tree, every field in order, the values of the dossier and the fund, and the trailer arithmetic', async () => {
      const run = await fx.run(belcotax28118, '2024', 'T');
      const { fiches } = await expectSection6(run.files[0]!.path, { year: 2024, fund: placeholderFund(), version: 0, dossier: await dossierOf(fx.db.pool, run, 2024, '2025-01-10') });
      expect(fiches.map((f) => f.f2010_referentie)).toEqual(['D02', 'D07']);
    });

    it('writes a company number configured with 9 digits in its 10-digit form in v0024, a1005, every f2005 and r8005', async () => {
      const fund = loadConfig({ ...REAL_FUND_ENV, MAILLON_FUND_COMPANY_NUMBER: '403019261' }, '/').fund;
      const run = await runPipeline(
        { ...runDeps(fx.db.pool, fx.outbox, '2025-01-10T02:00:00+01:00'), fund },
        { pipeline: belcotax28118, period: parsePeriod('2024'), environment: 'S', sender: '012345', dryRun: false },
      );
      const text = await fs.readFile(run.files[0]!.path, 'utf8');
      const written = [...text.matchAll(/<(v0024_nationaalnr|a1005_registratienummer|f2005_registratienummer|r8005_registratienummer)>([^<]*)</g)].map((m) => `${m[1]} ${m[2]}`);
      expect(written).toEqual(['v0024_nationaalnr', 'a1005_registratienummer', 'f2005_registratienummer', 'f2005_registratienummer', 'r8005_registratienummer'].map((t) => `${t} 0403019261`));
      await xmllint(run.files[0]!.path, 'belcotax-281-18/v2.xsd');
    });
  });

  describe('on generated data with affiliates abroad, and the French and German blocks', () => {
    let db: TestDatabase;
    let tmp: { dir: string; remove: () => Promise<void> };
    let run: RunResult;
    const fund = fundIdentityFrom({ ...REAL_FUND_ENV, ...FUND_BLOCKS_ENV, MAILLON_FUND_LANGUAGE: 'nl' }, 'T');
    beforeAll(async () => {
      db = await createTestDatabase();
      tmp = await scratchDir('belcotax-gen');
      const data = path.join(tmp.dir, 'data');
      // Seed 21 gives, in 2025, beneficiaries in France, Luxembourg, the United States and Jersey.
      await generateDataset({ affiliates: 8000, seed: 21, out: data, invalidRate: 0.02, lastQuarter: parsePeriod('2025-Q4') });
      await importFolder(db.pool, data);
      const asOf = '2026-01-15T02:00:00+01:00';
      run = await runPipeline(
        { ...runDeps(db.pool, path.join(tmp.dir, 'outbox'), asOf), fund },
        {
          pipeline: belcotax28118,
          period: parsePeriod('2025'),
          environment: 'T',
          sender: '012345',
          asOf: new Date(asOf),
          dryRun: false,
        },
      );
    });
    afterAll(async () => {
      await db.drop();
      await tmp.remove();
    });

    it("writes every emitted beneficiary's fiche as §6 says, foreign ones with their NIS code and foreign postal code", async () => {
      const dossier = await dossierOf(db.pool, run, 2025, '2026-01-15');
      const { fiches } = await expectSection6(run.files[0]!.path, { year: 2025, fund, version: 0, dossier });
      const abroad = fiches.filter((f) => f.f2018_landwoonplaats !== '150').map((f) => f.f2018_landwoonplaats);
      expect(new Set(abroad)).toEqual(new Set(['00111', '00113', '00402']));
      expect(fiches.length).toBeGreaterThan(50);
      await xmllint(run.files[0]!.path, 'belcotax-281-18/v2.xsd');
    });

    it('quarantines the beneficiaries living in Jersey (no NIS code) under country-without-nis-code; counts reconcile', async () => {
      const q = await db.pool.query<{ source_key: string; rule: string; country: string }>(
        `SELECT o.source_key, o.rule, a.country FROM maillon.record_outcomes o JOIN dossier.affiliates a ON a.affiliate_id = o.source_key
         WHERE o.run_id = $1 AND o.outcome = 'quarantined' ORDER BY o.source_key`,
        [run.runId],
      );
      const jersey = q.rows.filter((r) => r.country === 'JE');
      expect(jersey.length).toBeGreaterThan(0);
      expect(jersey.every((r) => ['country-without-nis-code', 'inss-check-digit'].includes(r.rule))).toBe(true);
      expect(q.rows.filter((r) => r.rule === 'country-without-nis-code').every((r) => r.country === 'JE')).toBe(true);
      expect(run.quarantineByRule['country-without-nis-code']).toBeGreaterThan(0);
      expect(run.counts.extracted).toBe(run.counts.emitted + run.counts.quarantined);
    });
  });
});
