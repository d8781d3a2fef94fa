import { companyCheckDigits } from '../domain/companyNumber.js';
import { inssCheckDigits } from '../domain/inss.js';
import { composeIBAN } from 'ibantools';
import { daysInMonth, type LocalDate, toLocalDate } from '../period/localDate.js';
import { ABROAD, FIRST_NAMES, LAST_NAMES, LOCALITIES, STREETS } from './names.js';
import type { Random } from './random.js';

/** The person part of a generated affiliate: one row of affiliates.csv plus facts the other rows need. */
export interface GeneratedPerson {
  row: (string | null)[];
  affiliateId: string;
  birthDate: LocalDate;
  sex: 'M' | 'F' | 'X';
}

/** Generates one affiliate row; `badCheckDigit` makes the INSS fail its check digits. */
export function generatePerson(index: number, rnd: Random, badCheckDigit: boolean): GeneratedPerson {
  const affiliateId = `A${String(index).padStart(9, '0')}`;
  const year = rnd.int(1950, 2006);
  const month = rnd.int(1, 12);
  const day = rnd.int(1, daysInMonth(year, month));
  const birthDate = toLocalDate(year, month, day);
  const sex = rnd.chance(0.01) ? 'X' : rnd.chance(0.5) ? 'M' : 'F';
  const inss = makeInss(year, month, day, sex, rnd, badCheckDigit);
  const abroad = rnd.chance(0.03) ? rnd.pick(ABROAD) : null;
  const locality = rnd.pick(LOCALITIES);
  const language = abroad ? rnd.pick(['fr', 'nl', 'de'] as const) : languageOf(locality.region, rnd);
  const row = [
    affiliateId,
    inss,
    rnd.pick(LAST_NAMES),
    rnd.pick(FIRST_NAMES[language]),
    birthDate,
    sex,
    language,
    `${rnd.pick(STREETS)} ${rnd.int(1, 250)}`,
    abroad ? abroad.postalCode : locality.postalCode,
    abroad ? abroad.city : locality.city,
    abroad ? abroad.country : 'BE',
    rnd.chance(0.85) ? belgianIban(rnd) : null,
  ];
  return { row, affiliateId, birthDate, sex };
}

function makeInss(year: number, month: number, day: number, sex: 'M' | 'F' | 'X', rnd: Random, bad: boolean): string {
  // BIS numbers: +20 to the month when the sex is unknown, +40 when known.
  const bis = sex === 'X' || rnd.chance(0.03);
  const mm = bis ? month + (sex === 'X' ? 20 : 40) : month;
  let serial = rnd.int(1, 498) * 2;
  if (sex === 'M') serial -= 1;
  const body = `${String(year % 100).padStart(2, '0')}${String(mm).padStart(2, '0')}${String(day).padStart(2, '0')}${String(serial).padStart(3, '0')}`;
  const check = inssCheckDigits(body, year >= 2000);
  if (!bad) return `${body}${check}`;
  return `${body}${String((Number(check) + 1) % 100).padStart(2, '0')}`;
}

function languageOf(region: string, rnd: Random): 'fr' | 'nl' | 'de' {
  if (region === 'flanders') return 'nl';
  if (region === 'wallonia-de') return rnd.chance(0.7) ? 'de' : 'fr';
  if (region === 'wallonia') return 'fr';
  return rnd.chance(0.8) ? 'fr' : 'nl';
}

function belgianIban(rnd: Random): string {
  const account = String(rnd.int(0, 9_999_999_999)).padStart(10, '0');
  const national = Number(account) % 97 || 97;
  return composeIBAN({ countryCode: 'BE', bban: `${account}${String(national).padStart(2, '0')}` }) ?? '';
}

/** A valid KBO/BCE company number built from a counter. */
export function companyNumber(n: number): string {
  const body = `0${String(2_000_000 + (n % 7_000_000)).padStart(7, '0')}`;
  return `${body}${companyCheckDigits(body)}`;
}
