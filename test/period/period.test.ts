import { describe, expect, it } from 'vitest';
import { addDays, brusselsDate, brusselsTimeOfDay, isLocalDate } from '../../src/period/localDate.js';
import { formatPeriod, lastCompletePeriod, lastDay, makePeriod, parsePeriod, periodCode, periodContaining, shiftPeriod } from '../../src/period/period.js';

describe('Period', () => {
  it('parses and formats the three kinds as half-open ranges', () => {
    expect(parsePeriod('2026-Q3')).toEqual({ kind: 'quarter', year: 2026, index: 3, start: '2026-07-01', end: '2026-10-01' });
    expect(parsePeriod('2026-Q4').end).toBe('2027-01-01');
    expect(parsePeriod('2024-02')).toMatchObject({ kind: 'month', start: '2024-02-01', end: '2024-03-01' });
    expect(parsePeriod('2026')).toMatchObject({ kind: 'year', start: '2026-01-01', end: '2027-01-01' });
    for (const key of ['2026-Q1', '2026-12', '2026']) expect(formatPeriod(parsePeriod(key))).toBe(key);
  });
  it('refuses malformed keys with the accepted forms', () => {
    for (const key of ['2026-Q5', '2026-13', '26-Q1', '2026Q3', '', '0000', '0000-Q1', '0000-12', '2025-02-29', '2026-7-14', '0000-01-01']) expect(() => parsePeriod(key)).toThrow(/2026-Q3/);
  });
  it('parses a day as the half-open range [day, day + 1), code YYYYMMDD', () => {
    expect(parsePeriod('2026-07-14')).toEqual({ kind: 'day', year: 2026, index: 195, start: '2026-07-14', end: '2026-07-15' });
    expect(parsePeriod('2024-12-31')).toMatchObject({ index: 366, end: '2025-01-01' });
    expect(formatPeriod(parsePeriod('2024-02-29'))).toBe('2024-02-29');
    expect(periodCode(parsePeriod('2026-07-14'))).toBe('20260714');
    expect(lastDay(parsePeriod('2026-07-14'))).toBe('2026-07-14');
    expect(makePeriod('day', 2024, 60)).toEqual(parsePeriod('2024-02-29'));
    expect(formatPeriod(shiftPeriod(parsePeriod('2024-12-31'), 1))).toBe('2025-01-01');
    expect(formatPeriod(shiftPeriod(parsePeriod('2024-03-01'), -1))).toBe('2024-02-29');
    expect(periodContaining('day', parsePeriod('2026-07-14').start)).toEqual(parsePeriod('2026-07-14'));
  });
  it('finds the last complete day in Europe/Brussels time (the day flows run for yesterday)', () => {
    // 22:30 UTC on 14 July is already 15 July in Brussels (summer time): the 14th is complete.
    expect(formatPeriod(lastCompletePeriod('day', new Date('2026-07-14T22:30:00Z')))).toBe('2026-07-14');
    expect(formatPeriod(lastCompletePeriod('day', new Date('2026-07-14T21:30:00Z')))).toBe('2026-07-13');
    expect(formatPeriod(lastCompletePeriod('day', new Date('2027-01-01T05:00:00Z')))).toBe('2026-12-31');
  });
  it('writes BCSS codes YYYYQ, YYYYMM, YYYY', () => {
    expect(periodCode(parsePeriod('2026-Q3'))).toBe('20263');
    expect(periodCode(parsePeriod('2026-07'))).toBe('202607');
    expect(periodCode(parsePeriod('2026'))).toBe('2026');
  });
  it('knows leap days and the last day of a period', () => {
    expect(lastDay(parsePeriod('2024-02'))).toBe('2024-02-29');
    expect(lastDay(parsePeriod('2025-02'))).toBe('2025-02-28');
    expect(isLocalDate('2024-02-29')).toBe(true);
    expect(isLocalDate('2025-02-29')).toBe(false);
    expect(addDays('2024-02-28' as never, 1)).toBe('2024-02-29');
  });
  it('shifts across year boundaries', () => {
    expect(formatPeriod(shiftPeriod(parsePeriod('2026-Q1'), -1))).toBe('2025-Q4');
    expect(formatPeriod(shiftPeriod(parsePeriod('2026-12'), 1))).toBe('2027-01');
  });
  it('finds the last complete period in Europe/Brussels time', () => {
    // 23:30 UTC on 30 September is already 1 October in Brussels: Q3 is complete.
    expect(formatPeriod(lastCompletePeriod('quarter', new Date('2026-09-30T23:30:00Z')))).toBe('2026-Q3');
    expect(formatPeriod(lastCompletePeriod('quarter', new Date('2026-09-30T21:30:00Z')))).toBe('2026-Q2');
    expect(brusselsDate(new Date('2026-03-29T01:30:00Z'))).toBe('2026-03-29');
    expect(brusselsTimeOfDay(new Date('2026-03-29T01:30:00Z'))).toBe('03:30:00');
  });
});
