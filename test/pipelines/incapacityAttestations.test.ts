import fs from 'node:fs/promises';
import path from 'node:path';
import { XMLParser } from 'fast-xml-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { incapacityAttestations } from '../../pipelines/incapacityAttestations.js';
import { PIPELINES } from '../../pipelines/index.js';
import { loadPipeline } from '../../src/engine/pipelineContracts.js';
import { runPipeline, type RunResult } from '../../src/engine/runPipeline.js';
import { parsePeriod } from '../../src/period/period.js';
import { buildReport } from '../../src/reconcile/report.js';
import { createFlowFixture, DOSSIER_2024, type FlowFixture, importEdited } from '../helpers/flowFixture.js';
import { expectGolden, xmllint } from '../helpers/golden.js';
import { ROOT, runDeps, scratchDir } from '../helpers/runHarness.js';

const parser = new XMLParser({ parseTagValue: false, isArray: (n) => n === 'Attestation' || n === 'ContributionQuarter' });

async function attestations(r: RunResult): Promise<Map<string, Record<string, any>>> {
  const out = new Map<string, Record<string, any>>();
  for (const f of r.files) {
    for (const a of parser.parse(await fs.readFile(f.path, 'utf8')).INCA.Attestation) out.set(a.RequestID, { ...a, receiver: f.receiver });
  }
  return out;
}

const quarters = (a: Record<string, any>): string[] =>
  a.ContributionQuarters.ContributionQuarter.map((q: any) => `${q.Quarter} ${q.Contribution.Due} ${q.Contribution.Paid} ${q.Contribution.PaidInFull} ${q.Contribution.PaidInFullDate ?? '-'}`);

describe('incapacity-attestations on the 2024 fixture (requests of 2024-04-15 and 2024-04-16)', () => {
  let fx: FlowFixture;
  let day15: RunResult;
  let day16: RunResult;
  beforeAll(async () => {
    fx = await createFlowFixture();
    day15 = await fx.run(incapacityAttestations, '2024-04-15');
    day16 = await fx.run(incapacityAttestations, '2024-04-16');
  });
  afterAll(async () => fx.close());

  it('is a registered flow that keeps the engine contracts', () => {
    expect(PIPELINES).toContain(incapacityAttestations);
    expect(() => loadPipeline(incapacityAttestations, `${ROOT}/schemas`)).not.toThrow();
  });

  it('writes one file per asking insurer, equal to the golden files and valid against the XSD', async () => {
    expect(day15.files.map((f) => f.receiver)).toEqual(['OA100', 'OA300', 'OA500', 'OA600']);
    expect(day16.files.map((f) => f.receiver)).toEqual(['OA200']);
    await expectGolden('incapacity-attestations', [...day15.files, ...day16.files]);
    for (const f of [...day15.files, ...day16.files]) await xmllint(f.path, 'incapacity-attestations/v1.xsd');
  });

  it('answers each request of the day: insured on the start day, category, the four quarters before', async () => {
    const a = await attestations(day15);
    expect([...a.keys()].sort()).toEqual(['100-24-0007', '300-24-0040', '500-24-0003', '600-24-0012']);
    // Insured by a main activity; the quarters 2023-Q2..2024-Q1, the increase of 2024-Q1 excluded, paid on the leap day.
    expect(a.get('100-24-0007')).toMatchObject({
      receiver: 'OA100',
      INSS: '85073003328',
      InsurerCode: '100',
      IncapacityStartDate: '2024-04-02',
      Insured: 'true',
      InsuranceKind: 'ACT',
      Category: 'MAI',
    });
    expect(quarters(a.get('100-24-0007')!)).toEqual(['20232 0 0 true -', '20233 0 0 true -', '20234 87171 87171 true 2024-01-05', '20241 87171 87171 true 2024-02-29']);
    // The insurer named in the request receives it, whatever the person's affiliation; paid after the quarter, before the as-of day.
    expect(a.get('300-24-0040')).toMatchObject({ receiver: 'OA300', Category: 'MAI' });
    expect(quarters(a.get('300-24-0040')!)[3]).toBe('20241 87171 87171 true 2025-01-01');
    // Category change inside 2024-Q1: the complementary activity covers the start day; the regularisation counts in due.
    expect(a.get('500-24-0003')).toMatchObject({ receiver: 'OA500', Category: 'COM' });
    expect(quarters(a.get('500-24-0003')!)[3]).toBe('20241 62000 50000 false -');
    // Activity ended on 31 January, assimilation afterwards: not insured on 10 March; the quarters are those of 2023.
    const notInsured = a.get('600-24-0012')!;
    expect(notInsured).toMatchObject({ receiver: 'OA600', Insured: 'false' });
    expect(notInsured.InsuranceKind).toBeUndefined();
    expect(notInsured.Category).toBeUndefined();
    expect(quarters(notInsured).map((q) => q.slice(0, 5))).toEqual(['20231', '20232', '20233', '20234']);
  });

  it('gives each attestation a 15-digit AttestationID made of the day and its extraction ordinal', async () => {
    const ids = [...(await attestations(day15)).values()].map((a) => a.AttestationIdentification.AttestationID).sort();
    // Ordinals in request-id order; 2 (100-24-0008) and 6 (900-24-0001) are quarantined.
    expect(ids).toEqual(['202404150000001', '202404150000003', '202404150000004', '202404150000005']);
  });

  it('quarantines a bad INSS and a start after the request, and accounts for every record', async () => {
    expect(day15.counts).toEqual({ extracted: 6, emitted: 4, quarantined: 2 });
    const report = await buildReport(fx.db.pool, incapacityAttestations, '2024-04-15', 'T', new Date('2025-01-10T12:00:00Z'));
    expect(report.quarantine.map((q) => [q.rule, q.sourceKey])).toEqual([
      ['incapacity-start-after-request', '900-24-0001'],
      ['inss-check-digit', '100-24-0008'],
    ]);
    expect(report.checks.every((c) => c.ok)).toBe(true);
    expect(report.deadline).toBe('2024-04-23');
  });

  it('writes nothing for a day without requests, and reconciles', async () => {
    const quiet = await fx.run(incapacityAttestations, '2024-04-17');
    expect(quiet.counts).toEqual({ extracted: 0, emitted: 0, quarantined: 0 });
    expect(quiet.files).toEqual([]);
    const report = await buildReport(fx.db.pool, incapacityAttestations, '2024-04-17', 'T', new Date('2025-01-10T12:00:00Z'));
    expect(report.checks.every((c) => c.ok)).toBe(true);
  });

  it('has D + 8 days as deadline and runs every day at 06:00 for the previous day', () => {
    expect(incapacityAttestations.deadline(parsePeriod('2024-12-28'))).toBe('2025-01-05');
    expect(incapacityAttestations.schedule).toBe('0 6 * * *');
  });
});

describe('incapacity-attestations with incoherent periods (requests of 2024-04-18, incapacity start 2024-04-05)', () => {
  // The answer looks at the start day and the four quarters before its quarter (2023-Q2..2024-Q1): an
  // activity or continued-insurance period there that ends before it starts quarantines the request.
  const EXTRA = {
    'activity_periods.csv': [
      // The only period near the start day, 10 → 1 April: read either way it may cover 5 April.
      'D10,activity,main,2024-04-10,2024-04-01,',
      // Inside 2023-Q2, the first of the four quarters.
      'D06,continued_insurance,helper_maxi,2023-06-10,2023-06-01,',
      // After the start day, and before 2023-Q2: neither can decide the answer.
      'D05,activity,after_pension,2024-06-10,2024-06-01,',
      'D09,continued_insurance,main,2023-03-10,2023-03-01,',
    ],
    'incapacity_requests.csv': [
      '900-24-0101,D10,900,2024-04-18,2024-04-05',
      '600-24-0102,D06,600,2024-04-18,2024-04-05',
      '500-24-0103,D05,500,2024-04-18,2024-04-05',
      '200-24-0104,D09,200,2024-04-18,2024-04-05',
    ],
  };
  let fx: FlowFixture;
  let day18: RunResult;
  beforeAll(async () => {
    const folder = await scratchDir('incoherent');
    for (const f of await fs.readdir(DOSSIER_2024)) {
      const extra = EXTRA[f as keyof typeof EXTRA] ?? [];
      await fs.writeFile(path.join(folder.dir, f), (await fs.readFile(path.join(DOSSIER_2024, f), 'utf8')) + extra.map((l) => `${l}\n`).join(''));
    }
    fx = await createFlowFixture(folder.dir);
    await folder.remove();
    day18 = await fx.run(incapacityAttestations, '2024-04-18');
  });
  afterAll(async () => fx.close());

  it('quarantines a request whose answer an incoherent period could decide, instead of sending it as not insured', async () => {
    expect(day18.counts).toEqual({ extracted: 4, emitted: 2, quarantined: 2 });
    const report = await buildReport(fx.db.pool, incapacityAttestations, '2024-04-18', 'T', new Date('2025-01-10T12:00:00Z'));
    expect(report.quarantine).toEqual([
      { rule: 'period-incoherent', sourceKey: '600-24-0102', message: 'a period ends (2023-06-01) before it starts (2023-06-10); correct the dates in the dossier' },
      { rule: 'period-incoherent', sourceKey: '900-24-0101', message: 'a period ends (2024-04-01) before it starts (2024-04-10); correct the dates in the dossier' },
    ]);
    expect(report.checks.every((c) => c.ok)).toBe(true);
    const a = await attestations(day18);
    expect([...a.keys()].sort()).toEqual(['200-24-0104', '500-24-0103']);
    expect(a.get('200-24-0104')).toMatchObject({ Insured: 'true', InsuranceKind: 'ACT', Category: 'MAI' });
    expect(a.get('500-24-0103')).toMatchObject({ Insured: 'true', InsuranceKind: 'ACT' });
  });
});

describe('incapacity-attestations corrected record by record', () => {
  const NOW = '2025-01-10T02:00:00+01:00';
  let fx: FlowFixture;
  const request = { pipeline: incapacityAttestations, period: parsePeriod('2024-04-15'), environment: 'T' as const, sender: '012345', asOf: new Date(NOW) };
  beforeAll(async () => {
    fx = await createFlowFixture();
    await fx.run(incapacityAttestations, '2024-04-15');
    // A late payment changes one answer; a request withdrawn by its insurer removes another.
    await importEdited(fx, 'changed', {
      'payments.csv': (text) => `${text}Q03-2,D03,K03-241R,payment,12000,2024-12-02,\n`,
      'incapacity_requests.csv': (text) => text.replace('600-24-0012,D02,600,2024-04-15,2024-03-10\n', ''),
    });
  });
  afterAll(async () => fx.close());

  it('replaces the changed answer under its AttestationID and cancels the withdrawn one', async () => {
    const fix = await runPipeline(runDeps(fx.db.pool, fx.outbox, NOW), { ...request, dryRun: false, correction: { reason: 'payment found late', full: false } });
    expect(fix.plan).toMatchObject({ added: [], changed: ['500-24-0003'], vanished: ['600-24-0012'], unchanged: 2 });
    const byReceiver = new Map<string, any[]>();
    for (const f of fix.files) byReceiver.set(f.receiver, parser.parse(await fs.readFile(f.path, 'utf8')).INCA.Attestation);
    expect([...byReceiver.keys()].sort()).toEqual(['OA500', 'OA600']);
    expect(byReceiver.get('OA500')![0]).toMatchObject({ AttestationIdentification: { AttestationID: '202404150000004', AttestationStatus: '2' }, RequestID: '500-24-0003' });
    expect(quarters(byReceiver.get('OA500')![0])[3]).toBe('20241 62000 62000 true 2024-12-02');
    // The cancellation carries what the insurer holds, read back from the file sent, under status 1.
    expect(byReceiver.get('OA600')![0]).toMatchObject({ AttestationIdentification: { AttestationID: '202404150000005', AttestationStatus: '1' }, RequestID: '600-24-0012', Insured: 'false' });
    for (const f of fix.files) await xmllint(f.path, 'incapacity-attestations/v1.xsd');
  });
});

describe('incapacity-attestations rerun after the request names another insurer (review finding 2)', () => {
  const NOW = '2025-01-10T02:00:00+01:00';
  let fx: FlowFixture;
  const request = { pipeline: incapacityAttestations, period: parsePeriod('2024-04-15'), environment: 'T' as const, sender: '012345', asOf: new Date(NOW) };
  const correction = { reason: 'insurer corrected', full: false };
  beforeAll(async () => {
    fx = await createFlowFixture();
    await fx.run(incapacityAttestations, '2024-04-15');
    // The request 100-24-0007 was sent to OA100; the dossier now says insurer 200 asked.
    await importEdited(fx, 'moved', { 'incapacity_requests.csv': (text) => text.replace(/^100-24-0007,D01,100,/m, '100-24-0007,D01,200,') });
  });
  afterAll(async () => fx.close());

  it('cancels the answer at OA100 and sends OA200 an original under a new AttestationID; the report accounts for both', async () => {
    const deps = runDeps(fx.db.pool, fx.outbox, NOW);
    const dry = await runPipeline(deps, { ...request, dryRun: true, correction });
    expect(dry.plan).toMatchObject({ added: ['100-24-0007'], changed: [], vanished: ['100-24-0007'], unchanged: 3, moved: ['100-24-0007 (OA100 → OA200)'] });
    const fix = await runPipeline(deps, { ...request, dryRun: false, correction });
    expect(fix.plan).toMatchObject({ added: ['100-24-0007'], vanished: ['100-24-0007'], moved: ['100-24-0007 (OA100 → OA200)'] });
    expect(fix.counts).toEqual({ extracted: 6, emitted: 2, quarantined: 2, unchanged: 3, cancelled: 1 });
    const byReceiver = new Map<string, any[]>();
    for (const f of fix.files) byReceiver.set(f.receiver, parser.parse(await fs.readFile(f.path, 'utf8')).INCA.Attestation);
    expect([...byReceiver.keys()].sort()).toEqual(['OA100', 'OA200']);
    // OA100 gets back what it holds, under its id, as a cancellation.
    expect(byReceiver.get('OA100')).toHaveLength(1);
    expect(byReceiver.get('OA100')![0]).toMatchObject({ AttestationIdentification: { AttestationID: '202404150000001', AttestationStatus: '1' }, RequestID: '100-24-0007', InsurerCode: '100' });
    // OA200 never had it: an original (status 0) under a new id of this version.
    expect(byReceiver.get('OA200')).toHaveLength(1);
    const sent = byReceiver.get('OA200')![0];
    expect(sent).toMatchObject({ AttestationIdentification: { AttestationStatus: '0' }, RequestID: '100-24-0007', InsurerCode: '200' });
    expect(sent.AttestationIdentification.AttestationID).not.toBe('202404150000001');
    for (const f of fix.files) await xmllint(f.path, 'incapacity-attestations/v1.xsd');
    const report = await buildReport(fx.db.pool, incapacityAttestations, '2024-04-15', 'T', new Date('2025-01-10T12:00:00Z'));
    expect(report.checks.filter((c) => !c.ok)).toEqual([]);
  });

  it('a further rerun finds the answer held by OA200 under its new id: nothing to send', async () => {
    const again = await runPipeline(runDeps(fx.db.pool, fx.outbox, NOW), { ...request, dryRun: true, correction });
    expect(again.plan).toMatchObject({ added: [], changed: [], vanished: [], moved: [], unchanged: 4 });
  });
});

describe('incapacity-attestations for a person insured by a continued insurance (review finding 5)', () => {
  // flows.md: "whether the person was insured on that day (an activity or continued_insurance period
  // covering it) and, if so, the category": the covering period's category, a continued insurance's too.
  const EXTRA = {
    'activity_periods.csv': ['D04,continued_insurance,helper_maxi,2024-03-01,,', 'D10,continued_insurance,,2024-01-01,,'],
    'incapacity_requests.csv': ['400-24-0201,D04,400,2024-04-22,2024-04-02', '400-24-0202,D10,400,2024-04-22,2024-04-02'],
  };
  let fx: FlowFixture;
  let day22: RunResult;
  beforeAll(async () => {
    const folder = await scratchDir('continued');
    for (const f of await fs.readdir(DOSSIER_2024)) {
      const extra = EXTRA[f as keyof typeof EXTRA] ?? [];
      await fs.writeFile(path.join(folder.dir, f), (await fs.readFile(path.join(DOSSIER_2024, f), 'utf8')) + extra.map((l) => `${l}\n`).join(''));
    }
    fx = await createFlowFixture(folder.dir);
    await folder.remove();
    day22 = await fx.run(incapacityAttestations, '2024-04-22');
  });
  afterAll(async () => fx.close());

  it('answers insured, CON, with the category the dossier gives the continued insurance, and none when it gives none', async () => {
    expect(day22.counts).toEqual({ extracted: 2, emitted: 2, quarantined: 0 });
    const a = await attestations(day22);
    expect(a.get('400-24-0201')).toMatchObject({ receiver: 'OA400', Insured: 'true', InsuranceKind: 'CON', Category: 'HLP' });
    expect(a.get('400-24-0202')).toMatchObject({ receiver: 'OA400', Insured: 'true', InsuranceKind: 'CON' });
    expect(a.get('400-24-0202')!.Category).toBeUndefined();
    for (const f of day22.files) await xmllint(f.path, 'incapacity-attestations/v1.xsd');
  });
});
