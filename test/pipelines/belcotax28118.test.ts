import { createReadStream } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import readline from 'node:readline';
import { XMLParser } from 'fast-xml-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { belcotax28118, checkBelcotaxTotals } from '../../pipelines/belcotax28118.js';
import type { RunResult } from '../../src/engine/runPipeline.js';
import { buildReport } from '../../src/reconcile/report.js';
import { createFlowFixture, type FlowFixture } from '../helpers/flowFixture.js';
import { expectGolden, xmllint } from '../helpers/golden.js';
import { scratchDir } from '../helpers/runHarness.js';
import { createTestPki } from '../helpers/pki.js';
import { loadSigning } from '../../src/sign/signingIdentity.js';

async function checkFile(file: string): Promise<string | null> {
  const check = checkBelcotaxTotals();
  for await (const line of readline.createInterface({ input: createReadStream(file, 'utf8'), crlfDelay: Infinity })) check.line(line);
  return check.end();
}

describe('belcotax-281-18 on the 2024 fixture', () => {
  let fx: FlowFixture;
  let test: RunResult;
  beforeAll(async () => {
    fx = await createFlowFixture();
    test = await fx.run(belcotax28118, '2024', 'T');
  });
  afterAll(async () => fx.close());

  it('writes the golden Belcotax tree, valid against its XSD, as a test sending in T', async () => {
    await expectGolden('belcotax-281-18', test.files);
    await xmllint(test.files[0]!.path, 'belcotax-281-18/v1.xsd');
    expect(await fs.readFile(test.files[0]!.path, 'utf8')).toContain('<v0010_bestandtype>BELCOTST</v0010_bestandtype>');
  });

  it('declares control totals equal to the sums recomputed from the fiches', async () => {
    const doc = new XMLParser({ parseTagValue: false, isArray: (n) => n === 'Fiche28118' }).parse(await fs.readFile(test.files[0]!.path, 'utf8'));
    const v = doc.Verzendingen.Verzending;
    const a = v.Aangiften.Aangifte;
    const fiches: any[] = a.Opgaven.Opgave32518.Fiche28118;
    const sum = (f: (x: any) => number): number => fiches.reduce((n, x) => n + f(x), 0);
    expect(fiches.map((f) => [f.f2011_nationaalnr, f.f18_2060_brutobedrag, f.f18_2062_aantalmaanden])).toEqual([
      ['78451823415', '342000', '2'], // abroad, two months
      ['75112006616', '200000', '1'], // paid on 31 December; the one paid on 2 January 2025 is not in 2024
    ]);
    expect(fiches[0].f2112_buitenlandspostnummer).toBe('75001');
    expect(Number(a.r8010_aantalrecords)).toBe(fiches.length);
    expect(Number(a.r8011_controletotaal)).toBe(sum((f) => Number(f.f2009_volgnummer)));
    expect(Number(a.r8012_controletotaal)).toBe(sum((f) => Number(f.f2099_controletotaal)));
    expect(Number(a.r8012_controletotaal)).toBe(sum((f) => Number(f.f18_2060_brutobedrag) + Number(f.f18_2061_bedrijfsvoorheffing)));
    expect(Number(a.r8013_totaalvoorheffingen)).toBe(0);
    expect([v.r9010_aantalrecords, v.r9011_controletotaal, v.r9012_controletotaal, v.r9013_totaalvoorheffingen]).toEqual([
      a.r8010_aantalrecords, a.r8011_controletotaal, a.r8012_controletotaal, a.r8013_totaalvoorheffingen,
    ]);
    expect(await checkFile(test.files[0]!.path)).toBeNull();
  });

  it('fails the control-total check on a tampered file', async () => {
    const tmp = await scratchDir('belcotax');
    try {
      const text = await fs.readFile(test.files[0]!.path, 'utf8');
      const tampered = path.join(tmp.dir, 'tampered.xml');
      await fs.writeFile(tampered, text.replace('<f18_2060_brutobedrag>342000</f18_2060_brutobedrag>', '<f18_2060_brutobedrag>342001</f18_2060_brutobedrag>'));
      expect(await checkFile(tampered)).toMatch(/control total 342000 ≠ 342001 \+ 0/);
      const total = path.join(tmp.dir, 'total.xml');
      await fs.writeFile(total, text.replace(/<r9012_controletotaal>\d+</, '<r9012_controletotaal>1<'));
      expect(await checkFile(total)).toMatch(/r9012_controletotaal declares 1/);
    } finally {
      await tmp.remove();
    }
  });

  it('quarantines a bad INSS and a paid allowance without amount; production gives BELCOTAX', async () => {
    const report = await buildReport(fx.db.pool, belcotax28118, '2024', 'T', new Date('2025-01-10T12:00:00Z'));
    expect(report.quarantine.map((q) => [q.rule, q.sourceKey])).toEqual([['allowance-amount-missing', 'D11'], ['inss-check-digit', 'D08']]);
    expect(report.counts).toEqual({ extracted: 4, emitted: 2, quarantined: 2 });
    expect(report.deadline).toBe('2025-02-28');
    await expect(fx.run(belcotax28118, '2024', 'R')).rejects.toThrow(/Production \(R\) submissions must be signed/);
    const pki = await createTestPki(path.join(path.dirname(fx.outbox), 'pki'));
    const signing = await loadSigning({ certPath: pki.fundCert, keyPath: pki.fundKey, layout: 'cr76', signTest: false });
    const prod = await fx.run(belcotax28118, '2024', 'R', signing);
    expect(prod.files.map((f) => f.name)).toEqual(['FI.B281.012345.20250110.00001.R.1.1', 'FS.B281.012345.20250110.00001.R.1.1']);
    expect(await fs.readFile(prod.files[0]!.path, 'utf8')).toContain('<v0010_bestandtype>BELCOTAX</v0010_bestandtype>');
  });
});
