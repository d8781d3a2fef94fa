import { createReadStream } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import readline from 'node:readline';
import { XMLParser } from 'fast-xml-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { belcotax28118 } from '../../pipelines/belcotax28118.js';
import { taxAttestations } from '../../pipelines/taxAttestations.js';
import type { RunResult } from '../../src/engine/runPipeline.js';
import { buildReport } from '../../src/reconcile/report.js';
import { createFlowFixture, DOSSIER_2024, type FlowFixture } from '../helpers/flowFixture.js';
import { xmllint } from '../helpers/golden.js';
import { scratchDir } from '../helpers/runHarness.js';

const parser = new XMLParser({ parseTagValue: false, trimValues: false, htmlEntities: true, isArray: (n) => ['Attestation', 'PaidFor', 'Fiche28118'].includes(n) });

/** A CSV field, quoted. */
const q = (text: string): string => `"${text.replaceAll('"', '""')}"`;

/** The dossier of 2024 with some affiliates' text fields replaced (values written quoted). */
async function dossierWith(dir: string, changes: Record<string, Partial<Record<'last_name' | 'street' | 'city', string>>>): Promise<string> {
  await fs.cp(DOSSIER_2024, dir, { recursive: true });
  const file = path.join(dir, 'affiliates.csv');
  const [header, ...rows] = (await fs.readFile(file, 'utf8')).trimEnd().split('\n');
  const columns = header!.split(',');
  const out = rows.map((row) => {
    const id = row.slice(0, row.indexOf(','));
    const change = changes[id];
    if (!change) return row;
    // The rows that change have no quoted field in the fixture: a plain split is exact.
    const fields = row.split(',');
    for (const [column, value] of Object.entries(change)) fields[columns.indexOf(column)] = q(value);
    return fields.join(',');
  });
  await fs.writeFile(file, `${[header, ...out].join('\n')}\n`);
  return dir;
}

/** Every line of a file, as a reader of the file sees them. */
async function lines(file: string): Promise<string[]> {
  const out: string[] = [];
  for await (const line of readline.createInterface({ input: createReadStream(file, 'utf8'), crlfDelay: Infinity })) out.push(line);
  return out;
}

const TWO_LINES = 'Dorpsstraat 44\nbus 2';
const CRLF = 'Rue de la Loi 16\r\nboîte 3\t(2e étage)';

describe('dossier text with line breaks', () => {
  let fx: FlowFixture;
  let tmp: { dir: string; remove: () => Promise<void> };
  let belcotax: RunResult;
  let tax: RunResult;
  beforeAll(async () => {
    tmp = await scratchDir('text');
    fx = await createFlowFixture(await dossierWith(path.join(tmp.dir, 'lines'), { D07: { street: TWO_LINES }, D01: { street: CRLF }, D02: { city: 'Paris\n8e' } }));
    belcotax = await fx.run(belcotax28118, '2024');
    tax = await fx.run(taxAttestations, '2024');
  });
  afterAll(async () => {
    await fx.close();
    await tmp.remove();
  });

  it('belcotax-281-18: a street on two lines keeps its fiche on one line; the control totals hold, the file validates (it stopped the year: "control total NaN ≠ NaN + NaN"; then its fiche went over two lines)', async () => {
    expect(belcotax.counts).toEqual({ extracted: 4, emitted: 2, quarantined: 2 });
    const file = belcotax.files[0]!.path;
    await xmllint(file, belcotax28118.output.kind === 'xml' ? belcotax28118.output.schema : '');
    const fiches = (await lines(file)).filter((l) => l.startsWith('<Fiche28118>'));
    expect(fiches).toHaveLength(2);
    expect(fiches.join('\n')).toContain('Dorpsstraat 44&#10;bus 2');
    // The flow's own check of the totals, fed the file as a reader of it sees it.
    const check = belcotax28118.output.kind === 'xml' ? belcotax28118.output.check!() : null;
    for (const line of await lines(file)) check!.line(line);
    expect(check!.end()).toBeNull();
    // The XML means the same text.
    const text = JSON.stringify(parser.parse(await fs.readFile(file, 'utf8')));
    expect(text).toContain(JSON.stringify(TWO_LINES));
    expect(text).toContain(JSON.stringify('Paris\n8e'));
  });

  it('tax-attestations: CR, LF and tab come back from the file exactly, each attestation on one line', async () => {
    const file = tax.files[0]!.path;
    await xmllint(file, 'tax-attestations/v1.xsd');
    expect((await lines(file)).filter((l) => l.startsWith('<Attestation>'))).toHaveLength(5);
    const doc = parser.parse(await fs.readFile(file, 'utf8'));
    const byInss = new Map(doc.ATTF.Attestation.map((a: any) => [a.INSS, a]));
    expect((byInss.get('85073003328') as any).Address.Street).toBe(CRLF);
    expect((byInss.get('78451823415') as any).Address.City).toBe('Paris\n8e');
  });
});

describe('dossier text that is blank (whitespace only) where a flow requires text', () => {
  let fx: FlowFixture;
  let tmp: { dir: string; remove: () => Promise<void> };
  const BLANK = 'is blank (only whitespace), and a required text needs a character other than whitespace: complete it in the dossier';
  beforeAll(async () => {
    tmp = await scratchDir('blank');
    fx = await createFlowFixture(await dossierWith(path.join(tmp.dir, 'blank'), { D02: { last_name: '   ' }, D05: { street: ' \t ' }, D07: { city: ' Gent ' } }));
  });
  afterAll(async () => {
    await fx.close();
    await tmp.remove();
  });

  it('belcotax-281-18: a surname "   " quarantines its fiche under text-too-short, as an empty one does (it went out as <f2013_naam>   </f2013_naam>); a real value keeps its spaces', async () => {
    const run = await fx.run(belcotax28118, '2024');
    expect(run.counts).toEqual({ extracted: 4, emitted: 1, quarantined: 3 });
    expect(run.quarantineByRule).toEqual({ 'allowance-amount-missing': 1, 'inss-check-digit': 1, 'text-too-short': 1 });
    const report = await buildReport(fx.db.pool, belcotax28118, '2024', 'T', new Date('2025-01-10T12:00:00Z'));
    expect(report.quarantine.filter((x) => x.rule === 'text-too-short').map((x) => [x.sourceKey, x.message])).toEqual([['D02', `f2013_naam ${BLANK}`]]);
    const text = await fs.readFile(run.files[0]!.path, 'utf8');
    expect(text).not.toContain('<f2013_naam>   </f2013_naam>');
    expect(text).toContain('<f2010_referentie>D07</f2010_referentie>');
    expect(text).toContain('<f2017_gemeente> Gent </f2017_gemeente>');
    await xmllint(run.files[0]!.path, 'belcotax-281-18/v2.xsd');
  });

  it('tax-attestations: the same engine check holds for every XML flow: a surname "   " and a street " \\t " quarantine their attestations', async () => {
    const run = await fx.run(taxAttestations, '2024');
    expect(run.quarantineByRule['text-too-short']).toBe(2);
    const report = await buildReport(fx.db.pool, taxAttestations, '2024', 'T', new Date('2025-01-10T12:00:00Z'));
    expect(report.quarantine.filter((x) => x.rule === 'text-too-short').map((x) => [x.sourceKey, x.message])).toEqual([
      ['D02', `LastName ${BLANK}`],
      ['D05', `Street ${BLANK}`],
    ]);
    await xmllint(run.files[0]!.path, 'tax-attestations/v1.xsd');
  });
});

describe('dossier text longer than a flow allows', () => {
  let fx: FlowFixture;
  let tmp: { dir: string; remove: () => Promise<void> };
  const surname = `Van ${'Den Berghe-'.repeat(26)}`.slice(0, 290);
  const street = `Chaussée de ${'Waterloo '.repeat(40)}`.slice(0, 304);
  beforeAll(async () => {
    tmp = await scratchDir('long');
    fx = await createFlowFixture(await dossierWith(path.join(tmp.dir, 'long'), { D03: { last_name: surname }, D05: { street }, D07: { last_name: surname }, D06: { city: '😀'.repeat(200) } }));
  });
  afterAll(async () => {
    await fx.close();
    await tmp.remove();
  });

  it('tax-attestations: a surname of 290 characters and a street of 304 quarantine those two records under text-too-long; the others go (it failed for everyone)', async () => {
    const run = await fx.run(taxAttestations, '2024');
    expect(run.counts).toEqual({ extracted: 6, emitted: 3, quarantined: 3 });
    expect(run.quarantineByRule).toEqual({ 'inss-check-digit': 1, 'text-too-long': 2 });
    await xmllint(run.files[0]!.path, 'tax-attestations/v1.xsd');
    const report = await buildReport(fx.db.pool, taxAttestations, '2024', 'T', new Date('2025-01-10T12:00:00Z'));
    const tooLong = report.quarantine.filter((x) => x.rule === 'text-too-long');
    expect(tooLong.map((x) => [x.sourceKey, x.message])).toEqual([
      ['D03', 'LastName is 290 characters long; tax-attestations/v1.xsd allows at most 200: shorten it in the dossier'],
      ['D05', 'Street is 304 characters long; tax-attestations/v1.xsd allows at most 200: shorten it in the dossier'],
    ]);
    // Never the value: it is personal data.
    for (const x of tooLong) expect(x.message).not.toContain('Berghe');
    // 200 characters beyond U+FFFF (400 UTF-16 units) are 200 characters: D06 goes.
    const doc = parser.parse(await fs.readFile(run.files[0]!.path, 'utf8'));
    expect(doc.ATTF.Attestation.map((a: any) => a.Address.City)).toContain('😀'.repeat(200));
    // Its printable documents are those of the records sent.
    expect(run.documents.count).toBe(3);
  });

  it('belcotax-281-18: the fiche whose surname is too long is quarantined, the other goes', async () => {
    const run = await fx.run(belcotax28118, '2024');
    expect(run.counts).toEqual({ extracted: 4, emitted: 1, quarantined: 3 });
    expect(run.quarantineByRule['text-too-long']).toBe(1);
    await xmllint(run.files[0]!.path, belcotax28118.output.kind === 'xml' ? belcotax28118.output.schema : '');
  });

  it('a character XML cannot carry that reaches a flow without the import (written in the database) quarantines that record under text-forbidden-character', async () => {
    await fx.db.pool.query(`UPDATE dossier.affiliates SET last_name = 'Peeters', first_name = 'Wout' || chr(11) WHERE affiliate_id = 'D03'`);
    const run = await fx.run(taxAttestations, '2024', 'S');
    expect(run.quarantineByRule['text-forbidden-character']).toBe(1);
    const report = await buildReport(fx.db.pool, taxAttestations, '2024', 'S', new Date('2025-01-10T12:00:00Z'));
    expect(report.quarantine.find((x) => x.sourceKey === 'D03')?.message).toBe('FirstName holds U+000B (a control character) at character 5, which XML 1.0 cannot carry: correct it in the dossier');
    await xmllint(run.files[0]!.path, 'tax-attestations/v1.xsd');
  });
});
