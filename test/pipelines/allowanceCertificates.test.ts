import fs from 'node:fs/promises';
import { XMLParser } from 'fast-xml-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { allowanceCertificates } from '../../pipelines/allowanceCertificates.js';
import type { RunResult } from '../../src/engine/runPipeline.js';
import { buildReport } from '../../src/reconcile/report.js';
import { createFlowFixture, type FlowFixture, invertedAffiliationsFixture, outcomeOf } from '../helpers/flowFixture.js';
import { expectGolden, xmllint } from '../helpers/golden.js';

const parser = new XMLParser({ parseTagValue: false, isArray: (n) => n === 'Attestation' });

async function certificates(r: RunResult): Promise<Record<string, any[]>> {
  const out: Record<string, any[]> = {};
  for (const f of r.files) out[f.receiver] = parser.parse(await fs.readFile(f.path, 'utf8')).ALLC.Attestation;
  return out;
}

describe('allowance-certificates on the 2024 fixture', () => {
  let fx: FlowFixture;
  let dec2018: RunResult;
  let mar2024: RunResult;
  beforeAll(async () => {
    fx = await createFlowFixture();
    dec2018 = await fx.run(allowanceCertificates, '2018-12');
    mar2024 = await fx.run(allowanceCertificates, '2024-03');
  });
  afterAll(async () => fx.close());

  it('writes the golden files, one per receiver, valid against the XSD', async () => {
    await expectGolden('allowance-certificates', [...dec2018.files, ...mar2024.files]);
    for (const f of [...dec2018.files, ...mar2024.files]) await xmllint(f.path, 'allowance-certificates/v1.xsd');
  });

  it('routes family allowances before regionalisation to the body of the postal code region', async () => {
    const c = await certificates(dec2018);
    expect(Object.keys(c).sort()).toEqual(['FAMIWAL', 'IRISCARE', 'OPGROEIEN']);
    expect(c['FAMIWAL']!.map((a) => [a.INSS, a.ChildINSS, a.Amount])).toEqual([['62022807018', '15110578964', '20000']]); // Eupen 4700
    expect(c['IRISCARE']!.map((a) => a.INSS)).toEqual(['90031518119']);
    expect(c['OPGROEIEN']!.map((a) => a.INSS)).toEqual(['70010145522']);
  });

  it('routes bridging right to the insurer and vouchers to the issuer; a granted, unpaid allowance says so', async () => {
    const c = await certificates(mar2024);
    expect(c['OA600']!.map((a) => [a.AllowanceKind, a.Amount, a.PaymentStatus, a.PaidOn])).toEqual([['BRG', '171000', 'PAI', '2024-03-15']]);
    expect(c['SVISSUER']!.map((a) => [a.AllowanceKind, a.Vouchers, a.PaymentStatus, a.PaidOn])).toEqual([['MAT', '105', 'GRA', undefined]]);
  });

  it('quarantines what no receiver can take, with stable rule ids', async () => {
    const dec = await buildReport(fx.db.pool, allowanceCertificates, '2018-12', 'T', new Date('2025-01-10T12:00:00Z'));
    expect(dec.quarantine.map((q) => [q.rule, q.sourceKey])).toEqual([
      ['family-allowance-no-region', 'L02-F'],
      ['no-insurer', 'L03-B'],
    ]);
    expect(dec.counts).toEqual({ extracted: 5, emitted: 3, quarantined: 2 });
    const dec2019 = await fx.run(allowanceCertificates, '2019-12');
    // Brussels certifies until 2019-12, Flanders only until 2018-12.
    expect(dec2019.files.map((f) => f.receiver)).toEqual(['IRISCARE']);
    expect(dec2019.quarantineByRule).toEqual({ 'family-allowance-regionalised': 1 });
    const jul = await fx.run(allowanceCertificates, '2024-07');
    expect(jul.quarantineByRule).toEqual({ 'allowance-amount-missing': 1 });
    expect(jul.files).toEqual([]);
  });
});

describe('allowance-certificates with mutual insurer affiliations that end before they start', () => {
  // D02's affiliation to 300 runs 2024-03-20 → 2024-03-05, D06's 2024-08-10 → 2024-03-01, D05's (its
  // only one) 2024-02-20 → 2024-02-10. Before, D02's bridging right of March went to OA600 as if the
  // affiliation were not there. A bridging right is quarantined in a month such an affiliation
  // reaches into, its dates read in either order; certificates routed without the insurer are not.
  let fx: FlowFixture;
  let mar: RunResult;
  let apr: RunResult;
  let jun: RunResult;
  beforeAll(async () => {
    fx = await invertedAffiliationsFixture();
    mar = await fx.run(allowanceCertificates, '2024-03');
    apr = await fx.run(allowanceCertificates, '2024-04');
    jun = await fx.run(allowanceCertificates, '2024-06');
  });
  afterAll(async () => fx.close());

  it('quarantines the bridging right as period-incoherent, naming the affiliation, and only in the months it spans', async () => {
    expect(await outcomeOf(fx, mar, 'L02-B3')).toBe('period-incoherent');
    expect(await outcomeOf(fx, apr, 'L02-B4')).toBe('emitted');
    // D05's affiliation lies in February: June's bridging right still has no insurer.
    expect(await outcomeOf(fx, jun, 'L05-B')).toBe('no-insurer');
    // D06's maternity vouchers go to the voucher issuer whatever its insurer.
    expect(await outcomeOf(fx, mar, 'L06-M')).toBe('emitted');
    expect((await certificates(apr))['OA600']!.map((a) => a.AllowanceReference)).toEqual(['L02-B4']);
    const report = await buildReport(fx.db.pool, allowanceCertificates, '2024-03', 'T', new Date('2025-01-10T12:00:00Z'));
    expect(report.quarantine).toEqual([
      {
        rule: 'period-incoherent',
        sourceKey: 'L02-B3',
        message: 'the mutual insurer affiliation of D02 (insurer 300) ends (2024-03-05) before it starts (2024-03-20); correct the dates in the dossier',
      },
    ]);
    expect(report.counts).toEqual({ extracted: 2, emitted: 1, quarantined: 1 });
    expect(report.checks.every((c) => c.ok)).toBe(true);
  });
});
