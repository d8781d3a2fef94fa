import { describe, expect, it } from 'vitest';
import { newAttestationId, ordinalWidth } from '../../src/engine/attestationId.js';
import { parsePeriod, periodCode } from '../../src/period/period.js';

const id = (key: string, version: number, ordinal: number): string => newAttestationId(parsePeriod(key), periodCode(parsePeriod(key)), version, ordinal);

describe('newAttestationId', () => {
  it('keeps the 9-digit ordinal of quarters, months and years (ids already sent do not change)', () => {
    expect(id('2026-Q3', 0, 1)).toBe('20263000000001');
    expect(id('2026-07', 2, 42)).toBe('202607200000042');
    expect(id('2026', 0, 7)).toBe('2026000000007');
  });
  it('gives a day (8-digit code) a 7-digit ordinal, so that the id fits 15 digits', () => {
    expect(ordinalWidth('20260714')).toBe(7);
    expect(id('2026-07-14', 0, 1)).toBe('202607140000001');
    expect(id('2026-07-14', 1, 3)).toBe('202607141000003');
    expect(id('2026-07-14', 0, 999_999)).toHaveLength(15);
  });
  it('refuses an ordinal or a version the 15 digits cannot hold, naming the limit', () => {
    expect(() => id('2026-07-14', 0, 1_000_000)).toThrow(/at most 999999 records per version/);
    expect(() => id('2026-07-14', 10, 1)).toThrow(/does not fit 15 digits/);
  });
});
