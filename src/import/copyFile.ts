import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { parse as parseSync } from 'csv-parse/sync';
import { from as copyFrom } from 'pg-copy-streams';
import type { PoolClient } from '../db/database.js';
import { headerMatches } from './checkField.js';
import { CSV_READING, type TableSpec } from './contract.js';
import { recordReader } from './recordReader.js';
import { createByteCheck } from './textBytes.js';

/** What the bulk COPY of one file produced, and whether PostgreSQL read it as the contract does. */
export interface BulkCopy {
  rows: number;
  sha256: string;
  /** Null when every record was checked and read exactly as the row-by-row path reads it; otherwise why not. */
  doubt: string | null;
}

const NEWLINE = 0x0a;

/**
 * Streams a CSV file unchanged into its dossier table with PostgreSQL's own CSV reader and
 * converters (`COPY … (FORMAT csv, HEADER true, FREEZE true, FORCE_NULL …)`), hashing it and
 * checking every record on the way, in this thread while PostgreSQL works in its own.
 *
 * FREEZE: the table was created in this transaction, so no one else can see it before the
 * commit, and its rows are written frozen with their pages marked all-visible. Otherwise the
 * first reader of each row (building the keys, checking the references, the first flow) sets
 * its hint bits and writes the page again, which made the reference checks several times slower
 * (docs/decisions/0007-copy-freeze.md).
 *
 * PostgreSQL is laxer than the contract (a quote inside an unquoted field opens a quoted
 * section, a line holding only `\.` ends the data, `2024-1-5` or ` +5` convert), so the file is
 * read a second time here, every record against one regular expression built from the contract
 * (src/import/recordFormat.ts). Both counts of records must agree. Any doubt is returned, and the
 * caller then imports row by row, which reports every break. (One expression is cheaper than
 * csv-parse reading along: docs/decisions/0005-bulk-import-path.md.)
 *
 * The bytes are checked here too (src/import/textBytes.ts): PostgreSQL would refuse bytes that
 * are not UTF-8 or a NUL without naming a line, and take U+FFFE, U+FFFF and the control
 * characters XML cannot carry. Any of them is a doubt: the row-by-row path names each.
 */
export async function copyFile(client: PoolClient, spec: TableSpec, filePath: string, onBytes: (n: number) => void = () => undefined, table = `dossier.${spec.table}`): Promise<BulkCopy> {
  const header = await readHeader(filePath);
  if (header === null || !headerMatches(spec, header)) return { rows: 0, sha256: '', doubt: 'its header is not the contract header' };
  const expected = spec.columns.map((c) => c.name);
  const checker = recordReader(spec, filePath);
  const bytes = createByteCheck();
  const hash = createHash('sha256');
  const source = createReadStream(filePath, { highWaterMark: 1 << 20 });
  source.on('data', (data: string | Buffer) => {
    const chunk = data as Buffer;
    hash.update(chunk);
    bytes.write(chunk);
    checker.write(chunk);
    onBytes(chunk.length);
  });
  const nullable = spec.columns.filter((c) => c.nullable).map((c) => c.name);
  const options = `FORMAT csv, HEADER true, FREEZE true${nullable.length > 0 ? `, FORCE_NULL (${nullable.join(', ')})` : ''}`;
  const copy = client.query(copyFrom(`COPY ${table} (${expected.join(', ')}) FROM STDIN WITH (${options})`));
  try {
    await pipeline(source as Readable, copy);
  } catch (err) {
    // PostgreSQL stops at a NUL or at bytes that are not UTF-8 without saying where: say what.
    const refused = bytes.found();
    if (refused) return { rows: 0, sha256: '', doubt: `it holds ${refused}` };
    throw err;
  }
  const rows = Number(copy.rowCount);
  const sha256 = hash.digest('hex');
  const read = await checker.end();
  const refused = bytes.end();
  if (refused) return { rows, sha256, doubt: `it holds ${refused}` };
  if (read.problem) return { rows, sha256, doubt: read.problem };
  if (read.records !== rows) return { rows, sha256, doubt: `${read.records} records read here, ${rows} by PostgreSQL` };
  return { rows, sha256, doubt: null };
}

/** The header record, as csv-parse reads it (BOM removed); null when the file is empty. */
async function readHeader(filePath: string): Promise<string[] | null> {
  const stream = createReadStream(filePath, { start: 0, end: 64 * 1024 - 1 });
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  const head = Buffer.concat(chunks);
  const end = head.indexOf(NEWLINE);
  if (head.length === 0) return null;
  try {
    const records: string[][] = parseSync(head.subarray(0, end === -1 ? head.length : end), CSV_READING);
    return records[0] ?? null;
  } catch {
    return null;
  }
}
