import { describe, expect, it } from 'vitest';
import { nisCountries, nisCountryCode } from '../../src/domain/nisCountry.js';
import { ABROAD } from '../../src/generate/names.js';

describe('NIS country codes', () => {
  it('gives the codes shared/domain.md §6 names', () => {
    expect(['BE', 'FR', 'LU', 'DE', 'NL', 'US'].map(nisCountryCode)).toEqual(['150', '00111', '00113', '00103', '00129', '00402']);
  });

  it('gives every other listed country five digits, each code once', () => {
    const codes = nisCountries()
      .filter((c) => c !== 'BE')
      .map((c) => nisCountryCode(c)!);
    expect(codes.length).toBeGreaterThan(200);
    expect(codes.every((c) => /^00[1-9]\d{2}$/.test(c))).toBe(true);
    expect(new Set(codes).size).toBe(codes.length);
    expect(nisCountries().every((c) => /^[A-Z]{2}$/.test(c))).toBe(true);
  });

  it('has none for a code outside the table, whatever the import accepted ([A-Z]{2})', () => {
    expect(['JE', 'AQ', 'XX', 'ZZ', 'be', '', 'toString', '__proto__'].map(nisCountryCode)).toEqual([null, null, null, null, null, null, null, null]);
  });

  it('covers the countries the generator puts affiliates in, but Jersey (its quarantine is exercised)', () => {
    expect(ABROAD.map((a) => [a.country, nisCountryCode(a.country) !== null])).toEqual([
      ['FR', true],
      ['NL', true],
      ['DE', true],
      ['LU', true],
      ['US', true],
      ['JE', false],
    ]);
  });
});
