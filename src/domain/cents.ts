/** An exact amount of money in integer euro cents (may be negative). */
export type Cents = number & { readonly __brand: 'Cents' };

/** Parses an integer number of cents; throws on fractions or unsafe integers. */
export function parseCents(value: unknown): Cents {
  const n = typeof value === 'string' && /^-?\d+$/.test(value) ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isSafeInteger(n)) {
    throw new Error(`not an integer amount of cents: ${String(value)}`);
  }
  return n as Cents;
}

/** No money. */
export const ZERO_CENTS = 0 as Cents;

/** The sum of two amounts, exact (integers below 2^53). */
export function addCents(a: Cents, b: Cents): Cents {
  return (a + b) as Cents;
}

/** Formats cents as euros with two decimals, for people (never for files). */
export function formatEuros(cents: Cents): string {
  const sign = cents < 0 ? '-' : '';
  const abs = Math.abs(cents);
  return `${sign}${Math.floor(abs / 100)}.${String(abs % 100).padStart(2, '0')}`;
}
