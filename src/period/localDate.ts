/** A calendar day `YYYY-MM-DD` (no time, no zone). Compares correctly as a string. */
export type LocalDate = string & { readonly __brand: 'LocalDate' };

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

/** True when the text is a real calendar day in `YYYY-MM-DD` form (leap years included; there is no year 0). */
export function isLocalDate(text: string): boolean {
  const m = DATE.exec(text);
  if (!m) return false;
  const y = Number(m[1]);
  const mo = Number(m[2]);
  const d = Number(m[3]);
  if (y < 1 || mo < 1 || mo > 12 || d < 1) return false;
  return d <= daysInMonth(y, mo);
}

/** Parses `YYYY-MM-DD`, throwing when it is not a real calendar day. */
export function parseLocalDate(text: string): LocalDate {
  if (!isLocalDate(text)) throw new Error(`not a calendar date (YYYY-MM-DD): ${text}`);
  return text as LocalDate;
}

const MONTH_DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31] as const;

/** Number of days in a month (1-12) of a year (Gregorian: every row's dates are checked with it). */
export function daysInMonth(year: number, month: number): number {
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  return month === 2 && leap ? 29 : MONTH_DAYS[month - 1]!;
}

/** Builds a LocalDate from numbers; month 1-12. */
export function toLocalDate(year: number, month: number, day: number): LocalDate {
  return `${String(year).padStart(4, '0')}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}` as LocalDate;
}

/** Adds a number of days (may be negative). */
export function addDays(date: LocalDate, days: number): LocalDate {
  const [y, m, d] = date.split('-').map(Number) as [number, number, number];
  const t = new Date(Date.UTC(y, m - 1, d + days));
  return toLocalDate(t.getUTCFullYear(), t.getUTCMonth() + 1, t.getUTCDate());
}

/** Whole days from `a` to `b` (positive when b is later). */
export function daysBetween(a: LocalDate, b: LocalDate): number {
  return Math.round((Date.parse(`${b}T00:00:00Z`) - Date.parse(`${a}T00:00:00Z`)) / 86_400_000);
}

/** The earlier of two dates. */
export function minDate(a: LocalDate, b: LocalDate): LocalDate {
  return a < b ? a : b;
}

/** The later of two dates. */
export function maxDate(a: LocalDate, b: LocalDate): LocalDate {
  return a > b ? a : b;
}

const brusselsDay = new Intl.DateTimeFormat('en-CA', {
  timeZone: 'Europe/Brussels',
  year: 'numeric',
  month: '2-digit',
  day: '2-digit',
});
const brusselsTime = new Intl.DateTimeFormat('en-GB', {
  timeZone: 'Europe/Brussels',
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
  hourCycle: 'h23',
});

/** The calendar day in Europe/Brussels at an instant. */
export function brusselsDate(instant: Date): LocalDate {
  return brusselsDay.format(instant) as LocalDate;
}

/** The wall-clock time `HH:MM:SS` in Europe/Brussels at an instant. */
export function brusselsTimeOfDay(instant: Date): string {
  return brusselsTime.format(instant);
}
