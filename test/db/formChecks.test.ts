import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkField } from '../../src/import/checkField.js';
import { type ColumnSpec, type ColumnType, CONTRACT } from '../../src/import/contract.js';
import { ident } from '../../src/import/dossierSchema.js';
import { createTestDatabase, type TestDatabase } from '../helpers/testDatabase.js';

/** A valid value of each form, and more where the form has alternatives. */
function validValues(t: ColumnType): string[] {
  switch (t.kind) {
    case 'digits':
      return ['0123456789'.repeat(2).slice(0, t.length), '9'.repeat(t.length)];
    case 'quarter':
      return ['2024-Q1', '2024-Q4', '0000-Q2'];
    case 'month':
      return ['2024-01', '2024-09', '2024-10', '2024-12'];
    case 'country':
      return ['BE', 'AZ', 'ZA'];
    case 'enum':
      return [...t.values];
    default:
      return [];
  }
}

/**
 * Each valid value, and around it every character replaced by one that must not pass (a letter,
 * a space, a line break, an Arabic-Indic or full-width digit, an accented letter, the next or the
 * previous ASCII character), every character dropped, one added at each place, and the value in
 * other cases.
 */
function candidates(t: ColumnType): string[] {
  const out = new Set<string>(['', ' ']);
  for (const v of validValues(t)) {
    out.add(v).add(v.toLowerCase()).add(v.toUpperCase()).add(`${v}\n`).add(` ${v}`).add(`${v} `);
    for (let i = 0; i <= v.length; i++) {
      for (const c of ['a', 'Z', ' ', '\n', '٣', '５', 'é', '0', '9', '-', 'Q']) out.add(v.slice(0, i) + c + v.slice(i));
      if (i === v.length) continue;
      out.add(v.slice(0, i) + v.slice(i + 1));
      const code = v.charCodeAt(i);
      for (const c of ['a', ' ', '\n', '٣', '５', 'é', String.fromCharCode(code + 1), String.fromCharCode(code - 1)]) out.add(v.slice(0, i) + c + v.slice(i + 1));
    }
  }
  return [...out];
}

/**
 * The dossier tables' CHECK constraints are a second guard behind the contract's field check,
 * and some are written without regular expressions because PostgreSQL runs them on every row of
 * an import (migration 005). Whatever their form, they must accept exactly what the contract
 * accepts: each constraint on a text column is evaluated by PostgreSQL on the candidates above and
 * must agree with checkField on every one.
 */
describe('the dossier CHECK constraints', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => db?.drop());

  it('accept exactly the values the contract accepts, column by column', async () => {
    const checks = await db.pool.query<{ tbl: string; col: string; expr: string }>(`
      SELECT cl.relname AS tbl, a.attname AS col, pg_get_expr(c.conbin, c.conrelid) AS expr
      FROM pg_constraint c
      JOIN pg_class cl ON cl.oid = c.conrelid
      JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]
      WHERE c.contype = 'c' AND c.connamespace = 'dossier'::regnamespace AND cardinality(c.conkey) = 1
        AND format_type(a.atttypid, a.atttypmod) = 'text'
      ORDER BY 1, 2`);
    const checked: string[] = [];
    for (const { tbl, col, expr } of checks.rows) {
      const column: ColumnSpec | undefined = CONTRACT.find((t) => t.table === tbl)?.columns.find((c) => c.name === col);
      expect(column, `${tbl}.${col} is a column of the contract`).toBeDefined();
      const values = candidates(column!.type);
      expect(values.length, `${tbl}.${col}: candidates for a ${column!.type.kind}`).toBeGreaterThan(20);
      const res = await db.pool.query<{ v: string; ok: boolean }>(`SELECT ${ident(col)} AS v, (${expr}) IS NOT FALSE AS ok FROM unnest($1::text[]) AS t(${ident(col)})`, [values]);
      const byDatabase = Object.fromEntries(res.rows.map((r) => [r.v, r.ok]));
      const byContract = Object.fromEntries(values.map((v) => [v, checkField(column!, v) === null]));
      expect(byDatabase, `${tbl}.${col}: CHECK ${expr}`).toEqual(byContract);
      checked.push(`${tbl}.${col}`);
    }
    // Every form column of the contract that the schema checks, the regular-expression-free ones included.
    expect(checked).toEqual(
      expect.arrayContaining([
        'affiliates.inss',
        'affiliates.country',
        'activity_periods.company_number',
        'contributions.quarter',
        'companies.company_number',
        'allowances.month',
        'allowances.child_inss',
        'contributions.kind',
      ]),
    );
  });
});
