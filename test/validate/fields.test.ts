import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { inssRule } from '../../src/validate/commonRules.js';
import { centsField, inssField, localDateField, periodField, periodKeyField } from '../../src/validate/fields.js';
import { validateRow } from '../../src/validate/validateRow.js';
import type { Rule } from '../../src/validate/rule.js';

const row = z.object({ inss: inssField, day: localDateField, amount: centsField, quarter: periodField('quarter') });
const good = { inss: '85073003328', day: '2024-02-29', amount: -1250, quarter: '2024-Q3' };
const anyRule: Rule<z.infer<typeof row>> = { id: 'always', check: () => 'a later rule' };

describe('the branded fields of the row schemas', () => {
  it('parse a row into Inss, LocalDate, Cents and Period once, where it enters', () => {
    const v = validateRow(good, row, []);
    expect(v.ok).toBe(true);
    if (!v.ok) return;
    expect(v.row.quarter).toMatchObject({ kind: 'quarter', year: 2024, index: 3, start: '2024-07-01', end: '2024-10-01' });
    expect([v.row.inss, v.row.day, v.row.amount]).toEqual(['85073003328', '2024-02-29', -1250]);
  });

  it('quarantine a bad INSS under inss-check-digit with the shared message, before any rule of the flow', () => {
    const v = validateRow({ ...good, inss: '85073003329' }, row, [anyRule]);
    expect(v).toEqual({ ok: false, violation: { rule: 'inss-check-digit', message: inssRule((r: string) => r).check('85073003329') } });
    expect(JSON.stringify(v)).not.toContain('85073003329');
  });

  it('report a malformed row as record-shape first, even when its INSS is bad too', () => {
    const v = validateRow({ ...good, inss: '85073003329', day: '2024-02-30' }, row, []);
    expect(v).toEqual({ ok: false, violation: { rule: 'record-shape', message: 'field day: not a calendar day (YYYY-MM-DD)' } });
  });

  it('refuse a fraction of a cent, a day that does not exist and a period of another kind', () => {
    const rule = (raw: object): string | undefined => {
      const v = validateRow({ ...good, ...raw }, row, []);
      return v.ok ? undefined : v.violation.message;
    };
    expect(rule({ amount: 12.5 })).toMatch(/^field amount: /);
    expect(rule({ day: '2023-02-29' })).toBe('field day: not a calendar day (YYYY-MM-DD)');
    expect(rule({ quarter: '2024-07' })).toBe('field quarter: not a quarter period key: "2024-07"');
  });

  it('check a period key kept as its key, and refuse one of another kind or none at all, each time it is met', () => {
    const keyed = z.object({ quarter: periodKeyField('quarter') });
    const message = (quarter: string): string | undefined => {
      const v = validateRow({ quarter }, keyed, []);
      return v.ok ? undefined : v.violation.message;
    };
    const v = validateRow({ quarter: '2024-Q3' }, keyed, []);
    expect(v.ok && v.row.quarter).toBe('2024-Q3');
    // A key seen and accepted before is still accepted; a bad one is refused every time.
    expect(message('2024-Q3')).toBeUndefined();
    for (let i = 0; i < 2; i++) {
      expect(message('2024-07')).toBe('field quarter: not a quarter period key: "2024-07"');
      expect(message('2024-Q5')).toBe('field quarter: not a quarter period key: "2024-Q5"');
    }
  });
});
