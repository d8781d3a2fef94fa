import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { parse } from 'csv-parse';
import { parse as parseSync } from 'csv-parse/sync';
import { from as copyFrom } from 'pg-copy-streams';
import type { PoolClient } from '../db/database.js';
import type { TableSpec } from './contract.js';

/** What the bulk COPY of one file produced, and whether PostgreSQL read it as csv-parse would. */
export interface RawCopy {
  rows: number;
  sha256: string;
  /** Null when the file was read exactly like the row-by-row path reads it; otherwise why not. */
  doubt: string | null;
}

const QUOTE = 0x22;
const NEWLINE = 0x0a;

/** Name of the temporary all-text table a file is copied into on the bulk path. */
export function rawTable(spec: TableSpec): string {
  return `raw_${spec.table}`;
}

/** Creates the temporary all-text table of a file (dropped at commit). */
export async function createRawTable(client: PoolClient, spec: TableSpec): Promise<void> {
  await client.query(`CREATE TEMP TABLE ${rawTable(spec)} (${spec.columns.map((c) => `${c.name} text`).join(', ')}) ON COMMIT DROP`);
}

/**
 * Streams a CSV file unchanged into its all-text table with PostgreSQL's own CSV reader
 * (`COPY … (FORMAT csv, HEADER true)`), hashing it on the way.
 *
 * PostgreSQL's reader is laxer than RFC 4180 (a quote inside an unquoted field opens a quoted
 * section; a line holding only `\.` ends the data), so the copy is only trusted when the file
 * was also read as the contract reads it: a file without any quote character has one record
 * per line, which counting newlines confirms; a file with quotes is also read by csv-parse
 * (strict RFC 4180), whose record count and field counts must agree. Any doubt is returned, and
 * the caller then imports row by row, which reports every break precisely.
 */
export async function copyRawFile(
  client: PoolClient,
  spec: TableSpec,
  filePath: string,
  onBytes: (n: number) => void = () => undefined,
): Promise<RawCopy> {
  const header = await readHeader(filePath);
  const expected = spec.columns.map((c) => c.name);
  if (header === null || header.length !== expected.length || header.some((name, i) => name !== expected[i])) {
    return { rows: 0, sha256: '', doubt: 'its header is not the contract header' };
  }
  const hasQuote = await containsByte(filePath, QUOTE);
  const hash = createHash('sha256');
  let newlines = 0;
  let lastByte = -1;
  const strict = hasQuote ? strictReader(expected.length) : null;
  const source = createReadStream(filePath, { highWaterMark: 1 << 20 });
  source.on('data', (data: string | Buffer) => {
    const chunk = data as Buffer;
    hash.update(chunk);
    for (let i = chunk.indexOf(NEWLINE); i !== -1; i = chunk.indexOf(NEWLINE, i + 1)) newlines++;
    if (chunk.length > 0) lastByte = chunk[chunk.length - 1]!;
    strict?.write(chunk);
    onBytes(chunk.length);
  });
  const copy = client.query(copyFrom(`COPY ${rawTable(spec)} (${expected.join(', ')}) FROM STDIN WITH (FORMAT csv, HEADER true)`));
  await pipeline(source as Readable, copy);
  const rows = Number(copy.rowCount);
  const sha256 = hash.digest('hex');
  if (strict) {
    const read = await strict.end();
    if (read.problem) return { rows, sha256, doubt: read.problem };
    if (read.records - 1 !== rows) return { rows, sha256, doubt: `csv-parse reads ${read.records - 1} records, PostgreSQL ${rows}` };
    return { rows, sha256, doubt: null };
  }
  const lines = newlines + (lastByte !== -1 && lastByte !== NEWLINE ? 1 : 0);
  if (lines !== rows + 1) return { rows, sha256, doubt: `${lines} lines for ${rows} records and a header` };
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
    const records = parseSync(head.subarray(0, end === -1 ? head.length : end), { bom: true, relax_column_count: true }) as string[][];
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

interface StrictRead {
  records: number;
  problem: string | null;
}

/** csv-parse fed chunk by chunk, counting records and noting the first structural problem. */
function strictReader(fields: number): { write(chunk: Buffer): void; end(): Promise<StrictRead> } {
  const parser = parse({ bom: true, relax_column_count: true, skip_empty_lines: true });
  const result: StrictRead = { records: 0, problem: null };
  parser.on('data', (record: string[]) => {
    result.records++;
    if (record.length !== fields && result.problem === null) result.problem = `record ${result.records} has ${record.length} fields`;
  });
  const done = new Promise<StrictRead>((resolve) => {
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
      return done;
    },
  };
}
