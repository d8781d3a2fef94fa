import { createReadStream } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import readline from 'node:readline';
import { XMLParser } from 'fast-xml-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { belcotax28118, checkBelcotaxFile } from '../../pipelines/belcotax28118.js';
import { fundIdentityFrom } from '../../src/config/fundConfig.js';
import { ConfigError } from '../../src/errors/errors.js';
import { runPipeline, type RunResult } from '../../src/engine/runPipeline.js';
import { parsePeriod } from '../../src/period/period.js';
import { buildReport } from '../../src/reconcile/report.js';
import { loadSigning } from '../../src/sign/signingIdentity.js';
import { createFlowFixture, type FlowFixture } from '../helpers/flowFixture.js';
import { REAL_FUND_ENV } from '../helpers/fund.js';
import { expectGolden, xmllint } from '../helpers/golden.js';
import { createTestPki } from '../helpers/pki.js';
import { runDeps, scratchDir } from '../helpers/runHarness.js';

const NOW = '2025-01-10T02:00:00+01:00';

/** Feeds a written file to the flow's line check, line by line as a reader of the file sees it. */
async function checkFile(file: string): Promise<string | null> {
  const check = checkBelcotaxFile();
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
    await xmllint(test.files[0]!.path, 'belcotax-281-18/v2.xsd');
    expect(await fs.readFile(test.files[0]!.path, 'utf8')).toContain('<v0010_bestandtype>BELCOTST</v0010_bestandtype>');
  });

  it('writes one fiche per bridging-right beneficiary paid in the year, with its reference, language and NIS country', async () => {
    const doc = new XMLParser({ parseTagValue: false, isArray: (n) => n === 'Fiche28118' }).parse(await fs.readFile(test.files[0]!.path, 'utf8'));
    const fiches: any[] = doc.Verzendingen.Verzending.Aangiften.Aangifte.Opgaven.Opgave32518.Fiche28118;
    expect(fiches.map((f) => [f.f2010_referentie, f.f2011_nationaalnr, f.f18_2066_anderegebeurtenissen, f.f2027_taalcode, f.f2018_landwoonplaats])).toEqual([
      ['D02', '78451823415', '342000', '2', '00111'], // abroad (Paris), French, two months
      ['D07', '75112006616', '200000', '1', '150'], // paid on 31 December; the one paid on 2 January 2025 is not in 2024
    ]);
    expect([fiches[0].f2112_buitenlandspostnummer, fiches[0].f2016_postcodebelgisch]).toEqual(['75001', undefined]);
    expect([fiches[1].f2112_buitenlandspostnummer, fiches[1].f2016_postcodebelgisch]).toEqual([undefined, '8000']);
    expect(await checkFile(test.files[0]!.path)).toBeNull();
  });

  it('fails the arithmetic check on a tampered file, and names what is wrong', async () => {
    const tmp = await scratchDir('belcotax');
    try {
      const text = await fs.readFile(test.files[0]!.path, 'utf8');
      const cases: [string, string, RegExp][] = [
        ['<f18_2066_anderegebeurtenissen>342000<', '<f18_2066_anderegebeurtenissen>342001<', /fiche 1: control total 342000 ≠ 342001 \+ 0/],
        ['<r9013_controletotaal>542000<', '<r9013_controletotaal>1<', /r9013_controletotaal declares 1, the fiches give 542000/],
        ['<r8010_aantalrecords>4<', '<r8010_aantalrecords>2<', /r8010_aantalrecords declares 2, the fiches give 4/],
        ['<f2009_volgnummer>2<', '<f2009_volgnummer>3<', /fiche 2 has sequence number 3/],
        [
          '<f2028_typetraitement>0</f2028_typetraitement><f2029_enkelopgave325>0</f2029_enkelopgave325><f2114_voornamen>Noël<',
          '<f2028_typetraitement>1</f2028_typetraitement><f2029_enkelopgave325>0</f2029_enkelopgave325><f2114_voornamen>Noël<',
          /fiche 1: f2028_typetraitement 1 in a sending whose v0025_typeenvoi is 0/,
        ],
        ['<r9014_controletotaal>0</r9014_controletotaal>\n', '', /r9014_controletotaal is missing/],
      ];
      for (const [from, to, expected] of cases) {
        expect(text).toContain(from);
        const file = path.join(tmp.dir, 'tampered.xml');
        await fs.writeFile(file, text.replace(from, to));
        expect(await checkFile(file)).toMatch(expected);
      }
    } finally {
      await tmp.remove();
    }
  });

  it('reads fiches as records: a line break in a text field, escaped or not, does not break the check', async () => {
    const tmp = await scratchDir('belcotax');
    try {
      const text = await fs.readFile(test.files[0]!.path, 'utf8');
      expect(text).toContain('<f2015_adres>Rue de Rivoli 1</f2015_adres>');
      for (const street of ['Rue de Rivoli 1&#10;Bâtiment B', 'Rue de Rivoli 1\nBâtiment B', 'Rue\r\nde Rivoli\n1']) {
        const file = path.join(tmp.dir, 'street.xml');
        await fs.writeFile(file, text.replace('<f2015_adres>Rue de Rivoli 1</f2015_adres>', `<f2015_adres>${street}</f2015_adres>`));
        expect(await checkFile(file), JSON.stringify(street)).toBeNull();
      }
      const cut = path.join(tmp.dir, 'cut.xml');
      await fs.writeFile(cut, text.replace(/<\/Fiche28118>\n<\/Opgave32518>[^]*$/, ''));
      expect(await checkFile(cut)).toMatch(/fiche 2 is not closed/);
    } finally {
      await tmp.remove();
    }
  });

  it("quarantines a bad INSS and a paid allowance without amount; production gives BELCOTAX, only with the fund's real identity", async () => {
    const report = await buildReport(fx.db.pool, belcotax28118, '2024', 'T', new Date('2025-01-10T12:00:00Z'));
    expect(report.quarantine.map((q) => [q.rule, q.sourceKey])).toEqual([
      ['allowance-amount-missing', 'D11'],
      ['inss-check-digit', 'D08'],
    ]);
    expect(report.counts).toEqual({ extracted: 4, emitted: 2, quarantined: 2 });
    expect(report.deadline).toBe('2025-02-28');
    await expect(fx.run(belcotax28118, '2024', 'R')).rejects.toThrow(/Production \(R\) submissions must be signed/);
    const pki = await createTestPki(path.join(path.dirname(fx.outbox), 'pki'));
    const signing = await loadSigning({ certPath: pki.fundCert, keyPath: pki.fundKey, layout: 'cr76', signTest: false });
    // The placeholders of T and S are refused in R, naming the variables; nothing is published.
    const placeholders = fx.run(belcotax28118, '2024', 'R', signing);
    await expect(placeholders).rejects.toBeInstanceOf(ConfigError);
    await expect(placeholders).rejects.toThrow(/MAILLON_FUND_COMPANY_NUMBER, MAILLON_FUND_STREET, .*MAILLON_FUND_EMAIL still hold the documented placeholder/);
    expect((await fs.readdir(fx.outbox)).filter((n) => n.includes('.R.'))).toEqual([]);
    const deps = { ...runDeps(fx.db.pool, fx.outbox, NOW), signing, fund: fundIdentityFrom(REAL_FUND_ENV, 'R') };
    const prod = await runPipeline(deps, { pipeline: belcotax28118, period: parsePeriod('2024'), environment: 'R', sender: '012345', asOf: new Date(NOW), dryRun: false });
    expect(prod.files.map((f) => f.name)).toEqual(['FI.B281.012345.20250110.00001.R.1.1', 'FS.B281.012345.20250110.00001.R.1.1']);
    const text = await fs.readFile(prod.files[0]!.path, 'utf8');
    expect(text).toContain('<v0010_bestandtype>BELCOTAX</v0010_bestandtype>');
    expect(text).toContain('<v0015_adres>Rue des Tests 42</v0015_adres>');
    expect(text).toContain('<f2005_registratienummer>0206732437</f2005_registratienummer>');
    await xmllint(prod.files[0]!.path, 'belcotax-281-18/v2.xsd');
  });

  it('quarantines the fiche of a country without a NIS code under country-without-nis-code, and only that one', async () => {
    await fx.db.pool.query("UPDATE dossier.affiliates SET country = 'JE' WHERE affiliate_id = 'D02'");
    try {
      const r = await fx.run(belcotax28118, '2024', 'S');
      expect(r.quarantineByRule).toEqual({ 'allowance-amount-missing': 1, 'inss-check-digit': 1, 'country-without-nis-code': 1 });
      const outcome = await fx.db.pool.query<{ message: string }>("SELECT message FROM maillon.record_outcomes WHERE run_id = $1 AND rule = 'country-without-nis-code' AND source_key = 'D02'", [
        r.runId,
      ]);
      expect(outcome.rows[0]!.message).toMatch(/country of residence "JE" has no Belgian NIS code/);
      const text = await fs.readFile(r.files[0]!.path, 'utf8');
      expect(text).not.toContain('D02');
      expect(text).toContain('<f2010_referentie>D07</f2010_referentie>');
    } finally {
      await fx.db.pool.query("UPDATE dossier.affiliates SET country = 'FR' WHERE affiliate_id = 'D02'");
    }
  });
});

describe('belcotax-281-18 with a negative year', () => {
  let fx: FlowFixture;
  beforeAll(async () => {
    fx = await createFlowFixture();
  });
  afterAll(async () => fx.close());

  it('quarantines the fiche whose year adds up to a negative net amount under allowance-total-negative, saying so in euros (it was text-form, about the shape of f18_2066)', async () => {
    // D02: 1710.00 EUR paid in March, -4000.00 EUR in April.
    await fx.db.pool.query("UPDATE dossier.allowances SET amount_cents = -400000 WHERE allowance_id = 'L02-B4'");
    const r = await fx.run(belcotax28118, '2024', 'T');
    expect(r.quarantineByRule).toEqual({ 'allowance-amount-missing': 1, 'inss-check-digit': 1, 'allowance-total-negative': 1 });
    const outcome = await fx.db.pool.query<{ rule: string; message: string }>("SELECT rule, message FROM maillon.record_outcomes WHERE run_id = $1 AND source_key = 'D02'", [r.runId]);
    expect(outcome.rows).toEqual([
      {
        rule: 'allowance-total-negative',
        message:
          "the year's net bridging-right amount is negative (-2290.00 EUR, the sum of the allowances paid in the income year), and Belcotax takes no negative amount: correct the year's allowances in the dossier",
      },
    ]);
    const text = await fs.readFile(r.files[0]!.path, 'utf8');
    expect(text).not.toContain('<f2010_referentie>D02</f2010_referentie>');
    expect(text).toContain('<f2010_referentie>D07</f2010_referentie>');
    await xmllint(r.files[0]!.path, 'belcotax-281-18/v2.xsd');
  });
});
