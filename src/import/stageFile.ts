import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { Transform } from 'node:stream';
import { CsvError, type Info, type Options, parse } from 'csv-parse';
import { copyRow, createCopyIn } from '../db/copyIn.js';
import type { PoolClient } from '../db/database.js';
import type { ContractBreak } from '../errors/errors.js';
import { checkRecord, headerMatches } from './checkField.js';
import { CSV_READING, type TableSpec } from './contract.js';
import { quoteText } from './quoteText.js';

/** What staging one file produced. */
export interface StagedFile {
  file: string;
  rows: number;
  sha256: string;
}

/**
 * Why the row-by-row path staged only part of a file, or none of it: a reference into it that
 * finds no row may point to a row that was never read. 'csv': csv-parse stopped at `line` (the
 * rows before it are staged); 'header', 'empty': none of its rows; 'missing': a required file
 * that is not there.
 */
export type Unread = { cause: 'csv'; line: number } | { cause: 'header' | 'empty' | 'missing' };

/** A file staged: what it produced, and `unread` when it was not read to its end. */
export interface Staging {
  staged: StagedFile;
  unread: Unread | null;
}

/** A record as csv-parse hands it over here: with the line where it starts (physicalLines). */
interface Numbered {
  record: string[];
  line: number;
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
 * staged as NULL so the key and reference checks that follow still see the row. csv-parse reads
 * the bytes as latin1 (one character per byte): a byte that is not UTF-8 reaches the field's
 * check as it is, instead of being replaced by U+FFFD without a word (src/import/textBytes.ts).
 * `unread` says when the file was not staged to its end (a CSV syntax error, a wrong header, an
 * empty file), so that references into it are not judged against rows that were never read.
 */
export async function stageFile(client: PoolClient, spec: TableSpec, filePath: string, onBreak: (b: ContractBreak) => void, onRow: () => void = () => undefined): Promise<Staging> {
  const hash = createHash('sha256');
  const source = createReadStream(filePath);
  source.on('data', (chunk) => hash.update(chunk));
  const lines = physicalLines();
  const parsed: Numbered[] = [];
  const reading: Options<Numbered, string[]> = {
    ...CSV_READING,
    bom: false,
    encoding: 'latin1',
    on_record: (record, info) => {
      const numbered = { record, line: lines.start(record, info) };
      parsed.push(numbered);
      return numbered;
    },
  };
  // csv-parse's types let on_record change the record's type only with `columns`.
  const parser = source.pipe(withoutBom()).pipe(parse(reading as unknown as Options));
  source.on('error', (err) => parser.destroy(err));
  const copy = createCopyIn(client, `COPY ${stagingTable(spec)} (line, ${spec.columns.map((c) => c.name).join(', ')}) FROM STDIN`);
  const expected = spec.columns.map((c) => c.name);
  let rows = 0;
  let headerSeen = false;
  let headerOk = false;
  let unread: Unread | null = null;
  try {
    for await (const { record, line } of upToError(parser as AsyncIterable<Numbered>, parsed)) {
      if (!headerSeen) {
        headerSeen = true;
        headerOk = checkHeader(spec, record, onBreak);
        if (!headerOk) unread = { cause: 'header' };
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
    // Not after a CSV error: that is the file's break then.
    if (!headerSeen) {
      onBreak({ file: spec.file, line: 1, column: '(header)', reason: 'the file is empty: the header line is missing' });
      unread = { cause: 'empty' };
    }
  } catch (err) {
    // csv-parse names its codes inconsistently (CSV_QUOTE_NOT_CLOSED, INVALID_OPENING_QUOTE): test the class.
    if (!(err instanceof CsvError)) throw err;
    const line = lines.atError(err as CsvError & Info);
    onBreak({ file: spec.file, line, column: '(row)', reason: `not valid CSV (RFC 4180): ${csvProblem(err)}; the rest of the file, from this line on, was not read` });
    unread ??= { cause: 'csv', line };
  } finally {
    await copy.end();
  }
  return { staged: { file: spec.file, rows, sha256: hash.digest('hex') }, unread };
}

/**
 * The records of `parser`, then its error if any. A stream that fails drops what it had parsed
 * but not handed over yet: the rows just before a CSV syntax error, as many as one read chunk
 * holds, would go unchecked and unstaged. `parsed` is filled by on_record as csv-parse reads (in
 * order, at most a chunk ahead: backpressure), so what is left in it at the error is exactly that.
 */
async function* upToError(parser: AsyncIterable<Numbered>, parsed: Numbered[]): AsyncGenerator<Numbered> {
  try {
    for await (const numbered of parser) {
      parsed.shift();
      yield numbered;
    }
  } catch (err) {
    yield* parsed.splice(0);
    throw err;
  }
}

/** The most characters of a refused header quoted in its break (the longest contract header has 99). */
const HEADER_SHOWN = 200;

function checkHeader(spec: TableSpec, record: string[], onBreak: (b: ContractBreak) => void): boolean {
  if (headerMatches(spec, record)) return true;
  const expected = spec.columns.map((c) => c.name);
  const got = Buffer.from(record.join(','), 'latin1').toString('utf8');
  onBreak({
    file: spec.file,
    line: 1,
    column: '(header)',
    reason: `expected exactly "${expected.join(',')}", got ${quoteText(got, HEADER_SHOWN)}, so none of its rows were checked`,
  });
  return false;
}

/** What csv-parse found, said without the field's value (personal data, and bytes read as latin1). */
function csvProblem(e: CsvError): string {
  switch (e.code) {
    case 'INVALID_OPENING_QUOTE':
      return 'a quote inside a field that does not start with one; quote the whole field and double the quotes inside it';
    case 'CSV_INVALID_CLOSING_QUOTE':
    case 'CSV_NON_TRIMABLE_CHAR_AFTER_CLOSING_QUOTE':
      return 'characters after the closing quote of a field; double the quotes inside a quoted field';
    case 'CSV_QUOTE_NOT_CLOSED':
      return 'a quoted field is never closed';
    default:
      return e.code;
  }
}

const BOM = Buffer.from([0xef, 0xbb, 0xbf]);

/** Drops a UTF-8 byte order mark at the start of the file (csv-parse's own `bom` option would decode the rest as UTF-8). */
function withoutBom(): Transform {
  let head: Buffer | null = Buffer.alloc(0);
  return new Transform({
    transform(chunk: Buffer, _enc, done) {
      if (head === null) return done(null, chunk);
      head = Buffer.concat([head, chunk]);
      if (head.length < BOM.length && BOM.subarray(0, head.length).equals(head)) return done();
      const out = head.subarray(0, BOM.length).equals(BOM) ? head.subarray(BOM.length) : head;
      head = null;
      done(null, out);
    },
    flush(done) {
      done(null, head && head.length > 0 ? head : undefined);
    },
  });
}

/**
 * The line where each record starts, as an editor numbers it and as the bulk path names it
 * (recordReader.ts): 1 plus the LFs before it; a CR inside a field ends no line. csv-parse's own
 * `info.lines` counts every CR and every LF inside a field (a CRLF twice), so it is not used: a
 * record starts on the line after the previous one ends, past the empty lines csv-parse skipped.
 * `start` is called from csv-parse's `on_record`, so that `atError`, the start of the record
 * being read when csv-parse stops, also counts the records it read but never handed over.
 */
function physicalLines(): { start(record: string[], info: Info): number; atError(info: Info): number } {
  let next = 1;
  let skipped = 0;
  return {
    start(record, info) {
      const line = next + info.empty_lines - skipped;
      skipped = info.empty_lines;
      next = line + 1 + lineFeeds(record);
      return line;
    },
    atError: (info) => next + info.empty_lines - skipped,
  };
}

function lineFeeds(record: string[]): number {
  let n = 0;
  for (const field of record) {
    if (field.includes('\n')) n += field.split('\n').length - 1;
  }
  return n;
}
