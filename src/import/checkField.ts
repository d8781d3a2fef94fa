import { isLocalDate } from '../period/localDate.js';
import type { ColumnSpec, TableSpec } from './contract.js';

const INTEGER = /^-?\d{1,18}$/;
const MONTH = /^\d{4}-(0[1-9]|1[0-2])$/;
const QUARTER = /^\d{4}-Q[1-4]$/;
const COUNTRY = /^[A-Z]{2}$/;

/** Why a CSV field breaks its column's contract, or null when it conforms. `value` null = empty field. */
export function checkField(column: ColumnSpec, value: string | null): string | null {
  if (value === null) return column.nullable ? null : 'required, but empty';
  const t = column.type;
  switch (t.kind) {
    case 'text':
      return null;
    case 'digits':
      return new RegExp(`^\\d{${t.length}}$`).test(value) ? null : `expected ${t.length} digits, got ${value.length} characters`;
    case 'date':
      return isLocalDate(value) ? null : `expected a date YYYY-MM-DD, got "${shorten(value)}"`;
    case 'month':
      return MONTH.test(value) ? null : `expected a month YYYY-MM, got "${shorten(value)}"`;
    case 'quarter':
      return QUARTER.test(value) ? null : `expected a quarter YYYY-Qn, got "${shorten(value)}"`;
    case 'country':
      return COUNTRY.test(value) ? null : `expected an ISO 3166 alpha-2 country code, got "${shorten(value)}"`;
    case 'enum':
      return t.values.includes(value) ? null : `expected one of ${t.values.join(', ')}, got "${shorten(value)}"`;
    case 'integer': {
      if (!INTEGER.test(value)) return `expected an integer (euro cents, no decimals), got "${shorten(value)}"`;
      if (t.min !== undefined && Number(value) < t.min) return `expected an integer of at least ${t.min}, got ${value}`;
      return null;
    }
  }
}

/**
 * The values of a parsed record in column order (an empty field is null), each field checked
 * against its column: `onBreak` hears every field that breaks its type, and that field's value
 * becomes null. The caller has checked the field count.
 */
export function checkRecord(spec: TableSpec, record: readonly string[], onBreak: (column: string, reason: string) => void): (string | null)[] {
  return spec.columns.map((col, i) => {
    const raw = record[i]!;
    const value = raw === '' ? null : raw;
    const problem = checkField(col, value);
    if (problem === null) return value;
    onBreak(col.name, problem);
    return null;
  });
}

/** True when a header record names exactly the contract's columns, in order. */
export function headerMatches(spec: TableSpec, record: readonly string[]): boolean {
  return record.length === spec.columns.length && record.every((name, i) => name === spec.columns[i]!.name);
}

function shorten(value: string): string {
  return value.length > 40 ? `${value.slice(0, 37)}...` : value;
}
