import { z } from 'zod';
import type { Pipeline, XmlOutput } from '../src/engine/pipeline.js';
import { nisCountryCode } from '../src/domain/nisCountry.js';
import { daysInMonth, toLocalDate } from '../src/period/localDate.js';
import { formatEuros, ZERO_CENTS } from '../src/domain/cents.js';
import { centsField, inssField } from '../src/validate/fields.js';
import type { Rule } from '../src/validate/rule.js';
import { checkBelcotaxFile } from './belcotax/checkBelcotax.js';
import { type FicheRecord, renderFiche } from './belcotax/fiche.js';
import { readFiche } from './belcotax/readFiche.js';
import { belcotaxEnvelope } from './belcotax/sending.js';

export { checkBelcotaxFile } from './belcotax/checkBelcotax.js';
export { type FicheRecord, ficheControlTotal } from './belcotax/fiche.js';

const belcotaxRow = z.object({
  affiliateId: z.string(),
  inss: inssField,
  lastName: z.string(),
  firstName: z.string(),
  language: z.enum(['fr', 'nl', 'de']),
  street: z.string(),
  postalCode: z.string(),
  city: z.string(),
  country: z.string(),
  amount: centsField,
  missingAmounts: z.number().int(),
});
type BelcotaxRow = z.infer<typeof belcotaxRow>;

const amountsKnown: Rule<BelcotaxRow> = {
  id: 'allowance-amount-missing',
  check: (r) => (r.missingAmounts > 0 ? `${r.missingAmounts} paid bridging-right allowance(s) have no amount; complete them in the dossier` : null),
};

/**
 * `allowance-total-negative`: the fiche states the year's net bridging right (allowances paid
 * minus those taken back) in f18_2066, which takes no negative amount. Checked after
 * `allowance-amount-missing`: with an amount unknown, the total is not the year's.
 */
const totalNotNegative: Rule<BelcotaxRow> = {
  id: 'allowance-total-negative',
  check: (r) =>
    r.amount < 0
      ? `the year's net bridging-right amount is negative (${formatEuros(r.amount)} EUR, the sum of the allowances paid in the income year), and Belcotax takes no negative amount: correct the year's allowances in the dossier`
      : null,
};

/** `country-without-nis-code`: Belcotax states the country of residence as a Belgian NIS code. */
const countryHasNisCode: Rule<BelcotaxRow> = {
  id: 'country-without-nis-code',
  check: (r) =>
    nisCountryCode(r.country) === null
      ? `the country of residence "${r.country}" has no Belgian NIS code in maillon's table (src/domain/nisCountry.ts), and Belcotax takes no other; correct the country in the dossier, or add its NIS code to the table`
      : null,
};

// Bridging-right allowances paid in the income year (and on or before the as-of day), per beneficiary.
const SQL = `
SELECT json_build_object('affiliateId', a.affiliate_id, 'inss', a.inss, 'lastName', a.last_name, 'firstName', a.first_name,
                         'language', a.language, 'street', a.street, 'postalCode', a.postal_code, 'city', a.city, 'country', a.country,
                         'amount', coalesce(sum(al.amount_cents), 0),
                         'missingAmounts', count(*) FILTER (WHERE al.amount_cents IS NULL))
FROM dossier.allowances al JOIN dossier.affiliates a USING (affiliate_id)
WHERE al.kind = 'bridging_right' AND al.paid_on >= :periodStart AND al.paid_on < :periodEnd AND al.paid_on <= :asOfDay
GROUP BY a.affiliate_id
ORDER BY a.affiliate_id COLLATE "C"`;

/** The Belcotax-on-web file for SPF Finances (`shared/domain.md` §6), checked by its XSD and its arithmetic. */
export const belcotaxXml: XmlOutput<FicheRecord> = {
  kind: 'xml',
  schema: 'belcotax-281-18/v2.xsd',
  envelope: belcotaxEnvelope(),
  record: (rec, id, file) => renderFiche(rec, id, file.fund, file.version),
  // A correction cancels a fiche sent before that the year no longer has (f2028_typetraitement 3),
  // with the content SPF Finances holds: the fiche is read back from the earlier file.
  readRecord: readFiche,
  check: checkBelcotaxFile,
};

/** belcotax-281-18 — SPF Finances (Belcotax-on-web), yearly: one fiche 281.18 per bridging-right beneficiary. */
export const belcotax28118: Pipeline<BelcotaxRow, FicheRecord> = {
  id: 'belcotax-281-18',
  purpose: 'B281',
  title: 'Belcotax fiches 281.18 (bridging right)',
  periodKind: 'year',
  schedule: '0 2 15 1 *',
  // Legal deadline: end of February of the following year.
  deadline: (period) => toLocalDate(period.year + 1, 2, daysInMonth(period.year + 1, 2)),
  // SPF Finances accepts no file at all for an income year after 30 September of year+3 (domain.md §6).
  closesAfter: (period) => toLocalDate(period.year + 3, 9, 30),
  extract: { sql: SQL, sourceKey: (raw) => String((raw as { affiliateId?: string | number }).affiliateId ?? '(no affiliate id)') },
  row: belcotaxRow,
  rules: [amountsKnown, totalNotNegative, countryHasNisCode],
  recordKey: (row) => row.inss,
  toRecord: (row, { period }) => ({
    reference: row.affiliateId,
    inss: row.inss,
    lastName: row.lastName,
    firstName: row.firstName,
    street: row.street,
    postalCode: row.postalCode,
    city: row.city,
    country: nisCountryCode(row.country)!,
    language: row.language,
    year: period.year,
    gross: row.amount,
    withholding: ZERO_CENTS,
  }),
  route: () => ({ receiver: 'BELCOTAX' }),
  output: belcotaxXml,
  // A rerun sends the year again as one sending of grouped corrections (v0025_typeenvoi 1), with
  // the cancellation of every fiche sent before that the year no longer has.
  corrections: 'whole-file',
};
