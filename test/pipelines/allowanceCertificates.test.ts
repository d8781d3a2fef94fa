import fs from 'node:fs/promises';
import { XMLParser } from 'fast-xml-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { allowanceCertificates } from '../../pipelines/allowanceCertificates.js';
import type { RunResult } from '../../src/engine/runPipeline.js';
import { buildReport } from '../../src/reconcile/report.js';
import { createFlowFixture, type FlowFixture } from '../helpers/flowFixture.js';
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
