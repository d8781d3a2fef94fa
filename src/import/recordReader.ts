import { createReadStream } from 'node:fs';
import type { TableSpec } from './contract.js';
import { quickRecordFormat, recordFormat } from './recordFormat.js';

const NEWLINE = 0x0a;

export interface Read {
  /** Data records (the header excluded). */
  records: number;
  problem: string | null;
}

export interface Checker {
  write(chunk: Buffer): void;
  end(): Promise<Read>;
}

/** A quoted field may span lines, but a record longer than this is taken for a stray quote. */
const MAX_RECORD = 64 * 1024;

/**
 * The most bytes of a chunk read at once. With the text kept between pieces bounded by MAX_RECORD
 * (a record not ended within it is a problem at once), the format never runs over more than
 * MAX_RECORD + PIECE characters: V8 keeps one backtracking entry per character of a quoted field,
 * and a quoted field of about 10 MB (8 MB passes) overflowed its stack ("RangeError: Maximum call
 * stack size exceeded", thrown out of the stream and the import without naming a line).
 */
const PIECE = 1 << 20;

type Problem = { at: number; what: 'form' | 'long' | 'open' };

/**
 * Every data record must match the contract's record format; line 1, the header, was checked
 * before. The file's text is read record after record by the format (sticky), which
 * also takes the line breaks inside quoted fields, up to the last line break of what has
 * arrived. Where the format stops before it, the record there either goes on in the next chunk
 * (no line break after it with an even number of quotes before: a quoted field is still open;
 * quotes inside a quoted field are doubled) or does not have the form. (Cutting every chunk
 * into lines first, then testing each line, cost this thread more CPU.) A problem is kept as a
 * byte offset (latin1: one character per byte); its line is counted in the file at the end, only
 * then. The format read with is the quick one, without the identifiers' length bounds; a record
 * long enough to break one is read again by the full format (recordFormat.ts).
 */
export function recordReader(spec: TableSpec, filePath: string): Checker {
  const { format, sameUpTo } = quickRecordFormat(spec);
  const bounded = recordFormat(spec);
  let records = 0;
  /** Text not read yet; it starts at a record (or at the header). */
  let text = '';
  /** The file offset of text's first character. */
  let offset = 0;
  let header = true;
  let problem: Problem | null = null;
  /** True when the record text[at, end) has the full format (the quick one said yes; a long record is read again). */
  const holds = (at: number, end: number): boolean => {
    if (end - at <= sameUpTo) return true;
    bounded.lastIndex = at;
    return bounded.test(text) && bounded.lastIndex === end;
  };
  /** Reads the records of text up to `complete` (just after a line break); keeps the rest. */
  const read = (complete: number): void => {
    let at = 0;
    if (header) {
      at = text.indexOf('\n') + 1;
      header = false;
    }
    format.lastIndex = at;
    while (at < complete && format.test(text)) {
      if (format.lastIndex - at > MAX_RECORD || !holds(at, format.lastIndex)) break;
      records++;
      at = format.lastIndex;
    }
    if (at < complete) {
      const end = recordEnd(text, at, complete);
      if (end !== -1 && end - at <= MAX_RECORD) problem = { at: offset + at, what: 'form' };
      else if (end !== -1 || complete - at > MAX_RECORD) problem = { at: offset + at, what: 'long' };
    }
    text = text.slice(at);
    offset += at;
  };
  /** Reads one piece of a chunk (at most PIECE bytes); what is kept for the next is at most MAX_RECORD long. */
  const take = (piece: Buffer): void => {
    // latin1: one character per byte, and no byte of a multi-byte UTF-8 character is a comma, a quote or a newline.
    text += piece.toString('latin1');
    const complete = text.lastIndexOf('\n') + 1;
    if (complete > 0) read(complete);
    // What is kept starts at a record (or the header) that has no line break ending it yet.
    if (problem === null && text.length > MAX_RECORD) problem = { at: offset, what: 'long' };
  };
  return {
    write(chunk) {
      for (let from = 0; from < chunk.length && problem === null; from += PIECE) take(chunk.subarray(from, from + PIECE));
    },
    async end() {
      if (problem === null && !header && text !== '') {
        text += '\n';
        read(text.length);
        if (problem === null && text !== '') problem = { at: offset, what: 'open' };
      }
      return { records, problem: problem === null ? null : describe(problem, await lineAt(filePath, problem.at)) };
    },
  };
}

function describe(problem: Problem, line: number): string {
  if (problem.what === 'form') return `line ${line} does not have the contract's form`;
  if (problem.what === 'long') return `line ${line} opens a quoted field that is not closed within ${MAX_RECORD} characters`;
  return `line ${line} opens a quoted field that is never closed`;
}

/**
 * Just after the line break that ends the record starting at `from` (the first one with an even
 * number of quotes before it), or -1 when there is none before `limit`.
 */
function recordEnd(text: string, from: number, limit: number): number {
  let quotes = 0;
  for (let at = from; at < limit;) {
    const nl = text.indexOf('\n', at);
    if (nl === -1 || nl >= limit) return -1;
    for (let q = text.indexOf('"', at); q !== -1 && q < nl; q = text.indexOf('"', q + 1)) quotes++;
    if (quotes % 2 === 0) return nl + 1;
    at = nl + 1;
  }
  return -1;
}

/** The line of a file that holds the byte at `offset` (1 for the first). */
async function lineAt(filePath: string, offset: number): Promise<number> {
  let line = 1;
  if (offset === 0) return line;
  for await (const chunk of createReadStream(filePath, { end: offset - 1 })) {
    for (let at = (chunk as Buffer).indexOf(NEWLINE); at !== -1; at = (chunk as Buffer).indexOf(NEWLINE, at + 1)) line++;
  }
  return line;
}
