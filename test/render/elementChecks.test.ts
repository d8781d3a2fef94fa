import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PIPELINES } from '../../pipelines/index.js';
import { RecordContentError } from '../../src/errors/errors.js';
import { compileSchemaChecks, type ValueCheck } from '../../src/render/elementChecks.js';
import { readSchemaElements, type SimpleTypeFacets } from '../../src/render/xsdFacets.js';
import { escapeXml } from '../../src/render/xml.js';
import { ROOT, scratchDir } from '../helpers/runHarness.js';

/** Validates many files with one xmllint; the verdict of each (true = valid). */
function xmllintVerdicts(xsd: string, files: string[]): Map<string, boolean> {
  const out = spawnSync('xmllint', ['--noout', '--schema', xsd, ...files], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  const verdicts = new Map<string, boolean>();
  for (const line of out.stderr.split('\n')) {
    const m = /^(.*) (validates|fails to validate)$/.exec(line);
    if (m) verdicts.set(m[1]!, m[2] === 'validates');
  }
  return verdicts;
}

/** The engine's verdict on a value: true when its check lets it through. */
function engineVerdict(check: ValueCheck, value: string | number): { ok: boolean; rule?: string } {
  try {
    check(value);
    escapeXml(String(value));
    return { ok: true };
  } catch (err) {
    if (err instanceof RecordContentError) return { ok: false, rule: err.rule };
    throw err;
  }
}

/**
 * The two places the engine is stricter than xmllint, on purpose. An integer with whitespace around
 * its digits: xmllint takes it for an element of a built-in type (RecordCount) but not of a type
 * derived from one (CentsType); the engine refuses it always (it never writes one). A required
 * text (minLength 1 or more) made of whitespace only: XML Schema counts its spaces, the engine
 * reads it as missing, like an empty one.
 */
function stricterOnPurpose(value: string | number, f: SimpleTypeFacets): boolean {
  if (typeof value !== 'string') return false;
  if (/^\s+$/.test(value) && (f.length ?? f.minLength ?? 0) > 0) return true;
  return /^\s*[+-]?[0-9]+\s*$/.test(value) && value.trim() !== value && !['string', 'token'].includes(f.builtin);
}

/** Values on both sides of every limit the facets state, and some that only look alike. */
function candidates(f: SimpleTypeFacets, sample: string): (string | number)[] {
  const out: (string | number)[] = [sample, `${sample}x`, ` ${sample}`, `${sample}\n`, `x${sample.slice(1)}`, '', ' ', '   ', '\t\n', '\u00a0', 'a\nb', '٣٣٣٣'];
  const max = f.length ?? f.maxLength;
  const min = f.length ?? f.minLength;
  if (max !== undefined) out.push('a'.repeat(max), 'a'.repeat(max + 1), '😀'.repeat(max), '😀'.repeat(max + 1), `${'é'.repeat(max - 1)}\t`, `${'&'.repeat(max)}`);
  if (min !== undefined && min > 1) out.push('a'.repeat(min - 1), '😀'.repeat(min - 1));
  for (const v of f.enumeration ?? []) out.push(v, v.toLowerCase(), `${v} `);
  if (/^-?[0-9]+$/.test(sample)) out.push(Number(sample), -1, 0, 1, '9223372036854775807', '9223372036854775808', '-9223372036854775809', '1.5', '+5', '007', 1.5, 1e21);
  return out;
}

describe('the facets the engine derives from each flow schema', () => {
  let tmp: { dir: string; remove: () => Promise<void> };
  beforeAll(async () => {
    tmp = await scratchDir('facets');
  });
  afterAll(async () => tmp.remove());

  const flows = PIPELINES.flatMap((p) => (p.output.kind === 'xml' ? [[p.id, p.output.schema] as const] : []));

  it.each(flows)('%s: every value is refused by the derived checks exactly when xmllint refuses it', async (flow, schema) => {
    const xsd = path.join(ROOT, 'schemas', schema);
    const checks = compileSchemaChecks(xsd, schema);
    const { elements } = readSchemaElements(xsd);
    const goldenDir = path.join(ROOT, 'fixtures', flow, 'golden');
    const golden = readdirSync(goldenDir).map((n) => readFileSync(path.join(goldenDir, n), 'utf8'));
    const cases: { file: string; element: string; value: string | number; engine: { ok: boolean; rule?: string } }[] = [];
    // A name declared with several types (Belcotax's country of residence, one per branch of a
    // choice) is checked against all: the engine refuses what fits none; which applies is the flow's choice.
    const several = (element: string): boolean => elements.get(element)!.length > 1;
    for (const [element, check] of checks) {
      if (check === null) continue;
      // The first file that has the element as a leaf holds the value that is replaced.
      const leaf = new RegExp(`<${element}>([^<]*)</${element}>`);
      const text = golden.find((g) => leaf.test(g));
      if (!text) continue;
      for (const value of candidates(elements.get(element)![0]!, leaf.exec(text)![1]!)) {
        const engine = engineVerdict(check, value);
        if (!engine.ok && engine.rule === 'text-forbidden-character') continue;
        const file = path.join(tmp.dir, `${flow}-${cases.length}.xml`);
        await fs.writeFile(
          file,
          text.replace(leaf, () => `<${element}>${escapeXml(String(value))}</${element}>`),
        );
        cases.push({ file, element, value, engine });
      }
    }
    const verdicts = xmllintVerdicts(
      xsd,
      cases.map((c) => c.file),
    );
    const disagree = cases
      .filter((c) => verdicts.get(c.file) !== c.engine.ok && !(stricterOnPurpose(c.value, elements.get(c.element)![0]!) && !c.engine.ok) && !(several(c.element) && c.engine.ok))
      .map((c) => `${c.element}=${JSON.stringify(c.value)}: engine ${c.engine.ok}, xmllint ${verdicts.get(c.file)}`);
    expect(disagree).toEqual([]);
    // The limits the issue names: the fiscal flows' names and streets stop at 200 characters.
    expect(cases.length).toBeGreaterThan(50);
    expect(cases.some((c) => !c.engine.ok)).toBe(true);
  });
});

describe('a required text made of whitespace only', () => {
  const checks = compileSchemaChecks(path.join(ROOT, 'schemas', 'belcotax-281-18', 'v2.xsd'), 'belcotax-281-18/v2.xsd');
  const naam = checks.get('f2013_naam')!;
  const refusal = (value: string): string | null => {
    try {
      naam(value);
      return null;
    } catch (err) {
      expect(err).toBeInstanceOf(RecordContentError);
      return `${(err as RecordContentError).rule}: ${(err as Error).message}`;
    }
  };

  it('is refused under text-too-short, like an empty one, naming the element and not the value (it was written as "   ")', () => {
    expect(refusal('')).toBe('text-too-short: f2013_naam is empty; belcotax-281-18/v2.xsd requires at least 1: complete it in the dossier');
    const blank = 'text-too-short: f2013_naam is blank (only whitespace), and a required text needs a character other than whitespace: complete it in the dossier';
    for (const value of [' ', '   ', '\t', ' \n\r ', '\u00a0', '\u3000 ']) expect(refusal(value)).toBe(blank);
  });

  it('keeps a real value with its spaces, as it always did', () => {
    for (const value of ['Peeters', ' Peeters', 'Van Damme ', ' x ']) expect(refusal(value)).toBeNull();
  });
});

describe('XSD patterns and facets the flows may use', () => {
  const TYPES: Record<string, string> = {
    Digits: '<xs:restriction base="xs:string"><xs:pattern value="\\d{2}"/></xs:restriction>',
    NotA: '<xs:restriction base="xs:string"><xs:pattern value="[^a]+"/></xs:restriction>',
    AnyThree: '<xs:restriction base="xs:string"><xs:pattern value=".{3}"/></xs:restriction>',
    Literal: '<xs:restriction base="xs:string"><xs:pattern value="a^b$"/></xs:restriction>',
    Spaces: '<xs:restriction base="xs:string"><xs:pattern value="\\s*x\\S"/></xs:restriction>',
    Word: '<xs:restriction base="xs:string"><xs:pattern value="\\w+"/></xs:restriction>',
    DigitOrDash: '<xs:restriction base="xs:string"><xs:pattern value="[\\d\\-]{3}"/></xs:restriction>',
    Upper: '<xs:restriction base="xs:string"><xs:pattern value="\\p{Lu}\\p{Ll}*"/></xs:restriction>',
    Either: '<xs:restriction base="xs:string"><xs:pattern value="ab"/><xs:pattern value="cd"/></xs:restriction>',
    Both: '<xs:restriction base="Either"><xs:pattern value="a."/></xs:restriction>',
    Token: '<xs:restriction base="xs:token"><xs:maxLength value="3"/><xs:enumeration value="a b"/><xs:enumeration value="c"/></xs:restriction>',
    Exactly: '<xs:restriction base="xs:string"><xs:length value="2"/></xs:restriction>',
    Digits3: '<xs:restriction base="xs:integer"><xs:totalDigits value="3"/><xs:minExclusive value="-5"/><xs:maxExclusive value="500"/></xs:restriction>',
    Small: '<xs:restriction base="xs:unsignedByte"/>',
  };
  const VALUES = [
    '',
    'a',
    'ab',
    'cd',
    'aX',
    'x',
    'abc',
    ' x1',
    '\tx!',
    'x ',
    'a^b$',
    '12',
    '٣٤',
    '1-2',
    '---',
    'Été',
    'été',
    'a b',
    ' ',
    '  ',
    ' a  b ',
    'c',
    'a\u2028b',
    'é😀',
    '-5',
    '-4',
    '499',
    '500',
    '0999',
    '256',
    '255',
    '+7',
    ' 12 ',
    'x\ny',
    'word_1',
  ];

  it('refuses exactly what xmllint refuses, for patterns (\\d, \\s, \\w, ., ^, $, classes, categories), whiteSpace, lengths, digits and bounds', async () => {
    const tmp = await scratchDir('patterns');
    try {
      const xsd = path.join(tmp.dir, 'probe.xsd');
      await fs.writeFile(
        xsd,
        `<?xml version="1.0"?>\n<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema">\n` +
          Object.entries(TYPES)
            .map(([n, body]) => `<xs:simpleType name="${n}">${body}</xs:simpleType>\n`)
            .join('') +
          `<xs:element name="Probe"><xs:complexType><xs:choice>${Object.keys(TYPES)
            .map((n) => `<xs:element name="V${n}" type="${n}"/>`)
            .join('')}</xs:choice></xs:complexType></xs:element>\n</xs:schema>\n`,
      );
      const checks = compileSchemaChecks(xsd, 'probe.xsd');
      const { elements } = readSchemaElements(xsd);
      const cases: { file: string; label: string; ok: boolean; lax: boolean }[] = [];
      for (const type of Object.keys(TYPES)) {
        for (const value of VALUES) {
          const file = path.join(tmp.dir, `${cases.length}.xml`);
          await fs.writeFile(file, `<Probe><V${type}>${escapeXml(value)}</V${type}></Probe>`);
          cases.push({ file, label: `${type} ${JSON.stringify(value)}`, ok: engineVerdict(checks.get(`V${type}`)!, value).ok, lax: stricterOnPurpose(value, elements.get(`V${type}`)![0]!) });
        }
      }
      const verdicts = xmllintVerdicts(
        xsd,
        cases.map((c) => c.file),
      );
      expect(cases.filter((c) => verdicts.get(c.file) !== c.ok && !(c.lax && !c.ok)).map((c) => `${c.label}: engine ${c.ok}, xmllint ${verdicts.get(c.file)}`)).toEqual([]);
      expect(cases.filter((c) => c.ok).length).toBeGreaterThan(20);
    } finally {
      await tmp.remove();
    }
  });

  it('says why a schema cannot be checked by element name: one name with two lengths, a list, a pattern without JavaScript equivalent; two codes under one name are both allowed', async () => {
    const tmp = await scratchDir('unsupported');
    try {
      const write = async (name: string, body: string): Promise<string> => {
        const file = path.join(tmp.dir, name);
        await fs.writeFile(file, `<?xml version="1.0"?>\n<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema">${body}</xs:schema>\n`);
        return file;
      };
      const twice = await write(
        'twice.xsd',
        '<xs:element name="R"><xs:complexType><xs:sequence><xs:element name="A" type="xs:string"/><xs:element name="B"><xs:complexType><xs:sequence><xs:element name="A" type="xs:int"/></xs:sequence></xs:complexType></xs:element></xs:sequence></xs:complexType></xs:element>',
      );
      expect(() => compileSchemaChecks(twice, 'twice.xsd')).toThrow('twice.xsd declares A with types of different lengths');
      const codes = await write(
        'codes.xsd',
        '<xs:element name="R"><xs:complexType><xs:choice><xs:element name="C"><xs:simpleType><xs:restriction base="xs:string"><xs:enumeration value="150"/></xs:restriction></xs:simpleType></xs:element><xs:element name="F"><xs:complexType><xs:sequence><xs:element name="C"><xs:simpleType><xs:restriction base="xs:string"><xs:pattern value="[0-9]{5}"/></xs:restriction></xs:simpleType></xs:element></xs:sequence></xs:complexType></xs:element></xs:choice></xs:complexType></xs:element>',
      );
      const c = compileSchemaChecks(codes, 'codes.xsd').get('C')!;
      expect(engineVerdict(c, '150').ok && engineVerdict(c, '00111').ok).toBe(true);
      expect(engineVerdict(c, '15')).toEqual({ ok: false, rule: 'text-not-in-list' });
      const lengths = await write(
        'lengths.xsd',
        '<xs:element name="R"><xs:complexType><xs:choice><xs:element name="A"><xs:simpleType><xs:restriction base="xs:string"><xs:maxLength value="4"/></xs:restriction></xs:simpleType></xs:element><xs:element name="B"><xs:complexType><xs:sequence><xs:element name="A"><xs:simpleType><xs:restriction base="xs:string"><xs:maxLength value="9"/></xs:restriction></xs:simpleType></xs:element></xs:sequence></xs:complexType></xs:element></xs:choice></xs:complexType></xs:element>',
      );
      expect(() => compileSchemaChecks(lengths, 'lengths.xsd')).toThrow('lengths.xsd declares A with types of different lengths');
      const list = await write('list.xsd', '<xs:element name="L"><xs:simpleType><xs:list itemType="xs:int"/></xs:simpleType></xs:element>');
      expect(() => compileSchemaChecks(list, 'list.xsd')).toThrow('element L is an xs:list');
      const name = await write('name.xsd', '<xs:element name="N"><xs:simpleType><xs:restriction base="xs:string"><xs:pattern value="\\i\\c*"/></xs:restriction></xs:simpleType></xs:element>');
      expect(() => compileSchemaChecks(name, 'name.xsd')).toThrow(/the pattern of N .* cannot be checked/);
    } finally {
      await tmp.remove();
    }
  });
});
