import fs from 'node:fs/promises';
import path from 'node:path';
import { XMLParser } from 'fast-xml-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { career } from '../../pipelines/career.js';
import { runPipeline, type RunResult } from '../../src/engine/runPipeline.js';
import { importFolder } from '../../src/import/importFolder.js';
import { parsePeriod } from '../../src/period/period.js';
import { buildReport } from '../../src/reconcile/report.js';
import { type FlowFixture, outcomesByPeriod, straddlingFixture } from '../helpers/flowFixture.js';
import { expectGolden, xmllint } from '../helpers/golden.js';
import { ROOT, runDeps, scratchDir } from '../helpers/runHarness.js';
import { createTestDatabase, type TestDatabase } from '../helpers/testDatabase.js';

const FIXTURE = path.join(ROOT, 'fixtures/career/input');
const GOLDEN = path.join(ROOT, 'fixtures/career/golden/FI.CARR.012345.20261010.00001.T.1.1');
const AS_OF = new Date('2026-10-10T02:00:00+02:00');

describe('career flow on the hand-checked fixture (2026-Q3, as of 2026-10-10)', () => {
  let db: TestDatabase;
  let out: { dir: string; remove: () => Promise<void> };
  let result: RunResult;
  let xml: string;

  beforeAll(async () => {
    db = await createTestDatabase();
    out = await scratchDir('career');
    await importFolder(db.pool, FIXTURE);
    result = await runPipeline(runDeps(db.pool, out.dir), {
      pipeline: career,
      period: parsePeriod('2026-Q3'),
      environment: 'T',
      sender: '012345',
      asOf: AS_OF,
      dryRun: false,
    });
    xml = await fs.readFile(result.files[0]!.path, 'utf8');
  });
  afterAll(async () => {
    await db.drop();
    await out.remove();
  });

  it('writes exactly the golden bytes', async () => {
    expect(result.files.map((f) => f.name)).toEqual(['FI.CARR.012345.20261010.00001.T.1.1']);
    await expectGolden('career', result.files);
  });

  it('conforms to schemas/career/v1.xsd according to xmllint', async () => {
    await xmllint(GOLDEN, 'career/v1.xsd');
    await xmllint(result.files[0]!.path, 'career/v1.xsd');
  });

  it('carries the quarter of each affiliate as flows.md defines it', () => {
    const doc = new XMLParser({ parseTagValue: false, isArray: (name) => ['Attestation', 'CareerPeriod'].includes(name) }).parse(xml);
    const byInss = new Map<string, Record<string, any>>(doc.CARR.Attestation.map((a: any) => [a.INSS, a]));
    const summary = (inss: string) => {
      const a = byInss.get(inss)!;
      const c = a.Contribution;
      return {
        periods: a.CareerPeriods.CareerPeriod.map((p: any) => `${p.Kind}/${p.Category ?? '-'} ${p.StartDate}..${p.EndDate}`),
        due: c.Due,
        paid: c.Paid,
        full: c.PaidInFull,
        date: c.PaidInFullDate,
      };
    };
    // On time, an unallocated payment ignored.
    expect(summary('85073003328')).toEqual({ periods: ['ACT/MAI 2026-07-01..2026-09-30'], due: '87171', paid: '87171', full: 'true', date: '2026-08-14' });
    // Born after 2000, partial payment.
    expect(summary('03051212332')).toEqual({ periods: ['ACT/COM 2026-07-01..2026-09-30'], due: '23412', paid: '10000', full: 'false', date: undefined });
    // BIS number, category change inside the quarter, paid on the last day.
    expect(summary('78451823415')).toEqual({
      periods: ['ACT/MAI 2026-07-01..2026-08-15', 'ACT/PEN 2026-08-16..2026-09-30'],
      due: '128125',
      paid: '128125',
      full: 'true',
      date: '2026-09-30',
    });
    // Assimilation only: nothing due.
    expect(summary('70010145522')).toEqual({ periods: ['ASI/- 2026-07-10..2026-09-05'], due: '0', paid: '0', full: 'true', date: undefined });
    // Unpaid quarter; the increase is not part of the due amount.
    expect(summary('62022807018')).toEqual({ periods: ['ACT/MAI 2026-07-01..2026-09-30'], due: '87171', paid: '0', full: 'false', date: undefined });
    // Paid late, after the as-of day: only the first payment counts.
    expect(summary('90031518119')).toMatchObject({ due: '87171', paid: '40000', full: 'false', date: undefined });
    // A regularisation adds to the due amount; its payment completes the quarter.
    expect(summary('75112006616')).toMatchObject({ due: '99171', paid: '99171', full: 'true', date: '2026-09-20' });
    // Abroad; overpaid then refunded; the overpayment reached the due amount first.
    expect(summary('68070431176')).toEqual({
      periods: ['ACT/COM 2026-07-01..2026-07-31', 'CON/- 2026-08-01..2026-09-30'],
      due: '23412',
      paid: '23412',
      full: 'true',
      date: '2026-07-03',
    });
  });

  it('quarantines a bad check digit and an incoherent period, and never sends them', () => {
    expect(result.counts).toEqual({ extracted: 10, emitted: 8, quarantined: 2 });
    expect(result.quarantineByRule).toEqual({ 'inss-check-digit': 1, 'period-incoherent': 1 });
    expect(xml).not.toContain('80022920241');
    expect(xml).not.toContain('92081713384');
    expect(xml).not.toContain('60061508786'); // A011's activity ended before the quarter
  });

  it('reports every record: extracted = emitted + quarantined, with rule ids and source keys', async () => {
    const report = await buildReport(db.pool, career, '2026-Q3', 'T', new Date('2026-10-20T12:00:00Z'));
    expect(report.counts).toEqual({ extracted: 10, emitted: 8, quarantined: 2 });
    expect(report.quarantine.map((q) => [q.rule, q.sourceKey])).toEqual([
      ['inss-check-digit', 'A009'],
      ['period-incoherent', 'A010'],
    ]);
    expect(report.quarantine.every((q) => !q.message.includes('80022920241'))).toBe(true);
    expect(report.files).toEqual([expect.objectContaining({ name: 'FI.CARR.012345.20261010.00001.T.1.1', receiver: 'INASTI', records: 8 })]);
    expect(report.deadline).toBe('2026-10-31');
    expect(report.daysRemaining).toBe(11);
    expect(report.checks.every((c) => c.ok)).toBe(true);
  });

  it('records the lineage of every emitted record: file and position', async () => {
    const rows = await db.pool.query(`SELECT source_key, position, attestation_id::text FROM maillon.record_outcomes WHERE run_id = $1 AND outcome = 'emitted' ORDER BY position`, [result.runId]);
    expect(rows.rows.map((r) => r.source_key)).toEqual(['A001', 'A002', 'A003', 'A004', 'A005', 'A006', 'A007', 'A008']);
    expect(rows.rows.map((r) => r.position)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    for (const r of rows.rows) expect(xml).toContain(`<AttestationID>${r.attestation_id}</AttestationID>`);
  });
});

describe('career with an activity whose dates straddle quarters the wrong way (2024 fixture, D10: 2024-08-10 → 2024-03-01)', () => {
  // As written it overlaps no quarter (it starts after Q1 and Q2 end, it ends before Q3 starts), so
  // D10's record was neither sent nor quarantined anywhere. Read in either order its dates span
  // 2024-Q1 to 2024-Q3: there the record is quarantined. D10's coherent activity ends 2023-12-31.
  let fx: FlowFixture;
  beforeAll(async () => {
    fx = await straddlingFixture();
  });
  afterAll(async () => fx.close());

  it('quarantines the record as period-incoherent in every quarter its dates span, and only there', async () => {
    const outcomes = await outcomesByPeriod(fx, career, ['2023-Q4', '2024-Q1', '2024-Q2', '2024-Q3', '2024-Q4'], 'D10');
    expect(outcomes).toEqual({ '2023-Q4': 'emitted', '2024-Q1': 'period-incoherent', '2024-Q2': 'period-incoherent', '2024-Q3': 'period-incoherent', '2024-Q4': 'absent' });
    const report = await buildReport(fx.db.pool, career, '2024-Q2', 'T', new Date('2025-01-10T12:00:00Z'));
    expect(report.quarantine).toContainEqual({ rule: 'period-incoherent', sourceKey: 'D10', message: 'a period ends (2024-03-01) before it starts (2024-08-10); correct the dates in the dossier' });
    expect(report.checks.every((c) => c.ok)).toBe(true);
  });
});
