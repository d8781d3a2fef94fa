import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TableSpec } from '../../src/import/contract.js';
import { recordReader } from '../../src/import/recordReader.js';

// A name (text, required), an amount of at least 1 and a date (optional).
const SPEC: TableSpec = {
  file: 'x.csv',
  table: 'x',
  columns: [
    { name: 'name', type: { kind: 'text' }, nullable: false, sqlType: 'text' },
    { name: 'amount', type: { kind: 'integer', min: 1 }, nullable: false, sqlType: 'bigint' },
    { name: 'paid_on', type: { kind: 'date' }, nullable: true, sqlType: 'date' },
  ],
  references: [],
  required: true,
};

let dir = '';
beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'maillon-reader-'));
});
afterAll(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

/** Reads `text` as a file, handed to the reader in chunks of `size` bytes. */
async function readIn(text: string, size: number): Promise<{ records: number; problem: string | null }> {
  const file = path.join(dir, `f${size}.csv`);
  const bytes = Buffer.from(text, 'utf8');
  await fs.writeFile(file, bytes);
  const reader = recordReader(SPEC, file);
  for (let at = 0; at < bytes.length; at += size) reader.write(bytes.subarray(at, at + size));
  return reader.end();
}

const HEADER = 'name,amount,paid_on\n';
// Quoted fields with a comma, doubled quotes, line breaks (line 4 opens a field closed on line 6),
// a UTF-8 name, CRLF line ends, and no line break after the last record.
const GOOD = `${HEADER}Dupont,100,2024-01-05\n"Van ""Het"" Hof, Jan",7,\n"Rue de la Loi 16\nboîte 3\n2e étage",12,2025-02-28\r\nÉlodie,1,\r\nZ,3,2020-01-01`;
const SIZES = [1, 2, 3, 5, 7, 11, 16, 64, 1 << 20];

describe('record reader of the bulk path', () => {
  it('counts every record however the file is cut into chunks: quoted line breaks, CRLF, no final line break', async () => {
    for (const size of SIZES) expect(await readIn(GOOD, size), `chunks of ${size}`).toEqual({ records: 5, problem: null });
    expect(await readIn(`${GOOD}\n`, 4)).toEqual({ records: 5, problem: null });
    expect(await readIn(HEADER, 3)).toEqual({ records: 0, problem: null });
    expect(await readIn('name,amount,paid_on', 3)).toEqual({ records: 0, problem: null });
  });

  it("names the line of the first record without the contract's form, the line breaks of quoted fields counted", async () => {
    const bad = [
      { text: `${GOOD}\nY,0,\n`, line: 9 }, // amount below 1
      { text: GOOD.replace('Dupont,100', 'Dupont,+100'), line: 2 },
      { text: GOOD.replace('Élodie,1,', 'Élodie,1'), line: 7 }, // a field missing, after the multi-line record
      { text: GOOD.replace('"Van ""Het"" Hof, Jan"', '"Van "Het" Hof, Jan"'), line: 3 }, // undoubled quotes, balanced
      { text: GOOD.replace('2024-01-05', '"2024-01-05"'), line: 2 }, // a quoted date: the row-by-row path reads it
    ];
    for (const { text, line } of bad) {
      for (const size of SIZES) expect((await readIn(text, size)).problem, `chunks of ${size}: ${text}`).toBe(`line ${line} does not have the contract's form`);
    }
  });

  it('refuses a quoted field that is never closed, or not within 64 KiB, at the line that opens it', async () => {
    for (const size of [1, 5, 64, 1 << 20]) {
      expect((await readIn(`${GOOD}\n"Markt 2,5,\nA,1,\n`, size)).problem).toBe('line 9 opens a quoted field that is never closed');
    }
    const long = `${HEADER}A,1,\n"${'x,\n'.repeat(30_000)}",5,\nB,2,\n`;
    for (const size of [4096, 1 << 20]) {
      expect((await readIn(long, size)).problem).toBe('line 3 opens a quoted field that is not closed within 65536 characters');
    }
    // Within the limit, the same field is read.
    expect(await readIn(`${HEADER}A,1,\n"${'x,\n'.repeat(1_000)}",5,\nB,2,\n`, 1000)).toEqual({ records: 3, problem: null });
  });

  it('names the line of a quoted field of 10 MB instead of overflowing the stack (RangeError: Maximum call stack size exceeded)', async () => {
    const file = path.join(dir, 'long-quoted.csv');
    const field = Buffer.alloc(10_000_000, 'A');
    const bytes = Buffer.concat([Buffer.from(`${HEADER}A,1,\n"`), field, Buffer.from('",5,\nB,2,\n')]);
    await fs.writeFile(file, bytes);
    // In the chunks copyFile reads (1 MiB), and in one chunk holding the whole file.
    for (const size of [1 << 20, bytes.length]) {
      const reader = recordReader(SPEC, file);
      for (let at = 0; at < bytes.length; at += size) reader.write(bytes.subarray(at, at + size));
      expect((await reader.end()).problem, `chunks of ${size}`).toBe('line 3 opens a quoted field that is not closed within 65536 characters');
    }
  });
});
