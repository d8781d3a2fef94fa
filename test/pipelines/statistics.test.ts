import fs from 'node:fs/promises';
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { statistics, statisticsCsv } from '../../pipelines/statistics.js';
import type { RunResult } from '../../src/engine/runPipeline.js';
import { SchemaConformanceError } from '../../src/errors/errors.js';
import { verifyManifest } from '../../src/render/csvTables.js';
import type { WrittenPart } from '../../src/render/receiverWriter.js';
import { createFlowFixture, type FlowFixture, outcomesByPeriod, straddlingFixture } from '../helpers/flowFixture.js';
import { expectGolden } from '../helpers/golden.js';
import { scratchDir } from '../helpers/runHarness.js';

const read = async (file: string): Promise<Record<string, string>[]> => parse(await fs.readFile(file), { columns: true });

describe('statistics on the 2024 fixture (2024-Q1)', () => {
  let fx: FlowFixture;
  let result: RunResult;
  beforeAll(async () => {
    fx = await createFlowFixture();
    result = await fx.run(statistics, '2024-Q1');
  });
  afterAll(async () => fx.close());

  it('sends one CSV per table and the manifest as the parts of one submission, equal to the golden files', async () => {
    expect(result.files.map((f) => f.name)).toEqual([1, 2, 3, 4, 5].map((i) => `FI.STAT.012345.20250110.00001.T.5.${i}`));
    await expectGolden('statistics', result.files);
  });

  it('aggregates by category, sex, age band and region; contributions, allowances and companies of the period', async () => {
    const [affiliates, contributions, allowances, companies] = await Promise.all(result.files.slice(0, 4).map((f) => read(f.path)));
    const cell = (cat: string, sex: string, band: string, region: string) =>
      affiliates!.find((r) => r['category'] === cat && r['sex'] === sex && r['age_band'] === band && r['region'] === region)?.['affiliates'];
    expect(cell('main', 'F', '35-44', 'brussels')).toBe('1'); // D01, 38 on 31 March 2024
    expect(cell('complementary', 'M', '<25', 'flanders')).toBe('1'); // D03, born 2003, category at the end of Q1
    expect(cell('complementary', 'M', '45-54', 'abroad')).toBe('1'); // D02 lives in Paris
    expect(cell('after_pension', 'M', '55-64', 'wallonia')).toBe('1'); // D05 turned 62 on 28 February
    expect(affiliates!.reduce((n, r) => n + Number(r['affiliates']), 0)).toBe(8);
    expect(contributions).toEqual([
      { kind: 'increase', contributions: '1', charged_cents: '2615', collected_cents: '2615', outstanding_cents: '0' },
      { kind: 'provisional', contributions: '8', charged_cents: '395455', collected_cents: '308284', outstanding_cents: '87171' }, // D11 paid on 1 January 2025, before the as-of day
      { kind: 'regularisation', contributions: '1', charged_cents: '12000', collected_cents: '0', outstanding_cents: '12000' },
    ]);
    expect(allowances).toEqual([
      { kind: 'bridging_right', allowances: '1', amount_cents: '171000', vouchers: '0' },
      { kind: 'maternity_vouchers', allowances: '1', amount_cents: '0', vouchers: '105' },
    ]);
    expect(companies).toEqual([{ companies: '2', charged_cents: '139820', paid_cents: '89973' }]);
  });

  it('counts the quarantined records in the manifest and excludes them from the aggregates', async () => {
    const manifest = await read(result.files[4]!.path);
    expect(manifest.at(-1)).toEqual({ table: 'quarantined', rows: '', source_records: '3', column: '', sum: '' });
    expect(result.quarantineByRule).toEqual({ 'inss-check-digit': 2, 'company-number-check-digit': 1 });
    expect(result.counts).toEqual({ extracted: 25, emitted: 22, quarantined: 3 });
    expect(manifest.filter((m) => m['column'] === 'charged_cents').map((m) => [m['table'], m['sum']])).toEqual([
      ['contributions', '410070'],
      ['companies', '139820'],
    ]);
  });

  it('refuses a manifest whose totals do not match its tables', async () => {
    const tmp = await scratchDir('manifest');
    try {
      const parts: WrittenPart[] = [];
      for (const f of result.files) {
        const copy = `${tmp.dir}/${f.name}`;
        await fs.copyFile(f.path, copy);
        const table = f.part === 5 ? 'manifest' : statisticsCsv.tables[f.part - 1]!.name;
        parts.push({ fileKey: `FPSSS#${table}`, format: 'csv', tmpPath: copy, records: f.records, bytes: f.bytes, sha256: f.sha256 });
      }
      await expect(verifyManifest(statisticsCsv, parts)).resolves.toBeUndefined();
      const manifest = parts[4]!.tmpPath;
      await fs.writeFile(manifest, (await fs.readFile(manifest, 'utf8')).replace('contributions,3,10,charged_cents,410070', 'contributions,3,10,charged_cents,410071'));
      await expect(verifyManifest(statisticsCsv, parts)).rejects.toBeInstanceOf(SchemaConformanceError);
    } finally {
      await tmp.remove();
    }
  });
});

describe('statistics with an activity whose dates straddle quarters the wrong way (D10: 2024-08-10 → 2024-03-01)', () => {
  // As in career and contribution-slips: read in either order its dates span 2024-Q1 to 2024-Q3,
  // where D10 is quarantined instead of missing from the affiliates' table and from the manifest.
  let fx: FlowFixture;
  beforeAll(async () => {
    fx = await straddlingFixture();
  });
  afterAll(async () => fx.close());

  it('quarantines the affiliate as period-incoherent in every quarter its dates span, and only there', async () => {
    const outcomes = await outcomesByPeriod(fx, statistics, ['2023-Q4', '2024-Q1', '2024-Q2', '2024-Q3', '2024-Q4'], 'affiliate:D10');
    expect(outcomes).toEqual({ '2023-Q4': 'emitted', '2024-Q1': 'period-incoherent', '2024-Q2': 'period-incoherent', '2024-Q3': 'period-incoherent', '2024-Q4': 'absent' });
  });
});
