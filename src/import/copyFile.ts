import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { parse } from 'csv-parse';
import { parse as parseSync } from 'csv-parse/sync';
import { from as copyFrom } from 'pg-copy-streams';
import type { PoolClient } from '../db/database.js';
import { checkRecord, headerMatches } from './checkField.js';
import { CSV_READING, type TableSpec } from './contract.js';
import { lineFormat } from './lineFormat.js';

/** What the bulk COPY of one file produced, and whether PostgreSQL read it as the contract does. */
export interface BulkCopy {
  rows: number;
  sha256: string;
  /** Null when every record was checked and read exactly as the row-by-row path reads it; otherwise why not. */
  doubt: string | null;
}

const QUOTE = 0x22;
const NEWLINE = 0x0a;

/**
 * Streams a CSV file unchanged into its dossier table with PostgreSQL's own CSV reader and
 * converters (`COPY … (FORMAT csv, HEADER true, FORCE_NULL …)`), hashing it and checking every
 * record on the way, in this thread while PostgreSQL works in its own.
 *
 * PostgreSQL is laxer than the contract (a quote inside an unquoted field opens a quoted
 * section, a line holding only `\.` ends the data, `2024-1-5` or ` +5` convert), so the file is
 * read a second time here: a file without any quote character line by line against one regular
 * expression built from the contract (src/import/lineFormat.ts); a file with quotes by csv-parse
 * (strict RFC 4180) and the row-by-row field checks. Both counts of records must agree. Any
 * doubt is returned, and the caller then imports row by row, which reports every break.
 */
export async function copyFile(
  client: PoolClient,
  spec: TableSpec,
  filePath: string,
  onBytes: (n: number) => void = () => undefined,
  table = `dossier.${spec.table}`,
): Promise<BulkCopy> {
  const header = await readHeader(filePath);
  if (header === null || !headerMatches(spec, header)) return { rows: 0, sha256: '', doubt: 'its header is not the contract header' };
  const expected = spec.columns.map((c) => c.name);
  const checker = (await containsByte(filePath, QUOTE)) ? strictReader(spec) : lineReader(spec);
  const hash = createHash('sha256');
  const source = createReadStream(filePath, { highWaterMark: 1 << 20 });
  source.on('data', (data: string | Buffer) => {
    const chunk = data as Buffer;
    hash.update(chunk);
    checker.write(chunk);
    onBytes(chunk.length);
  });
  const nullable = spec.columns.filter((c) => c.nullable).map((c) => c.name);
  const options = `FORMAT csv, HEADER true${nullable.length > 0 ? `, FORCE_NULL (${nullable.join(', ')})` : ''}`;
  const copy = client.query(copyFrom(`COPY ${table} (${expected.join(', ')}) FROM STDIN WITH (${options})`));
  await pipeline(source as Readable, copy);
  const rows = Number(copy.rowCount);
  const sha256 = hash.digest('hex');
  const read = await checker.end();
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
    const records = parseSync(head.subarray(0, end === -1 ? head.length : end), CSV_READING) as string[][];
    return records[0] ?? null;
  } catch {
    return null;
  }
}

/** True when the file holds the byte anywhere (stops at the first one). */
async function containsByte(filePath: string, byte: number): Promise<boolean> {
  const stream = createReadStream(filePath, { highWaterMark: 1 << 20 });
  for await (const chunk of stream) {
    if ((chunk as Buffer).includes(byte)) {
      stream.destroy();
      return true;
    }
  }
  return false;
}

interface Read {
  /** Data records (the header excluded). */
  records: number;
  problem: string | null;
}

interface Checker {
  write(chunk: Buffer): void;
  end(): Promise<Read>;
}

/** A file without quotes: every data line must match the contract's line format. */
function lineReader(spec: TableSpec): Checker {
  const format = lineFormat(spec);
  const result: Read = { records: 0, problem: null };
  let rest = '';
  let lineNo = 0;
  const check = (line: string): void => {
    lineNo++;
    if (lineNo === 1) return;
    result.records++;
    if (result.problem === null && !format.test(line)) result.problem = `line ${lineNo} does not have the contract's form`;
  };
  return {
    write(chunk) {
      // latin1: one character per byte, and no byte of a multi-byte UTF-8 character is a comma or a newline.
      const lines = (rest + chunk.toString('latin1')).split('\n');
      rest = lines.pop()!;
      for (const line of lines) check(line);
    },
    end() {
      if (rest !== '') check(rest);
      return Promise.resolve(result);
    },
  };
}

/** A file with quotes: csv-parse (strict RFC 4180), the field count and each field's check. */
function strictReader(spec: TableSpec): Checker {
  const parser = parse(CSV_READING);
  const result: Read = { records: -1, problem: null };
  parser.on('data', (record: string[]) => {
    result.records++;
    if (result.records === 0 || result.problem !== null) return;
    if (record.length !== spec.columns.length) {
      result.problem = `record ${result.records} has ${record.length} fields`;
      return;
    }
    checkRecord(spec, record, (column, why) => (result.problem ??= `record ${result.records}: ${column}: ${why}`));
  });
  const done = new Promise<Read>((resolve) => {
    parser.on('error', (err: Error) => {
      result.problem ??= `not valid CSV: ${err.message}`;
      resolve(result);
    });
    parser.on('end', () => resolve(result));
  });
  return {
    write: (chunk) => {
      if (!parser.destroyed) parser.write(chunk);
    },
    end: () => {
      if (!parser.destroyed) parser.end();
      return done.then((r) => ({ ...r, records: Math.max(r.records, 0) }));
    },
  };
}
