import { readFileSync } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ContractBreak, ImportError } from '../../src/errors/errors.js';
import { BulkPathRefused, bulkImport } from '../../src/import/bulkImport.js';
import { importFolder } from '../../src/import/importFolder.js';
import { createByteCheck, decodeField } from '../../src/import/textBytes.js';
import { maillon } from '../helpers/cli.js';
import { DOSSIER_2024 } from '../helpers/flowFixture.js';
import { scratchDir } from '../helpers/runHarness.js';
import { createTestDatabase, type TestDatabase } from '../helpers/testDatabase.js';

/**
 * The dossier of 2024 with the bytes of one field of D02 (line 3 of affiliates.csv) replaced.
 * `blank` adds an empty line to companies.csv: the bulk path leaves such a folder at once, so the
 * row-by-row path is the one that meets the bytes.
 */
async function folderWith(dir: string, column: number, bytes: Buffer, blank = false): Promise<string> {
  await fs.cp(DOSSIER_2024, dir, { recursive: true });
  const lines = readFileSync(path.join(DOSSIER_2024, 'affiliates.csv')).toString('latin1').split('\n');
  const fields = lines[2]!.split(',');
  fields[column] = bytes.toString('latin1');
  lines[2] = fields.join(',');
  await fs.writeFile(path.join(dir, 'affiliates.csv'), Buffer.from(lines.join('\n'), 'latin1'));
  if (blank) await fs.appendFile(path.join(dir, 'companies.csv'), '\n');
  return dir;
}

const LAST_NAME = 2;
const FIRST_NAME = 3;
const STREET = 7;
const CITY = 9;

const CASES = [
  { name: 'a NUL byte', column: LAST_NAME, bytes: Buffer.from('Le\u0000noir'), reason: 'last_name: holds a NUL byte (U+0000) at character 3', bulk: /a NUL byte/ },
  {
    name: 'invalid UTF-8 (Caf\\xc3\\x28\\xff)',
    column: CITY,
    bytes: Buffer.from([0x43, 0x61, 0x66, 0xc3, 0x28, 0xff]),
    reason: 'city: is not valid UTF-8 at byte 4 of the field (0xC3 0x28 0xFF)',
    bulk: /not UTF-8/,
  },
  {
    name: 'a control character XML forbids (U+0007)',
    column: STREET,
    bytes: Buffer.from('Rue\u0007 de Rivoli 1'),
    reason: 'street: holds the control character U+0007 at character 4',
    bulk: /does not have the contract's form/,
  },
  { name: 'the noncharacter U+FFFF', column: FIRST_NAME, bytes: Buffer.from('No\uFFFFël'), reason: 'first_name: holds the noncharacter U+FFFF at character 3', bulk: /U\+FFFE or U\+FFFF/ },
];

describe('import: every byte the contract refuses is named, on both paths', () => {
  let db: TestDatabase;
  let tmp: { dir: string; remove: () => Promise<void> };
  let n = 0;
  const next = (): string => path.join(tmp.dir, `f${++n}`);
  beforeAll(async () => {
    db = await createTestDatabase();
    tmp = await scratchDir('bytes');
    await importFolder(db.pool, DOSSIER_2024);
  });
  afterAll(async () => {
    await db.drop();
    await tmp.remove();
  });

  for (const c of CASES) {
    it(`${c.name}: the bulk path refuses it itself, and the import fails naming file, line and column, with nothing imported`, async () => {
      const before = await db.pool.query(`SELECT * FROM dossier.affiliates ORDER BY affiliate_id`);
      const folder = await folderWith(next(), c.column, c.bytes);
      const refused = await bulkImport(db.pool, folder, () => undefined).catch((e: unknown) => e);
      expect(refused).toBeInstanceOf(BulkPathRefused);
      expect((refused as BulkPathRefused).reason).toMatch(/^affiliates\.csv: /);
      expect((refused as BulkPathRefused).reason).toMatch(c.bulk);
      for (const blank of [false, true]) {
        const breaks: ContractBreak[] = [];
        const err = await importFolder(db.pool, await folderWith(next(), c.column, c.bytes, blank), (b) => breaks.push(b)).catch((e: unknown) => e);
        expect(err).toBeInstanceOf(ImportError);
        expect((err as ImportError).exitCode).toBe(3);
        expect(breaks.map((b) => `${b.file}:${b.line}: ${b.column}: ${b.reason}`)).toEqual([expect.stringContaining(`affiliates.csv:3: ${c.reason}`)]);
      }
      expect((await db.pool.query(`SELECT * FROM dossier.affiliates ORDER BY affiliate_id`)).rows).toEqual(before.rows);
    });
  }

  it('takes tab, line breaks, a byte order mark, C1 controls and characters beyond U+FFFF unchanged, on both paths', async () => {
    for (const blank of [false, true]) {
      const folder = await folderWith(next(), STREET, Buffer.from('"Rue\tde la Loi 16\r\nboîte 3 \u0085 😀"'), blank);
      const text = await fs.readFile(path.join(folder, 'affiliates.csv'));
      await fs.writeFile(path.join(folder, 'affiliates.csv'), Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), text]));
      const result = await importFolder(db.pool, folder);
      expect(result.method).toBe(blank ? 'row-by-row' : 'bulk');
      const row = await db.pool.query(`SELECT street FROM dossier.affiliates WHERE affiliate_id = 'D02'`);
      expect(row.rows[0].street).toBe('Rue\tde la Loi 16\r\nboîte 3 \u0085 😀');
    }
  });

  it('maillon import exits 3 with file:line: column: reason for a NUL byte (it failed with exit 1, "unexpected failure")', async () => {
    const home = path.join(tmp.dir, 'home');
    const folder = await folderWith(next(), LAST_NAME, CASES[0]!.bytes);
    const out = await maillon(['import', folder], { DATABASE_URL: db.url, MAILLON_HOME: home, MAILLON_SENDER: '012345', MAILLON_ENV: 'T' });
    expect(out.code).toBe(3);
    expect(out.stderr).toContain('affiliates.csv:3: last_name: holds a NUL byte (U+0000) at character 3');
    expect(out.stderr).not.toContain('unexpected failure');
  });
});

describe('the byte checks', () => {
  it('finds bad bytes wherever the chunks cut the file, and a character cut short at its end', () => {
    const good = Buffer.from('a,é,😀,\uFFFD,x\n'.repeat(50));
    const bad = [Buffer.from([0xc3, 0x28]), Buffer.from([0xed, 0xa0, 0x80]), Buffer.from([0xc0, 0x80]), Buffer.from('\uFFFE'), Buffer.from([0])];
    for (let size = 1; size <= 7; size++) {
      const read = (b: Buffer): string | null => {
        const check = createByteCheck();
        for (let at = 0; at < b.length; at += size) check.write(b.subarray(at, at + size));
        return check.end();
      };
      expect(read(good), `chunks of ${size}`).toBeNull();
      for (const b of bad) expect(read(Buffer.concat([good, b, good])), `${b.toString('hex')} in chunks of ${size}`).not.toBeNull();
      expect(read(Buffer.concat([good, Buffer.from('😀').subarray(0, 3)]))).toMatch(/cut short/);
    }
  });

  it('decodes a field read as latin1, or names its first byte that is not UTF-8', () => {
    expect(decodeField(Buffer.from('Noël 😀').toString('latin1'))).toEqual({ text: 'Noël 😀', problem: null });
    expect(decodeField('Caf\xc3\x28\xff').problem).toBe('is not valid UTF-8 at byte 4 of the field (0xC3 0x28 0xFF): export the file as UTF-8');
    expect(decodeField('ab\xed\xa0\x80').problem).toMatch(/at byte 3 .*0xED 0xA0 0x80/);
  });
});
