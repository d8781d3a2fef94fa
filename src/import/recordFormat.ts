import { fieldForm } from './checkField.js';
import type { ColumnSpec, TableSpec } from './contract.js';

/**
 * One regular expression per contract file for its data records, used on the bulk path: the
 * whole record is checked at once, as csv-parse (strict RFC 4180) and src/import/checkField.ts
 * read it on the row-by-row path (each field is checkField's form of its type, fieldForm). A
 * text field is either unquoted (no comma, quote or line break) or quoted (any character, quotes
 * doubled, line breaks included); a field of any other type must be unquoted (a quoted date, say,
 * is legal CSV but unusual: such a file takes the row-by-row path). An integer whose minimum is
 * 0 or 1 takes a form without a sign (and, for 1, with a digit other than 0), so no query reads the
 * table again for it. What a form cannot say is left to PostgreSQL (a day that does not exist in
 * its month fails the date conversion) and to the checks after the load (other minimum values,
 * keys, references).
 *
 * It reads a file's text, not a cut-out line: sticky (it matches where its lastIndex says, and
 * only there) and ending at the record's line break, so that a chunk of a file is read record
 * after record (recordReader.ts). A match ends at the first line break outside a quoted field.
 */
export function recordFormat(spec: TableSpec): RegExp {
  return new RegExp(`${spec.columns.map((c) => fieldFormat(c, true)).join(',')}\\r?\\n`, 'y');
}

/**
 * The record format without the identifiers' length bounds, and the record length (in bytes) up
 * to which it says the same as recordFormat: a record that short cannot hold a field longer than
 * its shortest bound. recordReader.ts reads every record with it, and only a longer one with
 * recordFormat: V8 runs a bounded repetition ({1,2600}) about 40 % slower than an open one (+),
 * on every record of every file (contributions.csv of 30,000 affiliates: 30 ms against 22).
 */
export function quickRecordFormat(spec: TableSpec): { format: RegExp; sameUpTo: number } {
  const bounds = spec.columns.flatMap((c) => (c.type.kind === 'text' && c.type.maxBytes !== undefined ? [c.type.maxBytes] : []));
  return { format: new RegExp(`${spec.columns.map((c) => fieldFormat(c, false)).join(',')}\\r?\\n`, 'y'), sameUpTo: Math.min(...bounds) };
}

/** The control characters text may not hold (XML cannot carry them; tab, LF and CR it can), as a class body. */
const CONTROLS = '\\x00-\\x08\\x0B\\x0C\\x0E-\\x1F';

function fieldFormat(col: ColumnSpec, bounded: boolean): string {
  const form = unsignedForm(col) ?? fieldForm(col.type);
  if (form === null) {
    // Text. Unquoted: anything but separators, quotes and the control characters the contract
    // refuses. Quoted: quotes doubled, line breaks allowed. A required field may not be empty. An
    // identifier has at most maxBytes characters: the file is read as latin1, one character per
    // byte, and a doubled quote is one byte of the value, so this counts the value's UTF-8 bytes.
    const max = col.type.kind === 'text' && bounded ? col.type.maxBytes : undefined;
    const times = max === undefined ? (col.nullable ? '*' : '+') : `{${col.nullable ? 0 : 1},${max}}`;
    return `(?:[^,"\\r\\n${CONTROLS}]${times}|"(?:[^"${CONTROLS}]|"")${times}")`;
  }
  return col.nullable ? `(?:${form})?` : form;
}

/**
 * Integers of at least 0, and of at least 1: fieldForm's 1 to 18 digits without the sign (a "-0",
 * which the contract takes, is a doubt: the row-by-row path reads it). The lookahead keeps the
 * length limit; what follows the digits is a separator or the end of the record.
 */
const UNSIGNED: Record<number, string> = {
  0: '[0-9]{1,18}',
  1: '(?=[0-9]{1,18}(?![0-9]))0*[1-9][0-9]*',
};

/** The unsigned form of an integer column whose minimum the record format can say, else undefined. */
function unsignedForm(col: ColumnSpec): string | undefined {
  return col.type.kind === 'integer' && col.type.min !== undefined ? UNSIGNED[col.type.min] : undefined;
}

/** The minimum values the record format cannot express, checked in SQL after the load. */
export function minimumChecks(spec: TableSpec): { column: string; min: number }[] {
  return spec.columns.flatMap((c) => (c.type.kind === 'integer' && c.type.min !== undefined && unsignedForm(c) === undefined ? [{ column: c.name, min: c.type.min }] : []));
}
