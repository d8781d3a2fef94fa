import { execFileSync } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { XMLParser } from 'fast-xml-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { taxAttestations } from '../../pipelines/taxAttestations.js';
import { DOCUMENTS_ARCHIVE } from '../../src/engine/documents.js';
import type { RunResult } from '../../src/engine/runPipeline.js';
import { buildReport } from '../../src/reconcile/report.js';
import { createFlowFixture, type FlowFixture } from '../helpers/flowFixture.js';
import { expectGolden, xmllint } from '../helpers/golden.js';
import { readTar } from '../helpers/readTar.js';

describe('tax-attestations on the 2024 fixture', () => {
  let fx: FlowFixture;
  let result: RunResult;
  let attestations: Map<string, any>;
  beforeAll(async () => {
    fx = await createFlowFixture();
    result = await fx.run(taxAttestations, '2024');
    const doc = new XMLParser({ parseTagValue: false, isArray: (n) => ['Attestation', 'PaidFor'].includes(n) }).parse(await fs.readFile(result.files[0]!.path, 'utf8'));
    attestations = new Map(doc.ATTF.Attestation.map((a: any) => [a.INSS, a]));
  });
  afterAll(async () => fx.close());

  it('writes the golden file, valid against the XSD', async () => {
    await expectGolden('tax-attestations', result.files);
    await xmllint(result.files[0]!.path, 'tax-attestations/v1.xsd');
  });

  it('counts payments minus refunds of the year, per quarter paid for; increases and other years left out', () => {
    // 2023-Q4 paid on 5 January 2024 counts in 2024; the increase paid in March does not.
    const d01 = attestations.get('85073003328');
    expect(d01.Amount).toBe('348684');
    expect(d01.PaidForQuarters.PaidFor.map((q: any) => [q.Quarter, q.Amount])).toEqual([
      ['20234', '87171'],
      ['20241', '87171'],
      ['20242', '87171'],
      ['20244', '87171'],
    ]);
    expect(d01.Person).toEqual({ LastName: 'Dupont & Fils', FirstName: 'Amélie', Language: 'fr' });
    // Overpaid then refunded in the year.
    expect(attestations.get('78451823415').Amount).toBe('23412');
    // A payment and its refund in the same year cancel out: no attestation. Paid on 1 January 2025: not 2024.
    expect(attestations.has('60061508786')).toBe(false);
    expect(attestations.has('68070431176')).toBe(false);
    expect([...attestations.keys()].sort()).toEqual(['03051212332', '62022807018', '78451823415', '85073003328', '90031518119']);
  });

  it('reports the unallocated payments it left out, and quarantines the bad INSS', async () => {
    const report = await buildReport(fx.db.pool, taxAttestations, '2024', 'T', new Date('2025-01-10T12:00:00Z'));
    expect(report.facts).toEqual({ unallocatedPayments: 1, unallocatedCents: 5000 });
    expect(report.counts).toEqual({ extracted: 6, emitted: 5, quarantined: 1 });
    expect(report.quarantine).toEqual([expect.objectContaining({ rule: 'inss-check-digit', sourceKey: 'D08' })]);
    expect(report.deadline).toBe('2025-01-31');
  });

  it('writes one printable attestation per affiliate, in their language, with the same amounts as the XML', async () => {
    expect(result.documents.count).toBe(5);
    const folder = result.documents.folder!;
    expect(await fs.readdir(folder)).toEqual([DOCUMENTS_ARCHIVE]);
    const archive = path.join(folder, DOCUMENTS_ARCHIVE);
    expect((await fs.stat(archive)).mode & 0o777).toBe(0o600);
    // The system's tar reads it too, and takes one attestation out alone.
    expect(execFileSync('tar', ['-tf', archive], { encoding: 'utf8' }).trim().split('\n').sort()).toEqual(['D01.html', 'D02.html', 'D03.html', 'D05.html', 'D06.html']);
    const entries = await readTar(archive);
    expect(execFileSync('tar', ['-xOf', archive, 'D03.html'], { encoding: 'utf8' })).toBe(entries.get('D03.html')!.text);
    for (const [name, { mode, text: html }] of entries) {
      const inss = /<span class="inss">(\d{11})<\/span>/.exec(html)![1]!;
      const xml = attestations.get(inss);
      expect(/class="amount total" data-amount-cents="(-?\d+)"/.exec(html)![1], name).toBe(xml.Amount);
      const perQuarter = [...html.matchAll(/<td>(\d{4}-Q\d)<\/td><td class="amount" data-amount-cents="(-?\d+)"/g)].map((m) => [m[1]!.replace('-Q', ''), m[2]]);
      expect(perQuarter).toEqual(xml.PaidForQuarters.PaidFor.map((q: any) => [q.Quarter, q.Amount]));
      expect(html).toContain(`<html lang="${xml.Person.Language}">`);
      expect(mode).toBe(0o600);
    }
    const de = entries.get('D05.html')!.text;
    expect(de).toContain('Steuerbescheinigung');
    expect(de).toContain('310,50');
    expect(entries.get('D03.html')!.text).toContain('Fiscaal attest');
    const fr = entries.get('D01.html')!.text;
    expect(fr).toContain('Dupont &amp; Fils');
    expect(fr).toMatch(/3\s486,84\s€/);
  });
  it("moves aside a documents folder left under its run's name by another ledger (a restored backup), instead of failing", async () => {
    const documentsDir = path.resolve(result.documents.folder!, '../../../..');
    const seq = await fx.db.pool.query<{ n: string }>('SELECT CASE WHEN is_called THEN last_value + 1 ELSE last_value END AS n FROM maillon.runs_run_id_seq');
    const next = Number(seq.rows[0]!.n);
    const stale = path.join(documentsDir, 'tax-attestations', '2024', 'S', `run-${next}`);
    await fs.mkdir(stale, { recursive: true });
    await fs.writeFile(path.join(stale, DOCUMENTS_ARCHIVE), "another ledger's documents");
    const again = await fx.run(taxAttestations, '2024', 'S');
    expect(again.runId).toBe(next);
    expect(again.documents.folder).toBe(stale);
    expect([...(await readTar(path.join(stale, DOCUMENTS_ARCHIVE))).keys()].sort()).toEqual(['D01.html', 'D02.html', 'D03.html', 'D05.html', 'D06.html']);
    const orphans = await fs.readdir(path.join(documentsDir, '.orphans'));
    expect(orphans).toEqual([expect.stringMatching(new RegExp(`^tax-attestations\\.2024\\.S\\.run-${next}\\.[0-9a-f]{8}$`))]);
    expect(await fs.readFile(path.join(documentsDir, '.orphans', orphans[0]!, DOCUMENTS_ARCHIVE), 'utf8')).toBe("another ledger's documents");
  });
});
