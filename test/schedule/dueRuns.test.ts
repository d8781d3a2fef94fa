import { describe, expect, it } from 'vitest';
import { PIPELINES } from '../../pipelines/index.js';
import type { AnyPipeline } from '../../src/engine/pipeline.js';
import { brusselsDate, brusselsTimeOfDay } from '../../src/period/localDate.js';
import { formatPeriod } from '../../src/period/period.js';
import { dueRuns, fireTimes } from '../../src/schedule/dueRuns.js';

const FROM = new Date('2026-01-01T00:00:00+01:00');
const TO = new Date('2028-01-01T00:00:00+01:00');
const local = (d: Date): string => `${brusselsDate(d)} ${brusselsTimeOfDay(d)}`;

describe('the schedules of the flows over two years (2026-2027, fixed instants, no sleeping)', () => {
  const runs = dueRuns(PIPELINES, FROM, TO);
  const of = (flow: string): string[] => runs.filter((r) => r.pipeline.id === flow).map((r) => `${local(r.dueAt)} ${formatPeriod(r.period)}`);

  it('career: the 10th of the month after each quarter, 02:00 Brussels, for that quarter', () => {
    expect(of('career')).toEqual([
      '2026-01-10 02:00:00 2025-Q4',
      '2026-04-10 02:00:00 2026-Q1',
      '2026-07-10 02:00:00 2026-Q2',
      '2026-10-10 02:00:00 2026-Q3',
      '2027-01-10 02:00:00 2026-Q4',
      '2027-04-10 02:00:00 2027-Q1',
      '2027-07-10 02:00:00 2027-Q2',
      '2027-10-10 02:00:00 2027-Q3',
    ]);
  });

  it('contribution-slips on the 15th, statistics on the 20th, after each quarter', () => {
    expect(of('contribution-slips').map((s) => s.slice(0, 10) + s.slice(19))).toEqual([
      '2026-01-15 2025-Q4',
      '2026-04-15 2026-Q1',
      '2026-07-15 2026-Q2',
      '2026-10-15 2026-Q3',
      '2027-01-15 2026-Q4',
      '2027-04-15 2027-Q1',
      '2027-07-15 2027-Q2',
      '2027-10-15 2027-Q3',
    ]);
    expect(of('statistics').map((s) => s.slice(5, 10))).toEqual(['01-20', '04-20', '07-20', '10-20', '01-20', '04-20', '07-20', '10-20']);
  });

  it('yearly flows in January for the year before', () => {
    expect(of('tax-attestations')).toEqual(['2026-01-20 02:00:00 2025', '2027-01-20 02:00:00 2026']);
    expect(of('belcotax-281-18')).toEqual(['2026-01-15 02:00:00 2025', '2027-01-15 02:00:00 2026']);
  });

  it('allowance certificates on the 5th of every month for the month before, in both seasons', () => {
    const a = of('allowance-certificates');
    expect(a).toHaveLength(24);
    expect(a[0]).toBe('2026-01-05 02:00:00 2025-12');
    expect(a[3]).toBe('2026-04-05 02:00:00 2026-03'); // summer time
    expect(a[10]).toBe('2026-11-05 02:00:00 2026-10'); // winter time again
    expect(new Set(a.map((s) => s.slice(11, 19)))).toEqual(new Set(['02:00:00']));
  });

  it('incapacity attestations every day at 06:00 for the day before, in both seasons and on the DST days', () => {
    const d = of('incapacity-attestations');
    expect(d).toHaveLength(365 + 365);
    expect(d[0]).toBe('2026-01-01 06:00:00 2025-12-31');
    expect(d).toContain('2026-03-29 06:00:00 2026-03-28');
    expect(d).toContain('2026-10-25 06:00:00 2026-10-24');
    expect(d).toContain('2026-03-01 06:00:00 2026-02-28');
    expect(new Set(d.map((s) => s.slice(11, 19)))).toEqual(new Set(['06:00:00']));
  });

  it('proposes no other run on the DST days themselves, and every period exactly once', () => {
    for (const day of ['2026-03-29', '2026-10-25', '2027-03-28', '2027-10-31']) {
      expect(runs.filter((r) => brusselsDate(r.dueAt) === day && r.pipeline.id !== 'incapacity-attestations')).toEqual([]);
    }
    const keys = runs.map((r) => `${r.pipeline.id} ${formatPeriod(r.period)}`);
    expect(new Set(keys).size).toBe(keys.length);
    expect(runs).toHaveLength(8 + 8 + 8 + 2 + 2 + 24 + 730);
  });

  it('a 02:30 schedule still fires exactly once on both DST days (moved to 03:00 when 02:30 does not exist)', () => {
    const daily = { ...PIPELINES[0]!, schedule: '30 2 * * *' } as AnyPipeline;
    for (const [day, expected] of [
      ['2026-03-29', '03:00:00'],
      ['2026-10-25', '02:30:00'],
      ['2027-03-28', '03:00:00'],
      ['2027-10-31', '02:30:00'],
    ] as const) {
      const start = new Date(`${day}T00:00:00Z`);
      const times = fireTimes(daily.schedule, new Date(start.getTime() - 3_600_000), new Date(start.getTime() + 22 * 3_600_000));
      expect(times.map(local).filter((t) => t.startsWith(day))).toEqual([`${day} ${expected}`]);
    }
  });
});
