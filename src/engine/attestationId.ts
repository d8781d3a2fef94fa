import type { Period } from '../period/period.js';

/** AttestationIDs are at most 15 digits (schemas/common/envelope-v1.xsd). */
const MAX_DIGITS = 15;

/**
 * The AttestationID of a new record: the period code followed by the record's ordinal in the
 * extraction, offset by the run's version (new records of version v count from v × 10^(w−1)).
 * The ordinal's width w is 9 digits, or less when the period code is longer than 6 digits (a day,
 * `YYYYMMDD`: 7 digits, up to 999 999 records a day per version), so that the id fits 15 digits.
 * Throws, naming the limit, when a record's id would not fit.
 */
export function newAttestationId(period: Period, code: string, version: number, ordinal: number): string {
  const width = ordinalWidth(code);
  const step = 10 ** (width - 1);
  const id = `${code}${String(version * step + ordinal).padStart(width, '0')}`;
  if (ordinal >= step || id.length > MAX_DIGITS) {
    throw new Error(
      `The ${period.kind} ${code} has record ${ordinal} in version ${version}: its AttestationID ${id} does not fit ${MAX_DIGITS} digits (at most ${step - 1} records per version after a ${code.length}-digit period code); see src/engine/attestationId.ts`,
    );
  }
  return id;
}

/** Digits of the ordinal after a period code. */
export function ordinalWidth(code: string): number {
  return Math.min(9, MAX_DIGITS - code.length);
}
