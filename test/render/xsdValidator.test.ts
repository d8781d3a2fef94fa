import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, test } from 'vitest';
import { SchemaConformanceError, ToolError } from '../../src/errors/errors.js';
import { createXsdValidator } from '../../src/render/xsdValidator.js';
import { ROOT, scratchDir } from '../helpers/runHarness.js';
import { tools } from '../helpers/systemTools.js';

const XSD = path.join(ROOT, 'schemas/career/v1.xsd');
const GOLDEN = path.join(ROOT, 'fixtures/career/golden/FI.CARR.012345.20261010.00001.T.1.1');

// Without xmllint (test/helpers/systemTools.ts), the native validator's own tests are shown
// skipped and the run's closing line says so; MAILLON_TEST_STRICT=1 (CI) refuses to start.
const NATIVE = tools().xmllint !== null;

describe.each([
  ['native xmllint', undefined, 'xmllint'],
  ['npm fallback', 'wasm', 'xmllint-wasm'],
])('XSD validation with the %s', (_label, setting, name) => {
  const it = setting === undefined && !NATIVE ? test.skip : test;
  let tmp: { dir: string; remove: () => Promise<void> };
  beforeAll(async () => {
    tmp = await scratchDir('xsd');
  });
  afterAll(async () => tmp.remove());

  it('accepts the golden career file', async () => {
    const v = createXsdValidator(setting);
    expect(v.name).toBe(name);
    await expect(v.validate([GOLDEN], XSD)).resolves.toBeUndefined();
  });

  it('refuses a file with an INSS of 10 digits, naming the file and schema', async () => {
    const bad = path.join(tmp.dir, 'bad.xml');
    await fs.writeFile(bad, (await fs.readFile(GOLDEN, 'utf8')).replace('<INSS>85073003328</INSS>', '<INSS>8507300332</INSS>'));
    const err = await createXsdValidator(setting)
      .validate([bad], XSD)
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SchemaConformanceError);
    expect((err as Error).message).toContain('bad.xml');
    expect((err as Error).message).toContain('v1.xsd');
  });

  it('validates several files at once, and names the one that does not conform among them', async () => {
    const golden = await fs.readFile(GOLDEN, 'utf8');
    const names = ['a.xml', 'b.xml', 'c.xml'].map((n) => path.join(tmp.dir, n));
    for (const n of names) await fs.writeFile(n, golden);
    const v = createXsdValidator(setting);
    await expect(v.validate(names, XSD)).resolves.toBeUndefined();
    await fs.writeFile(names[1]!, golden.replace('<INSS>85073003328</INSS>', '<INSS>8507300332</INSS>'));
    const err = await v.validate(names, XSD).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SchemaConformanceError);
    expect((err as Error).message).toContain('b.xml');
    expect((err as Error).message).not.toContain('a.xml');
    await expect(v.validate([], XSD)).resolves.toBeUndefined();
  });
});

describe('createXsdValidator', () => {
  it('refuses an explicit xmllint path that cannot run', () => {
    expect(() => createXsdValidator('/nonexistent/xmllint')).toThrow(ToolError);
  });
});

describe.skipIf(!NATIVE)('XSD validation that reads along as the file is written (native xmllint)', () => {
  async function feed(text: string): Promise<unknown> {
    const v = createXsdValidator(undefined).stream!(XSD, 'FI.CARR.test');
    const bytes = Buffer.from(text, 'utf8');
    // In small chunks, as the file sink hands them over.
    for (let i = 0; i < bytes.length; i += 1000) {
      const wait = v.write(bytes.subarray(i, i + 1000));
      if (wait) await wait;
    }
    v.end();
    return v.done.catch((e: unknown) => e);
  }

  it('accepts the golden career file, and refuses an INSS of 10 digits naming the file, its line and the schema', async () => {
    const golden = await fs.readFile(GOLDEN, 'utf8');
    expect(await feed(golden)).toBeUndefined();
    const err = await feed(golden.replace('<INSS>85073003328</INSS>', '<INSS>8507300332</INSS>'));
    expect(err).toBeInstanceOf(SchemaConformanceError);
    expect((err as Error).message).toMatch(/FI\.CARR\.test:\d+: .*INSS/);
    expect((err as Error).message).toContain('v1.xsd');
  });

  it('refuses a file cut short, and a file that is not XML at all (xmllint stops reading early)', async () => {
    const golden = await fs.readFile(GOLDEN, 'utf8');
    const cut = await feed(golden.slice(0, golden.length - 40));
    expect(cut).toBeInstanceOf(SchemaConformanceError);
    expect((cut as Error).message).toMatch(/FI\.CARR\.test: not well-formed XML/);
    expect(await feed(`<<<${'x'.repeat(300_000)}`)).toBeInstanceOf(SchemaConformanceError);
  });
});
