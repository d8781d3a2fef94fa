/** Builds a Belgian structured communication `+++ddd/dddd/dddcc+++` from a 10-digit base. */
export function toStructuredReference(base: number): string {
  const digits = String(base % 10_000_000_000).padStart(10, '0');
  const check = Number(digits) % 97 || 97;
  const all = `${digits}${String(check).padStart(2, '0')}`;
  return `+++${all.slice(0, 3)}/${all.slice(3, 7)}/${all.slice(7)}+++`;
}

/** True when a structured communication has the right shape and check digits. */
export function isValidStructuredReference(text: string): boolean {
  const m = /^\+\+\+(\d{3})\/(\d{4})\/(\d{5})\+\+\+$/.exec(text);
  if (!m) return false;
  const all = `${m[1]}${m[2]}${m[3]}`;
  return (Number(all.slice(0, 10)) % 97 || 97) === Number(all.slice(10));
}
