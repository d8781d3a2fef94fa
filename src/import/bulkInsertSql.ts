import type { ColumnSpec, TableSpec } from './contract.js';
import { rawTable } from './copyRawFile.js';

const MAX_CENTS = '999999999999999999';

/**
 * The statement that moves a file's all-text copy into its dossier table on the bulk path,
 * converting every field and keeping only the rows whose every field conforms to the contract.
 * The caller compares the inserted count with the copied count: any difference, or any error
 * of a cast or a constraint, means the file breaks the contract somewhere and the import is
 * redone row by row to say where.
 *
 * What is checked where (test/import/bulkPath.test.ts breaks every column to prove it):
 * - empty required fields: the dossier table's NOT NULL (an empty field becomes NULL here);
 * - digits, enumerations, months, quarters, countries, amounts above 0: the dossier table's
 *   CHECK constraints;
 * - dates: PostgreSQL's date input, and the text must read back unchanged (so "2024-1-5" or
 *   "today", which PostgreSQL accepts, do not pass);
 * - integers: the same read-back (no "+5", no spaces), at most 18 digits, and the minimum;
 * - duplicate keys and unknown references: the primary and foreign keys rebuilt after the load.
 */
export function bulkInsertSql(spec: TableSpec): string {
  const cols = spec.columns.map((c) => c.name);
  const values = spec.columns.map(convert);
  const checks = spec.columns.map(check).filter((c): c is string => c !== null);
  return `INSERT INTO dossier.${spec.table} (${cols.join(', ')})
    SELECT ${values.join(', ')} FROM ${rawTable(spec)}
    ${checks.length > 0 ? `WHERE ${checks.join(' AND ')}` : ''}`;
}

function convert(col: ColumnSpec): string {
  const v = `nullif(${col.name}, '')`;
  return col.sqlType === 'text' ? v : `${v}::${col.sqlType}`;
}

function check(col: ColumnSpec): string | null {
  const v = `nullif(${col.name}, '')`;
  const t = col.type;
  switch (t.kind) {
    case 'date':
      return `(${v} IS NULL OR (length(${col.name}) = 10 AND ${col.name}::date::text = ${col.name}))`;
    case 'integer': {
      const n = `${col.name}::${col.sqlType}`;
      const min = t.min === undefined ? `-${MAX_CENTS}` : String(t.min);
      return `(${v} IS NULL OR (${n}::text = ${col.name} AND ${n} BETWEEN ${min} AND ${MAX_CENTS}))`;
    }
    case 'text':
    case 'digits':
    case 'month':
    case 'quarter':
    case 'country':
    case 'enum':
      return null;
  }
}
