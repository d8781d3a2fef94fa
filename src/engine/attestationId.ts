import { AttestationIdExhaustedError } from '../errors/errors.js';
import type { Period } from '../period/period.js';

/** AttestationIDs are at most 15 digits (schemas/common/envelope-v1.xsd). */
const MAX_DIGITS = 15;

/**
 * The AttestationID of a new record: the period code followed by the record's ordinal in the
 * extraction, offset by the run's version (new records of version v count from v × 10^(w−1)).
 * The ordinal's width w is 9 digits, or less when the period code is longer than 6 digits (a day,
 * `YYYYMMDD`: 7 digits, up to 999 999 records a day per version), so that the id fits 15 digits.
 * Throws AttestationIdExhaustedError (exit 5), naming the limit, when a record's id would not fit.
 */
export function newAttestationId(period: Period, code: string, version: number, ordinal: number): string {
  const width = ordinalWidth(code);
  const step = 10 ** (width - 1);
  const id = versionedId(code, version, ordinal);
  if (ordinal >= step || id.length > MAX_DIGITS) {
    throw new AttestationIdExhaustedError(
      code,
      `The ${period.kind} ${code} has record ${ordinal} in version ${version}: its AttestationID ${id} does not fit ${MAX_DIGITS} digits (at most ${step - 1} records per version after a ${code.length}-digit period code); see src/engine/attestationId.ts`,
    );
  }
  return id;
}

/** Hands out the AttestationIDs of the new records of one version of a period, in extraction order. */
export type AttestationIds = (ordinal: number) => string;

/**
 * The ids of a version's new records. While `version × 10^(w−1)` leaves the id within 15 digits,
 * each id is `newAttestationId` (unchanged from earlier versions of maillon). Past that (a period
 * corrected more often than its ordinal width allows: a day's 10th correction), the new records
 * take the ids after `highestUsed`, the highest AttestationID of the period in the lineage (every
 * version, held or not), one after another, so that no id is ever given twice. Throws
 * AttestationIdExhaustedError, naming the limit, only when the ids after it no longer fit 15 digits.
 */
export function attestationIds(period: Period, code: string, version: number, highestUsed: string | null): AttestationIds {
  if (versionFits(code, version)) return (ordinal) => newAttestationId(period, code, version, ordinal);
  const after = highestUsed !== null && highestUsed.startsWith(code) ? BigInt(highestUsed.slice(code.length)) : 0n;
  let taken = 0n;
  return (ordinal) => {
    taken++;
    const id = `${code}${String(after + taken).padStart(ordinalWidth(code), '0')}`;
    if (id.length > MAX_DIGITS) {
      throw new AttestationIdExhaustedError(
        code,
        `The ${period.kind} ${code} has no AttestationID left for record ${ordinal} in version ${version}: the ids after ${highestUsed ?? code}, the highest this period used, ` +
          `do not fit ${MAX_DIGITS} digits (${id}). Its new records cannot be sent in a correction; see src/engine/attestationId.ts`,
      );
    }
    return id;
  };
}

/** True when the ids of `version` are `version × 10^(w−1) + ordinal` (every ordinal of the width fits 15 digits): no need to know the highest id used. */
export function versionFits(code: string, version: number): boolean {
  return versionedId(code, version, 10 ** (ordinalWidth(code) - 1) - 1).length <= MAX_DIGITS;
}

/** Digits of the ordinal after a period code. */
export function ordinalWidth(code: string): number {
  return Math.min(9, MAX_DIGITS - code.length);
}

function versionedId(code: string, version: number, ordinal: number): string {
  return `${code}${String(version * 10 ** (ordinalWidth(code) - 1) + ordinal).padStart(ordinalWidth(code), '0')}`;
}
