import { addDays, brusselsDate, daysBetween, isLocalDate, type LocalDate, parseLocalDate, toLocalDate } from './localDate.js';

/** The period kinds the flows use. */
export type PeriodKind = 'quarter' | 'month' | 'year' | 'day';

/**
 * A period: a half-open range of calendar days [start, end) in Europe/Brussels.
 * `index` is the quarter (1-4), month (1-12) or day of the year (1-366); 1 for a year.
 */
export interface Period {
  readonly kind: PeriodKind;
  readonly year: number;
  readonly index: number;
  /** First day, inclusive. */
  readonly start: LocalDate;
  /** Day after the last day (exclusive). */
  readonly end: LocalDate;
}

const QUARTER = /^(\d{4})-Q([1-4])$/;
const MONTH = /^(\d{4})-(0[1-9]|1[0-2])$/;
const YEAR = /^(\d{4})$/;

/** Parses a period key: `2026-Q3`, `2026-07`, `2026` or `2026-07-14` (year 1 or later); throws with the accepted forms. */
export function parsePeriod(key: string): Period {
  const q = QUARTER.exec(key);
  const m = MONTH.exec(key);
  const y = YEAR.exec(key);
  const period = q
    ? makePeriod('quarter', Number(q[1]), Number(q[2]))
    : m
      ? makePeriod('month', Number(m[1]), Number(m[2]))
      : y
        ? makePeriod('year', Number(y[1]), 1)
        : isLocalDate(key)
          ? dayPeriod(parseLocalDate(key))
          : null;
  // There is no year 0: its dates do not exist.
  if (period && period.year >= 1) return period;
  throw new Error(`"${key}" is not a period key: use 2026-Q3 (quarter), 2026-07 (month), 2026 (year) or 2026-07-14 (day), from year 0001`);
}

/** The period of one calendar day: [day, day + 1). */
export function dayPeriod(day: LocalDate): Period {
  const year = Number(day.slice(0, 4));
  return { kind: 'day', year, index: daysBetween(toLocalDate(year, 1, 1), day) + 1, start: day, end: addDays(day, 1) };
}

/** Builds a period from its kind, year and index (quarter 1-4, month 1-12, day of the year 1-366, 1 for a year). */
export function makePeriod(kind: PeriodKind, year: number, index: number): Period {
  if (kind === 'day') return dayPeriod(addDays(toLocalDate(year, 1, 1), index - 1));
  const firstMonth = kind === 'quarter' ? (index - 1) * 3 + 1 : kind === 'month' ? index : 1;
  const months = kind === 'quarter' ? 3 : kind === 'month' ? 1 : 12;
  const start = toLocalDate(year, firstMonth, 1);
  const endMonth0 = firstMonth - 1 + months;
  const end = toLocalDate(year + Math.floor(endMonth0 / 12), (endMonth0 % 12) + 1, 1);
  return { kind, year, index, start, end };
}

/** The period key: `2026-Q3`, `2026-07`, `2026`, `2026-07-14`. */
export function formatPeriod(p: Period): string {
  if (p.kind === 'day') return p.start;
  if (p.kind === 'quarter') return `${p.year}-Q${p.index}`;
  if (p.kind === 'month') return `${p.year}-${String(p.index).padStart(2, '0')}`;
  return String(p.year);
}

/** The BCSS code of a period: quarter `YYYYQ` (20263), month `YYYYMM`, year `YYYY`, day `YYYYMMDD`. */
export function periodCode(p: Period): string {
  if (p.kind === 'day') return p.start.replaceAll('-', '');
  if (p.kind === 'quarter') return `${p.year}${p.index}`;
  if (p.kind === 'month') return `${p.year}${String(p.index).padStart(2, '0')}`;
  return String(p.year);
}

const lastDays = new WeakMap<Period, LocalDate>();

/**
 * The last day of the period (inclusive). Remembered per period object: the flows ask for it once
 * per record, and computing it each time was a visible share of a large run's main thread
 * (docs/decisions/0014-less-work-per-record.md).
 */
export function lastDay(p: Period): LocalDate {
  let day = lastDays.get(p);
  if (day === undefined) {
    day = addDays(p.end, -1);
    lastDays.set(p, day);
  }
  return day;
}

const keyCodes = new Map<string, string>();

/** The BCSS code of a period key (`2026-Q3` → `20263`, `2026-07` → `202607`), remembered per key: records name few periods. */
export function periodKeyCode(key: string): string {
  let code = keyCodes.get(key);
  if (code === undefined) {
    code = periodCode(parsePeriod(key));
    keyCodes.set(key, code);
  }
  return code;
}

/** True when `p` starts after `q` has ended (periods of any kinds). */
export function periodAfter(p: Period, q: Period): boolean {
  return p.start >= q.end;
}

/** The period of the same kind that contains a day. */
export function periodContaining(kind: PeriodKind, day: LocalDate): Period {
  if (kind === 'day') return dayPeriod(day);
  const [y, m] = day.split('-').map(Number) as [number, number];
  if (kind === 'quarter') return makePeriod(kind, y, Math.floor((m - 1) / 3) + 1);
  if (kind === 'month') return makePeriod(kind, y, m);
  return makePeriod(kind, y, 1);
}

/** The period that follows (delta 1) or precedes (delta -1) this one, or further. */
export function shiftPeriod(p: Period, delta: number): Period {
  if (p.kind === 'day') return dayPeriod(addDays(p.start, delta));
  const perYear = p.kind === 'quarter' ? 4 : p.kind === 'month' ? 12 : 1;
  const ordinal = p.year * perYear + (p.index - 1) + delta;
  return makePeriod(p.kind, Math.floor(ordinal / perYear), (ordinal % perYear) + 1);
}

/** The last period of a kind that has fully ended at an instant (Brussels calendar). */
export function lastCompletePeriod(kind: PeriodKind, instant: Date): Period {
  return shiftPeriod(periodContaining(kind, brusselsDate(instant)), -1);
}
