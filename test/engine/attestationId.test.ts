import { describe, expect, it } from 'vitest';
import { attestationIds, newAttestationId, ordinalWidth } from '../../src/engine/attestationId.js';
import { AttestationIdExhaustedError } from '../../src/errors/errors.js';
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

describe('attestationIds', () => {
  const ids = (key: string, version: number, highest: string | null, n: number): string[] => {
    const next = attestationIds(parsePeriod(key), periodCode(parsePeriod(key)), version, highest);
    return Array.from({ length: n }, (_, i) => next(2 * i + 1));
  };
  it('gives every version that fits the same ids as before', () => {
    expect(ids('2026-07-14', 0, null, 2)).toEqual(['202607140000001', '202607140000003']);
    expect(ids('2026-07-14', 9, '202607148000002', 1)).toEqual(['202607149000001']);
    expect(ids('2026-07', 2, '202607100000042', 1)).toEqual(['202607200000001']);
    expect(ids('2026-Q3', 10, '20263900000001', 1)).toEqual(['202631000000001']);
  });
  it('takes the ids after the highest one the period used once the version no longer fits (a day corrected 10 times and more)', () => {
    expect(ids('2026-07-14', 10, '202607149000001', 3)).toEqual(['202607149000002', '202607149000003', '202607149000004']);
    expect(ids('2026-07-14', 11, '202607149000004', 1)).toEqual(['202607149000005']);
    expect(ids('2026-07', 10, '202607900000007', 1)).toEqual(['202607900000008']);
  });
  it('refuses only when the ids after the highest one no longer fit 15 digits', () => {
    expect(ids('2026-07-14', 12, '202607149999998', 1)).toEqual(['202607149999999']);
    expect(() => ids('2026-07-14', 12, '202607149999999', 1)).toThrow(/no AttestationID left .* do not fit 15 digits/);
  });
  it('refuses with a typed error the CLI ends with exit 5 (nothing published), naming the period', () => {
    const refusals = [() => id('2026-07-14', 0, 1_000_000), () => ids('2026-07-14', 12, '202607149999999', 1)];
    for (const refuse of refusals) {
      const err = (() => {
        try {
          refuse();
        } catch (e) {
          return e;
        }
        return null;
      })();
      expect(err).toBeInstanceOf(AttestationIdExhaustedError);
      expect((err as AttestationIdExhaustedError).exitCode).toBe(5);
      expect((err as AttestationIdExhaustedError).period).toBe('20260714');
    }
  });
});
