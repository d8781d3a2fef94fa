import type { LocalDate } from '../period/localDate.js';

/** One affiliation to a mutual insurer; `to` null = open; both days inclusive. */
export interface Affiliation {
  insurer: string;
  from: string;
  to: string | null;
}

/**
 * The insurer responsible on `day` (flows.md): the affiliation valid that day (the latest
 * valid_from if several are; of equal valid_from, the highest insurer code); if none is valid
 * that day, the affiliation with the latest valid_from among those given (the caller passes
 * those overlapping the period); null if none.
 *
 * One pass, once per record, with plain string comparisons: days are YYYY-MM-DD and insurer
 * codes three digits (dossier-csv.md), which compare the same by code point as by any
 * collation. Sorting a copy of the list with `localeCompare` for every record cost many times
 * more (docs/decisions/0015-insurer-in-one-pass.md).
 */
export function chooseInsurer(affiliations: readonly Affiliation[], day: LocalDate): string | null {
  let valid: Affiliation | undefined;
  let any: Affiliation | undefined;
  for (const a of affiliations) {
    if (any === undefined || later(a, any)) any = a;
    if (a.from <= day && (a.to === null || a.to >= day) && (valid === undefined || later(a, valid))) valid = a;
  }
  return (valid ?? any)?.insurer ?? null;
}

/** Whether `a` comes after `b` in (valid_from, insurer) order; equal ones keep the first seen. */
function later(a: Affiliation, b: Affiliation): boolean {
  return a.from === b.from ? a.insurer > b.insurer : a.from > b.from;
}
