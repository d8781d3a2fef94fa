import { fieldForm } from './checkField.js';
import type { ColumnSpec, TableSpec } from './contract.js';

/**
 * One regular expression per contract file for its data records, used on the bulk path: the
 * whole record is checked at once, as csv-parse (strict RFC 4180) and src/import/checkField.ts
 * read it on the row-by-row path (each field is checkField's form of its type, fieldForm). A
 * text field is either unquoted (no comma, quote or line break) or quoted (any character, quotes
 * doubled, line breaks included); a field of any other type must be unquoted (a quoted date, say,
 * is legal CSV but unusual: such a file takes the row-by-row path). What a form cannot say is left to PostgreSQL (a day that does not exist in
 * its month fails the date conversion) and to the checks after the load (minimum values, keys,
 * references).
 */
export function recordFormat(spec: TableSpec): RegExp {
  return new RegExp(`^${spec.columns.map(fieldFormat).join(',')}\\r?$`);
}

function fieldFormat(col: ColumnSpec): string {
  const form = fieldForm(col.type);
  if (form === null) {
    // Text. Unquoted: anything but separators and quotes. Quoted: quotes doubled. A required
    // field may not be empty either way.
    return col.nullable ? '(?:[^,"\\r\\n]*|"(?:[^"]|"")*")' : '(?:[^,"\\r\\n]+|"(?:[^"]|"")+")';
  }
  return col.nullable ? `(?:${form})?` : form;
}

/** The minimum values the record format cannot express, checked in SQL after the load. */
export function minimumChecks(spec: TableSpec): { column: string; min: number }[] {
  return spec.columns.flatMap((c) => (c.type.kind === 'integer' && c.type.min !== undefined ? [{ column: c.name, min: c.type.min }] : []));
}
