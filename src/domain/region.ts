/** The regions that matter for family allowances and statistics. */
export type Region = 'brussels' | 'wallonia' | 'flanders' | 'abroad';

/**
 * The region of an address from its postal code (flows.md): Brussels 1000–1299, Wallonia
 * 1300–1499 and 4000–7999, Flanders 1500–3999 and 8000–9999; `abroad` when the country is not
 * BE; null for a Belgian address whose postal code is not 4 digits.
 */
export function regionOf(postalCode: string, country: string): Region | null {
  if (country !== 'BE') return 'abroad';
  if (!/^\d{4}$/.test(postalCode)) return null;
  const n = Number(postalCode);
  if (n >= 1000 && n <= 1299) return 'brussels';
  if ((n >= 1300 && n <= 1499) || (n >= 4000 && n <= 7999)) return 'wallonia';
  if ((n >= 1500 && n <= 3999) || (n >= 8000 && n <= 9999)) return 'flanders';
  return null;
}
