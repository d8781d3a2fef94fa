/**
 * Why a value is not a valid KBO/BCE company number in its 10-digit form (mod-97 check), or null.
 * Strict: the dossier CSV contract states 10 digits; an operator's value goes through parseCompanyNumber.
 */
export function companyNumberProblem(value: string): 'format' | 'check-digit' | null {
  if (!/^\d{10}$/.test(value)) return 'format';
  const body = Number(value.slice(0, 8));
  const check = Number(value.slice(8));
  return (body + check) % 97 === 0 ? null : 'check-digit';
}

/** Computes the 2 check digits of an 8-digit company-number body. */
export function companyCheckDigits(body: string): string {
  return String(97 - (Number(body) % 97)).padStart(2, '0');
}

/**
 * An operator's KBO/BCE number in the 10-digit form every file writes: 10 digits, or 9 that get
 * their leading 0 (domain.md §4), then the mod-97 check. Throws, naming the problem, otherwise.
 */
export function parseCompanyNumber(value: string): string {
  const tenDigits = /^\d{9}$/.test(value) ? `0${value}` : value;
  const problem = companyNumberProblem(tenDigits);
  if (problem === 'format') throw new Error('must be a KBO/BCE number of 10 digits, or 9 without the leading 0 (e.g. 0403019261 or 403019261)');
  if (problem !== null)
    throw new Error(`${tenDigits} is not a KBO/BCE number: its check digits do not match (the first 8 digits plus the last 2 must be a multiple of 97); copy it from the fund's KBO/BCE registration`);
  return tenDigits;
}
