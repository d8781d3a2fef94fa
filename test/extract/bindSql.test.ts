import { describe, expect, it } from 'vitest';
import { bindSql } from '../../src/extract/bindSql.js';

describe('bindSql', () => {
  it('quotes values as SQL literals and leaves casts alone', () => {
    expect(bindSql(`SELECT :a::date, :b, '[]'::json WHERE x = :c`, { a: '2026-07-01', b: 3, c: "O'Neill" })).toBe(`SELECT '2026-07-01'::date, 3, '[]'::json WHERE x = 'O''Neill'`);
  });
  it('refuses a placeholder the engine does not provide', () => {
    expect(() => bindSql('SELECT :missing', {})).toThrow(':missing');
  });
});
