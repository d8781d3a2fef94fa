import { z } from 'zod';
import type { Pipeline, XmlOutput } from '../src/engine/pipeline.js';
import { toLocalDate } from '../src/period/localDate.js';
import { bcssEnvelope } from '../src/render/envelope.js';
import { el } from '../src/render/xml.js';
import type { Cents } from '../src/domain/cents.js';
import type { Inss } from '../src/domain/inss.js';
import { periodKeyCode } from '../src/period/period.js';
import { centsField, inssField, type PeriodKey, periodKeyField } from '../src/validate/fields.js';
import { taxAttestationDocuments } from './documents/taxAttestationHtml.js';

const taxRow = z.object({
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
  quarters: z.array(z.object({ quarter: periodKeyField('quarter'), amount: centsField })).min(1),
});
type TaxRow = z.infer<typeof taxRow>;

/** One tax attestation: social contributions actually paid in the year, refunds deducted, increases excluded. */
export interface TaxRecord {
  affiliateId: string;
  inss: Inss;
  lastName: string;
  firstName: string;
  language: 'fr' | 'nl' | 'de';
  street: string;
  postalCode: string;
  city: string;
  country: string;
  year: number;
  /** May be negative when refunds exceed payments in the year. */
  amount: Cents;
  /** The quarters the payments were for (period keys, `2024-Q3`), with the part of the amount for each. */
  quarters: { quarter: PeriodKey; amount: Cents }[];
}

// Payments minus refunds with value date in the year (and ≤ as-of), allocated to provisional or
// regularisation contributions; per quarter of the contribution; affiliates whose total is not 0.
// The grouping is done in the order of the output (affiliate ids compare byte by byte: the
// column is COLLATE "C", migration 003) and the affiliates are joined without losing it, so PostgreSQL streams the attestations as
// it aggregates them: sorting them again by affiliate at the end held back the first row until all
// of them were computed and sorted, on disk at national scale
// (docs/decisions/0016-extraction-streams-in-output-order.md).
const SQL = `
WITH alloc AS (
  SELECT c.affiliate_id, c.quarter, sum(CASE WHEN p.kind = 'refund' THEN -p.amount_cents ELSE p.amount_cents END) AS cents
  FROM dossier.payments p JOIN dossier.contributions c USING (contribution_id)
  WHERE c.kind IN ('provisional', 'regularisation')
    AND p.value_date >= :periodStart AND p.value_date < :periodEnd AND p.value_date <= :asOfDay
  GROUP BY c.affiliate_id, c.quarter
), per AS (
  SELECT affiliate_id, sum(cents) AS amount,
         json_agg(json_build_object('quarter', quarter, 'amount', cents) ORDER BY quarter) FILTER (WHERE cents <> 0) AS quarters
  FROM alloc GROUP BY affiliate_id HAVING sum(cents) <> 0
)
SELECT json_build_object('affiliateId', a.affiliate_id, 'inss', a.inss, 'lastName', a.last_name, 'firstName', a.first_name,
                         'language', a.language, 'street', a.street, 'postalCode', a.postal_code, 'city', a.city,
                         'country', a.country, 'amount', per.amount, 'quarters', per.quarters)
FROM per JOIN dossier.affiliates a ON a.affiliate_id = per.affiliate_id
ORDER BY per.affiliate_id`;

// Reported beside the records: payments in the year not allocated to any contribution (left out).
const FACTS_SQL = `
SELECT json_build_object(
  'unallocatedPayments', count(*),
  'unallocatedCents', coalesce(sum(CASE WHEN kind = 'refund' THEN -amount_cents ELSE amount_cents END), 0))
FROM dossier.payments
WHERE contribution_id IS NULL AND value_date >= :periodStart AND value_date < :periodEnd AND value_date <= :asOfDay`;

/** What follows the engine's identification in a tax attestation. */
function renderAttestation(rec: TaxRecord): string {
  const quarters = rec.quarters.map((q) => `<PaidFor>${el('Quarter', periodKeyCode(q.quarter))}${el('Amount', q.amount)}</PaidFor>`).join('');
  return (
    `${el('INSS', rec.inss)}<Person>${el('LastName', rec.lastName)}${el('FirstName', rec.firstName)}${el('Language', rec.language)}</Person>` +
    `<Address>${el('Street', rec.street)}${el('PostalCode', rec.postalCode)}${el('City', rec.city)}${el('Country', rec.country)}</Address>` +
    `${el('IncomeYear', rec.year)}${el('Amount', rec.amount)}<PaidForQuarters>${quarters}</PaidForQuarters>`
  );
}

/** The attestations file for SPF Finances: BCSS envelope, root ATTF, control sum of amounts. */
export const taxXml: XmlOutput<TaxRecord> = {
  kind: 'xml',
  schema: 'tax-attestations/v1.xsd',
  envelope: bcssEnvelope<TaxRecord>('ATTF', '1', '001', { TotalAmount: (r) => r.amount }),
  attestation: renderAttestation,
};

/** tax-attestations — SPF Finances, yearly, with a printable attestation per affiliate (fr/nl/de). */
export const taxAttestations: Pipeline<TaxRow, TaxRecord> = {
  id: 'tax-attestations',
  purpose: 'ATTF',
  title: 'Tax attestations of social contributions paid',
  periodKind: 'year',
  schedule: '0 2 20 1 *',
  // Available to affiliates from 1 February of the next year: ready by 31 January.
  deadline: (period) => toLocalDate(period.year + 1, 1, 31),
  extract: { sql: SQL, sourceKey: (raw) => String((raw as { affiliateId?: string | number }).affiliateId ?? '(no affiliate id)') },
  facts: FACTS_SQL,
  row: taxRow,
  rules: [],
  recordKey: (row) => row.inss,
  // Every field named, not `{ ...row, year }`: V8 gives each object made by a spread followed by
  // another property a map of its own, and the XML, the hash and the page of every record then
  // missed their property caches. The fields keep the spread's order: the record's JSON, hashed
  // to tell a rerun what changed, stays the same.
  toRecord: (row, { period }) => ({
    affiliateId: row.affiliateId,
    inss: row.inss,
    lastName: row.lastName,
    firstName: row.firstName,
    language: row.language,
    street: row.street,
    postalCode: row.postalCode,
    city: row.city,
    country: row.country,
    amount: row.amount,
    quarters: row.quarters,
    year: period.year,
  }),
  route: () => ({ receiver: 'SPFFIN' }),
  output: taxXml,
  documents: taxAttestationDocuments,
};
