import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { CsvError, parse } from 'csv-parse';
import { copyRow, createCopyIn } from '../db/copyIn.js';
import type { PoolClient } from '../db/database.js';
import type { ContractBreak } from '../errors/errors.js';
import { checkRecord, headerMatches } from './checkField.js';
import { CSV_READING, type TableSpec } from './contract.js';

/** What staging one file produced. */
export interface StagedFile {
  file: string;
  rows: number;
  sha256: string;
}

/** Name of the temporary staging table of a contract table. */
export function stagingTable(spec: TableSpec): string {
  return `stg_${spec.table}`;
}

/** Creates the temporary staging table (dropped at commit): a `line` column then the contract's columns. */
export async function createStagingTable(client: PoolClient, spec: TableSpec): Promise<void> {
  const cols = spec.columns.map((c) => `${c.name} ${c.sqlType}`).join(', ');
  await client.query(`CREATE TEMP TABLE ${stagingTable(spec)} (line integer NOT NULL, ${cols}) ON COMMIT DROP`);
}

/**
 * Streams one CSV file into its staging table with COPY FROM STDIN, checking the header and
 * every field on the way. Each break is passed to `onBreak`; a field that breaks its type is
 * staged as NULL so the key and reference checks that follow still see the row.
 */
export async function stageFile(
  client: PoolClient,
  spec: TableSpec,
  filePath: string,
  onBreak: (b: ContractBreak) => void,
  onRow: () => void = () => undefined,
): Promise<StagedFile> {
  const hash = createHash('sha256');
  const source = createReadStream(filePath);
  source.on('data', (chunk) => hash.update(chunk));
  const parser = source.pipe(parse({ ...CSV_READING, info: true }));
  source.on('error', (err) => parser.destroy(err));
  const copy = createCopyIn(client, `COPY ${stagingTable(spec)} (line, ${spec.columns.map((c) => c.name).join(', ')}) FROM STDIN`);
  const expected = spec.columns.map((c) => c.name);
  let rows = 0;
  let headerSeen = false;
  let headerOk = false;
  try {
    for await (const { record, info } of parser as AsyncIterable<{ record: string[]; info: { lines: number } }>) {
      const line = info.lines - embeddedNewlines(record);
      if (!headerSeen) {
        headerSeen = true;
        headerOk = checkHeader(spec, record, onBreak);
        continue;
      }
      if (!headerOk) continue;
      rows++;
      onRow();
      if (record.length !== expected.length) {
        onBreak({ file: spec.file, line, column: '(row)', reason: `expected ${expected.length} fields, got ${record.length}` });
        continue;
      }
      const values = checkRecord(spec, record, (column, reason) => onBreak({ file: spec.file, line, column, reason }));
      const w = copy.write(copyRow([line, ...values]));
      if (w) await w;
    }
  } catch (err) {
    // csv-parse names its codes inconsistently (CSV_QUOTE_NOT_CLOSED, INVALID_OPENING_QUOTE): test the class.
    if (!(err instanceof CsvError)) throw err;
    const e = err as CsvError & { lines?: number };
    onBreak({ file: spec.file, line: e.lines ?? 0, column: '(row)', reason: `not valid CSV (RFC 4180): ${e.message}` });
  } finally {
    await copy.end();
  }
  if (!headerSeen) onBreak({ file: spec.file, line: 1, column: '(header)', reason: 'the file is empty: the header line is missing' });
  return { file: spec.file, rows, sha256: hash.digest('hex') };
}

function checkHeader(spec: TableSpec, record: string[], onBreak: (b: ContractBreak) => void): boolean {
  if (headerMatches(spec, record)) return true;
  const expected = spec.columns.map((c) => c.name);
  onBreak({
    file: spec.file,
    line: 1,
    column: '(header)',
    reason: `expected exactly "${expected.join(',')}", got "${record.join(',')}"`,
  });
  return false;
}

function embeddedNewlines(record: string[]): number {
  let n = 0;
  for (const field of record) {
    if (field.includes('\n')) n += field.split('\n').length - 1;
  }
  return n;
}
