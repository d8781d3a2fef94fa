/** Why a value is not a valid KBO/BCE company number (10 digits, mod-97 check), or null. */
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
