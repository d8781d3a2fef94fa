import { describe, expect, it } from 'vitest';
import { nonNegativeInt, positiveInt } from '../../src/cli/numberOption.js';
import { UsageError } from '../../src/errors/errors.js';
import { maillon } from '../helpers/cli.js';

describe('numeric flags', () => {
  it('take a whole number, refusing anything else with a usage error naming the flag', () => {
    expect(positiveInt('--days')('30')).toBe(30);
    expect(nonNegativeInt('--zip-above')('0')).toBe(0);
    for (const bad of ['0', 'abc', '1k', '-3', '2.5', '', '99999999999999999999']) expect(() => positiveInt('--days')(bad)).toThrow(UsageError);
    for (const bad of ['abc', '1k', '-1']) expect(() => nonNegativeInt('--zip-above')(bad)).toThrow(`--zip-above takes a whole number of at least 0, got "${bad}"`);
    expect(positiveInt('--days', 3650)('3650')).toBe(3650);
    expect(() => positiveInt('--days', 3650)('3651')).toThrow('--days takes a whole number from 1 to 3650, got "3651"');
  });

  it('end runs, status, demo and simulate-receiver with exit 2 on a bad value, instead of a default put in its place', async () => {
    for (const [args, flag] of [
      [['runs', '--limit', 'abc'], '--limit'],
      [['runs', '--limit', '0'], '--limit'],
      [['status', '--days', 'abc'], '--days'],
      [['status', '--days', '0'], '--days'],
      // A window of thousands of years listed every day of it (and past year 275760, an invalid date, exit 1).
      [['status', '--days', '3000000'], '--days'],
      [['runs', '--limit', '100000000'], '--limit'],
      [['demo', '--affiliates', 'abc'], '--affiliates'],
      [['simulate-receiver', '--root', '/nonexistent', '--zip-above', '1k'], '--zip-above'],
    ] as const) {
      const out = await maillon([...args], {});
      expect(out.code, args.join(' ')).toBe(2);
      expect(out.stderr).toMatch(new RegExp(`maillon: ${flag} takes a whole number (of at least|from)`));
    }
  }, 180_000);
});
