import type { ColumnSpec, TableSpec } from './contract.js';

/**
 * One regular expression per contract file for its data lines, used on the bulk path for files
 * that hold no quote character at all. Without quotes, RFC 4180 has no escaping: a record is a
 * line and a field is what lies between commas, so the whole line can be checked at once. It
 * checks the form of every field as src/import/checkField.ts does; what a form cannot say is
 * left to PostgreSQL (a day that does not exist in its month fails the date conversion) and to
 * the checks after the load (minimum values, keys, references).
 */
export function lineFormat(spec: TableSpec): RegExp {
  return new RegExp(`^${spec.columns.map(fieldFormat).join(',')}\\r?$`);
}

const ESCAPE = /[.*+?^${}()|[\]\\]/g;

function fieldFormat(col: ColumnSpec): string {
  const t = col.type;
  let f: string;
  switch (t.kind) {
    case 'text':
      // Anything but the separators; an empty required field is refused below.
      return col.nullable ? '[^,\\r\\n]*' : '[^,\\r\\n]+';
    case 'digits':
      f = `[0-9]{${t.length}}`;
      break;
    case 'date':
      f = '[0-9]{4}-[0-9]{2}-[0-9]{2}';
      break;
    case 'month':
      f = '[0-9]{4}-(?:0[1-9]|1[0-2])';
      break;
    case 'quarter':
      f = '[0-9]{4}-Q[1-4]';
      break;
    case 'country':
      f = '[A-Z]{2}';
      break;
    case 'enum':
      f = `(?:${t.values.map((v) => v.replace(ESCAPE, '\\$&')).join('|')})`;
      break;
    case 'integer':
      f = '-?[0-9]{1,18}';
      break;
  }
  return col.nullable ? `(?:${f})?` : f;
}

/** The minimum values the line format cannot express, checked in SQL after the load. */
export function minimumChecks(spec: TableSpec): { column: string; min: number }[] {
  return spec.columns.flatMap((c) => (c.type.kind === 'integer' && c.type.min !== undefined ? [{ column: c.name, min: c.type.min }] : []));
}
