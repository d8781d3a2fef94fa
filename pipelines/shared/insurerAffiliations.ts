import { z } from 'zod';
import { localDateField } from '../../src/validate/fields.js';
import { coherentPeriodsRule, type Span } from '../../src/validate/commonRules.js';
import type { Rule } from '../../src/validate/rule.js';
import { reachesIntoPeriod } from './reachesIntoPeriod.js';

/** One `dossier.mutuality_affiliations` row as the extraction queries return it (to null = open). */
export const affiliationField = z.object({ insurer: z.string(), from: localDateField, to: localDateField.nullable() });

/**
 * SQL condition on a `dossier.mutuality_affiliations` row (alias `m`): it reaches into the run's
 * period, its dates read in either order, so that an affiliation that ends before it starts is
 * extracted wherever it could decide the insurer, and `period-incoherent` quarantines the record.
 */
export const AFFILIATION_REACHES_INTO_PERIOD = reachesIntoPeriod('m.valid_from', 'm.valid_to');

/**
 * `period-incoherent` on the affiliations a record's insurer is chosen from (an empty list for a
 * record routed without one): one that ends before it starts may be the one valid on the
 * period's last day, read the other way, so no insurer can be chosen until the dossier is
 * corrected. The message names the affiliate and the insurer, which find the row.
 */
export function coherentAffiliationsRule<Row>(of: (row: Row) => { affiliateId: string; insurers: readonly z.infer<typeof affiliationField>[] } | null): Rule<Row> {
  return coherentPeriodsRule((row) => {
    const a = of(row);
    return a === null ? [] : a.insurers.map((i): Span => ({ start: i.from, end: i.to, what: `the mutual insurer affiliation of ${a.affiliateId} (insurer ${i.insurer})` }));
  });
}
