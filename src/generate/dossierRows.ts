import { toStructuredReference } from '../domain/structuredReference.js';
import { addDays, type LocalDate, maxDate, minDate, toLocalDate } from '../period/localDate.js';
import { formatPeriod, lastDay, makePeriod, type Period, shiftPeriod } from '../period/period.js';
import { COMPANY_NAMES } from './names.js';
import { companyNumber, type GeneratedPerson } from './person.js';
import type { Random } from './random.js';

type Row = (string | number | null)[];

/** Every row of one affiliate, per contract file (affiliates.csv excluded). */
export interface AffiliateRows {
  activity_periods: Row[];
  mutuality_affiliations: Row[];
  contributions: Row[];
  payments: Row[];
  allowances: Row[];
  companies: Row[];
  incapacity_requests: Row[];
}

/** The window of quarters the generated contributions cover, and the fault to inject. */
export interface RowOptions {
  firstQuarter: Period;
  lastQuarter: Period;
  /** A domain error that the pipelines must quarantine (the row itself follows the contract). */
  fault: 'incoherent-period' | 'activity-without-category' | null;
}

const CATEGORIES = ['main', 'main', 'main', 'complementary', 'complementary', 'after_pension', 'helper_maxi', 'student'] as const;
const INSURERS = ['100', '200', '300', '400', '500', '600', '900'] as const;
const QUARTERLY_CENTS: Record<string, number> = { main: 87171, complementary: 23412, after_pension: 31050, helper_maxi: 29480, student: 0 };

/** Generates the career, insurer, money and allowance rows of one affiliate. */
export function generateRows(person: GeneratedPerson, index: number, rnd: Random, opts: RowOptions): AffiliateRows {
  const rows: AffiliateRows = { activity_periods: [], mutuality_affiliations: [], contributions: [], payments: [], allowances: [], companies: [], incapacity_requests: [] };
  const windowStart = opts.firstQuarter.start;
  const windowEnd = lastDay(opts.lastQuarter);
  const start = toLocalDate(rnd.int(2008, opts.lastQuarter.year), rnd.int(1, 12), rnd.int(1, 28));
  const company = rnd.chance(0.15) ? companyNumber(index) : null;
  const first = rnd.pick(CATEGORIES);
  const activities: { category: string; from: LocalDate; to: LocalDate | null }[] = [];
  if (rnd.chance(0.2)) {
    // A change of category inside a quarter: the first period ends, the next starts the day after.
    const switchDay = addDays(maxDate(start, windowStart), rnd.int(10, 400));
    activities.push({ category: first, from: start, to: switchDay });
    activities.push({ category: rnd.pick(CATEGORIES.filter((c) => c !== first)), from: addDays(switchDay, 1), to: null });
  } else {
    const ends = rnd.chance(0.15) ? addDays(maxDate(start, windowStart), rnd.int(30, 500)) : null;
    activities.push({ category: first, from: start, to: ends });
  }
  for (const a of activities) {
    const category = opts.fault === 'activity-without-category' ? null : a.category;
    rows.activity_periods.push([person.affiliateId, 'activity', category, a.from, a.to, company]);
  }
  if (opts.fault === 'incoherent-period') {
    rows.activity_periods.push([person.affiliateId, 'activity', 'main', addDays(windowEnd, -10), addDays(windowEnd, -40), null]);
  }
  if (rnd.chance(0.1)) {
    const s = addDays(windowStart, rnd.int(0, 600));
    rows.activity_periods.push([person.affiliateId, 'assimilation_sickness', null, s, addDays(s, rnd.int(20, 200)), null]);
  }
  if (rnd.chance(0.03)) {
    rows.activity_periods.push([person.affiliateId, 'continued_insurance', null, addDays(windowStart, rnd.int(0, 400)), null, null]);
  }
  addMutualities(rows, person, rnd, opts);
  addMoney(rows, person, index, rnd, opts, activities);
  addAllowances(rows, person, index, rnd, opts);
  if (company) {
    const name = `${rnd.pick(COMPANY_NAMES)} ${person.row[2]}`;
    for (let y = opts.firstQuarter.year; y <= opts.lastQuarter.year; y++) {
      const balance = rnd.int(1_000_000, 150_000_000);
      const amount = balance > 85_860_572 ? 99_847 : 39_973;
      const paid = rnd.chance(0.85) ? amount : rnd.chance(0.5) ? Math.floor(amount / 2) : 0;
      rows.companies.push([company, name, y, balance, amount, paid, paid === amount ? toLocalDate(y, rnd.int(1, 12), rnd.int(1, 28)) : null]);
    }
  }
  return rows;
}

function addMutualities(rows: AffiliateRows, person: GeneratedPerson, rnd: Random, opts: RowOptions): void {
  if (rnd.chance(0.04)) return; // no insurer at all: the paper-slip exception
  const from = addDays(person.birthDate, rnd.int(6000, 8000));
  if (rnd.chance(0.15)) {
    // A change of insurer, sometimes exactly on the last day of a quarter.
    const q = shiftPeriod(opts.firstQuarter, rnd.int(0, 6));
    const change = rnd.chance(0.5) ? lastDay(q) : addDays(q.start, rnd.int(5, 80));
    const a = rnd.pick(INSURERS);
    rows.mutuality_affiliations.push([person.affiliateId, a, minDate(from, addDays(change, -1)), addDays(change, -1)]);
    rows.mutuality_affiliations.push([person.affiliateId, rnd.pick(INSURERS.filter((i) => i !== a)), change, null]);
  } else {
    rows.mutuality_affiliations.push([person.affiliateId, rnd.pick(INSURERS), from, null]);
  }
}

function addMoney(rows: AffiliateRows, person: GeneratedPerson, index: number, rnd: Random, opts: RowOptions, activities: { category: string; from: LocalDate; to: LocalDate | null }[]): void {
  let n = 0;
  for (let q = opts.firstQuarter; q.start <= opts.lastQuarter.start; q = shiftPeriod(q, 1)) {
    const act = activities.find((a) => a.from < q.end && (a.to === null || a.to >= q.start));
    if (!act) continue;
    const base = QUARTERLY_CENTS[act.category] ?? 0;
    const amount = act.category === 'main' && rnd.chance(0.3) ? base + rnd.int(0, 300_000) : base;
    const due = lastDay(q);
    const id = `C${index}-${++n}`;
    rows.contributions.push([id, person.affiliateId, formatPeriod(q), 'provisional', amount * 4 * 5, amount, due]);
    addPayments(rows, person, index, rnd, id, amount, q, `${n}`);
    if (rnd.chance(0.05)) {
      const reg = rnd.int(-40_000, 60_000) || 100;
      const rid = `C${index}-${++n}`;
      rows.contributions.push([rid, person.affiliateId, formatPeriod(q), 'regularisation', null, reg, addDays(due, 365)]);
      if (reg > 0 && rnd.chance(0.6)) rows.payments.push([`P${index}-${rid}`, person.affiliateId, rid, 'payment', reg, addDays(due, rnd.int(200, 400)), toStructuredReference(index * 100 + n)]);
    }
  }
}

function addPayments(rows: AffiliateRows, person: GeneratedPerson, index: number, rnd: Random, contributionId: string, amount: number, q: Period, tag: string): void {
  if (amount <= 0) return;
  const ref = toStructuredReference(index * 100 + Number(tag));
  const due = lastDay(q);
  const pay = (suffix: string, kind: string, cents: number, date: LocalDate, allocated = true): void => {
    rows.payments.push([`P${index}-${tag}${suffix}`, person.affiliateId, allocated ? contributionId : null, kind, cents, date, ref]);
  };
  const r = rnd.int(0, 99);
  if (r < 78) pay('', 'payment', amount, addDays(q.start, rnd.int(0, 85)));
  else if (r < 86) {
    pay('', 'payment', amount, addDays(due, rnd.int(1, 200)));
    rows.contributions.push([`I${index}-${tag}`, person.affiliateId, formatPeriod(shiftPeriod(q, 1)), 'increase', null, Math.round(amount * 0.03), lastDay(shiftPeriod(q, 1))]);
  } else if (r < 91) pay('', 'payment', Math.floor(amount / 2), addDays(q.start, rnd.int(0, 85)));
  else if (r < 93) {
    pay('', 'payment', amount + 5000, addDays(q.start, rnd.int(0, 60)));
    pay('R', 'refund', 5000, addDays(due, rnd.int(5, 60)));
  } else if (r < 95) pay('U', 'payment', amount, addDays(q.start, rnd.int(0, 85)), false);
  // else: not paid at all
}

function addAllowances(rows: AffiliateRows, person: GeneratedPerson, index: number, rnd: Random, opts: RowOptions): void {
  const month = (): string => {
    const q = shiftPeriod(opts.firstQuarter, rnd.int(0, 7));
    const m = makePeriod('month', q.year, (q.index - 1) * 3 + rnd.int(1, 3));
    return formatPeriod(m);
  };
  const paidOn = (m: string): string | null => (rnd.chance(0.85) ? `${m}-${String(rnd.int(10, 28)).padStart(2, '0')}` : null);
  if (rnd.chance(0.02)) {
    const m = month();
    rows.allowances.push([`AL${index}-B`, person.affiliateId, 'bridging_right', m, rnd.int(150_000, 260_000), null, null, paidOn(m)]);
  }
  if (person.sex === 'F' && rnd.chance(0.02)) {
    const m = month();
    rows.allowances.push([`AL${index}-M`, person.affiliateId, 'maternity_vouchers', m, null, 105, null, paidOn(m)]);
  }
  if (rnd.chance(0.01)) {
    // Mostly historic months (before regionalisation), some later ones that must be quarantined.
    const m = rnd.chance(0.8) ? `${rnd.int(2016, 2018)}-${String(rnd.int(1, 12)).padStart(2, '0')}` : month();
    rows.allowances.push([`AL${index}-F`, person.affiliateId, 'family_allowance', m, rnd.int(9_000, 30_000), null, childInss(index), paidOn(m)]);
  }
}

function childInss(index: number): string {
  const body = `1503${String(1 + (index % 28)).padStart(2, '0')}${String(100 + (index % 800)).padStart(3, '0')}`;
  return `${body}${String(97 - ((2_000_000_000 + Number(body)) % 97)).padStart(2, '0')}`;
}

/** The days the generated incapacity requests are made on: the week that ends on `lastDay`. */
export const REQUEST_DAYS = 7;

/**
 * An incapacity request of a mutual insurer for some affiliates (3 %), made on one of the
 * REQUEST_DAYS days up to `lastDay`, for an incapacity that started up to 60 days before; one
 * in fifty starts after its request (quarantined, `incapacity-start-after-request`). Drawn from
 * its own Random, so that the other files stay the same as without requests.
 */
export function addIncapacityRequest(rows: AffiliateRows, person: GeneratedPerson, index: number, rnd: Random, lastDay: LocalDate): void {
  if (!rnd.chance(0.03)) return;
  const insurer = rnd.pick(INSURERS);
  const requestedOn = addDays(lastDay, -rnd.int(0, REQUEST_DAYS - 1));
  const start = rnd.chance(0.02) ? addDays(requestedOn, rnd.int(1, 10)) : addDays(requestedOn, -rnd.int(0, 60));
  rows.incapacity_requests.push([`${insurer}-${String(index).padStart(9, '0')}`, person.affiliateId, insurer, requestedOn, start]);
}
