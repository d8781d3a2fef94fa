import { isLocalDate } from '../period/localDate.js';
import type { ColumnSpec, ColumnType, TableSpec } from './contract.js';
import { quoteText } from './quoteText.js';
import { decodeField, forbiddenCharacterProblem } from './textBytes.js';

const ESCAPE = /[.*+?^${}()|[\]\\]/g;

/**
 * The form of a field of the type, as a regular expression without anchors (null for text, which
 * takes any character; the record format bounds the length of an identifier itself). checkField tests a field against it, and the bulk import's record format
 * (recordFormat.ts) is made of these forms, so the two import paths read a field alike. For a
 * date it is the shape; checkField also checks that the day exists.
 */
export function fieldForm(t: ColumnType): string | null {
  switch (t.kind) {
    case 'text':
      return null;
    case 'digits':
      return `[0-9]{${t.length}}`;
    case 'date':
      return '[0-9]{4}-[0-9]{2}-[0-9]{2}';
    case 'month':
      return '[0-9]{4}-(?:0[1-9]|1[0-2])';
    case 'quarter':
      return '[0-9]{4}-Q[1-4]';
    case 'country':
      return '[A-Z]{2}';
    case 'enum':
      return `(?:${t.values.map((v) => v.replace(ESCAPE, '\\$&')).join('|')})`;
    case 'integer':
      return '-?[0-9]{1,18}';
  }
}

// The whole-field expression of each column, made once (checkField runs for every field of every row).
const FORMS = new WeakMap<ColumnSpec, RegExp>();

function hasForm(column: ColumnSpec, value: string): boolean {
  let form = FORMS.get(column);
  if (!form) {
    form = new RegExp(`^(?:${fieldForm(column.type)})$`);
    FORMS.set(column, form);
  }
  return form.test(value);
}

/** Why a CSV field breaks its column's contract, or null when it conforms. `value` null = empty field. */
export function checkField(column: ColumnSpec, value: string | null): string | null {
  if (value === null) return column.nullable ? null : 'required, but empty';
  const t = column.type;
  switch (t.kind) {
    case 'text':
      return t.maxBytes === undefined ? null : tooLong(value, t.maxBytes);
    case 'digits':
      return hasForm(column, value) ? null : `expected ${t.length} digits, got ${value.length} characters`;
    case 'date':
      return isLocalDate(value) ? null : `expected a date YYYY-MM-DD, got ${quoteText(value)}`;
    case 'month':
      return hasForm(column, value) ? null : `expected a month YYYY-MM, got ${quoteText(value)}`;
    case 'quarter':
      return hasForm(column, value) ? null : `expected a quarter YYYY-Qn, got ${quoteText(value)}`;
    case 'country':
      return hasForm(column, value) ? null : `expected an ISO 3166 alpha-2 country code, got ${quoteText(value)}`;
    case 'enum':
      return t.values.includes(value) ? null : `expected one of ${t.values.join(', ')}, got ${quoteText(value)}`;
    case 'integer': {
      if (!hasForm(column, value)) return `expected an integer (euro cents, no decimals), got ${quoteText(value)}`;
      if (t.min !== undefined && Number(value) < t.min) return `expected an integer of at least ${t.min}, got ${value}`;
      return null;
    }
  }
}

/**
 * The values of a parsed record in column order (an empty field is null), each field decoded as
 * UTF-8 and checked against its column: `onBreak` hears every field that is not UTF-8, holds a
 * character the contract refuses, or breaks its type, and that field's value becomes null. The
 * fields are as csv-parse read them in latin1 (one character per byte: nothing replaced). The
 * caller has checked the field count.
 */
export function checkRecord(spec: TableSpec, record: readonly string[], onBreak: (column: string, reason: string) => void): (string | null)[] {
  return spec.columns.map((col, i) => {
    const raw = record[i]!;
    const decoded = raw === '' ? { text: null, problem: null } : decodeField(raw);
    if (decoded.problem !== null) {
      onBreak(col.name, decoded.problem);
      return null;
    }
    const value = decoded.text;
    const problem = (value === null ? null : forbiddenCharacterProblem(value)) ?? checkField(col, value);
    if (problem === null) return value;
    onBreak(col.name, problem);
    return null;
  });
}

/** True when a header record names exactly the contract's columns, in order. */
export function headerMatches(spec: TableSpec, record: readonly string[]): boolean {
  return record.length === spec.columns.length && record.every((name, i) => name === spec.columns[i]!.name);
}

/**
 * Why an identifier is too long for the database's indexes (KEY_MAX_BYTES), or null. Counted in
 * UTF-8 bytes, as PostgreSQL stores it; a UTF-16 unit is at most 3 bytes, so most values are not counted.
 */
function tooLong(value: string, maxBytes: number): string | null {
  if (value.length * 3 <= maxBytes) return null;
  const bytes = Buffer.byteLength(value, 'utf8');
  if (bytes <= maxBytes) return null;
  return `is ${bytes.toLocaleString('en-US')} bytes long; the database can index an identifier of at most ${maxBytes.toLocaleString('en-US')} bytes: shorten it in the source system`;
}
