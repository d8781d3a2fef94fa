import type { LocalDate } from '../period/localDate.js';

/** One affiliation to a mutual insurer; `to` null = open; both days inclusive. */
export interface Affiliation {
  insurer: string;
  from: string;
  to: string | null;
}

/**
 * The insurer responsible on `day` (flows.md): the affiliation valid that day (the latest
 * valid_from if several are); if none is valid that day, the affiliation with the latest
 * valid_from among those given (the caller passes those overlapping the period); null if none.
 */
export function chooseInsurer(affiliations: readonly Affiliation[], day: LocalDate): string | null {
  const latest = (list: readonly Affiliation[]): Affiliation | undefined =>
    [...list].sort((a, b) => (a.from === b.from ? a.insurer.localeCompare(b.insurer) : a.from.localeCompare(b.from))).at(-1);
  const valid = affiliations.filter((a) => a.from <= day && (a.to === null || a.to >= day));
  return (latest(valid) ?? latest(affiliations))?.insurer ?? null;
}
