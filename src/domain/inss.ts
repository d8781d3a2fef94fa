/** A Belgian social-security number (INSS/NISS, or BIS), 11 digits, check digits verified. */
export type Inss = string & { readonly __brand: 'Inss' };

const ELEVEN_DIGITS = /^\d{11}$/;

/** Why an 11-character value is not a valid INSS, or null when it is one. */
export function inssProblem(value: string): 'format' | 'check-digit' | null {
  if (!ELEVEN_DIGITS.test(value)) return 'format';
  const body = Number(value.slice(0, 9));
  const check = Number(value.slice(9));
  // Born before 2000: 97 - (body mod 97); born from 2000: the same on "2" followed by the body.
  if (97 - (body % 97) === check) return null;
  if (97 - ((2_000_000_000 + body) % 97) === check) return null;
  return 'check-digit';
}

/** True when the value is an 11-digit INSS or BIS number whose check digits match. */
export function isValidInss(value: string): boolean {
  return inssProblem(value) === null;
}

/** Parses an INSS, throwing when the format or the check digits are wrong. */
export function parseInss(value: string): Inss {
  const problem = inssProblem(value);
  if (problem !== null) throw new Error(`not a valid INSS (${problem}): ${maskInss(value)}`);
  return value as Inss;
}

/** Computes the two check digits of a 9-digit INSS body; `bornFrom2000` picks the 2000+ rule. */
export function inssCheckDigits(body: string, bornFrom2000: boolean): string {
  const n = Number(body) + (bornFrom2000 ? 2_000_000_000 : 0);
  return String(97 - (n % 97)).padStart(2, '0');
}

/** Masks an INSS for logs and messages: keeps the first two and last two digits. */
export function maskInss(value: string): string {
  if (value.length < 5) return '*'.repeat(value.length);
  return `${value.slice(0, 2)}${'*'.repeat(value.length - 4)}${value.slice(-2)}`;
}
