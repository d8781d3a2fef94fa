import { describe, expect, it } from 'vitest';
import { checkField } from '../../src/import/checkField.js';
import { CONTRACT, type ColumnSpec, type TableSpec } from '../../src/import/contract.js';
import { minimumChecks, recordFormat } from '../../src/import/recordFormat.js';

const oneColumn = (col: ColumnSpec): TableSpec => ({ file: 'x.csv', table: 'x', columns: [col], references: [], required: true });

const INTEGERS = ['0', '1', '7', '-1', '-0', '-7', '00', '0087171', '000', '1'.repeat(18), '1'.repeat(19), `${'0'.repeat(17)}1`, `${'0'.repeat(18)}1`, '+5', ' 5', '12.50', ''];

describe('record format of the bulk path', () => {
  const bounded = CONTRACT.flatMap((t) => t.columns).filter((c) => c.type.kind === 'integer' && c.type.min !== undefined);

  it('reads an integer of at least 0 or 1 as the row-by-row path does: never takes what it refuses, and doubts only "-0"', () => {
    const unsigned = bounded.filter((c) => c.type.kind === 'integer' && (c.type.min === 0 || c.type.min === 1));
    expect(unsigned.map((c) => c.name).sort()).toEqual(['amount_cents', 'vouchers']);
    for (const col of unsigned) {
      const format = recordFormat(oneColumn(col));
      for (const value of INTEGERS) {
        format.lastIndex = 0;
        const bulk = format.test(`${value}\n`);
        const rowByRow = checkField(col, value === '' ? null : value) === null;
        if (bulk) expect(rowByRow, `${col.name} "${value}"`).toBe(true);
        else if (rowByRow) expect(value, `${col.name} "${value}" taken row by row, refused by the format`).toBe('-0');
      }
    }
  });

  it('bounds every key and reference of the contract to 2,600 UTF-8 bytes, counted alike by the format and by checkField, quoted or not', () => {
    const bounded = CONTRACT.flatMap((t) => t.columns.filter((c) => c.type.kind === 'text' && c.type.maxBytes !== undefined).map((c) => `${t.file}:${c.name}`));
    const identifiers = CONTRACT.flatMap((t) =>
      [...(t.key ?? []), ...t.references.map((r) => r.column)].filter((name) => t.columns.find((c) => c.name === name)!.type.kind === 'text').map((name) => `${t.file}:${name}`),
    );
    expect(bounded.sort()).toEqual([...new Set(identifiers)].sort());
    const col = CONTRACT[0]!.columns.find((c) => c.name === 'affiliate_id')!;
    const format = recordFormat(oneColumn(col));
    // 'é' is 2 bytes, '"' is 1 (doubled when quoted).
    for (const [value, bytes] of [
      ['x'.repeat(2600), 2600],
      ['x'.repeat(2601), 2601],
      [`${'é'.repeat(1299)}"x`, 2600],
      [`${'é'.repeat(1300)}"`, 2601],
      ['é'.repeat(1301), 2602],
    ] as const) {
      const rowByRow = checkField(col, value);
      expect(rowByRow, `${bytes} bytes`).toBe(
        bytes > 2600 ? `is ${bytes.toLocaleString('en-US')} bytes long; the database can index an identifier of at most 2,600 bytes: shorten it in the source system` : null,
      );
      const fields = value.includes('"') ? [`"${value.replaceAll('"', '""')}"`] : [value, `"${value}"`];
      for (const field of fields) {
        format.lastIndex = 0;
        expect(format.test(`${Buffer.from(field).toString('latin1')}\n`), `${field.slice(0, 10)}… ${bytes} bytes`).toBe(rowByRow === null);
      }
    }
  });

  it('leaves to SQL only the minimums the format cannot say: no scan of the payments for their amounts', () => {
    const checks = CONTRACT.flatMap((t) => minimumChecks(t).map((m) => `${t.table}.${m.column} >= ${m.min}`));
    expect(checks).toEqual(['companies.year >= 1900']);
  });
});
