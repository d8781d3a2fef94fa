import { z } from 'zod';
import { type Cents, parseCents } from '../src/domain/cents.js';
import type { Inss } from '../src/domain/inss.js';
import { toPaidState } from '../src/domain/paidState.js';
import type { Pipeline, XmlOutput } from '../src/engine/pipeline.js';
import { addDays, type LocalDate } from '../src/period/localDate.js';
import { formatPeriod, periodCode, periodContaining, shiftPeriod } from '../src/period/period.js';
import { bcssEnvelope } from '../src/render/envelope.js';
import { el, optionalEl } from '../src/render/xml.js';
import { activityCategoryRule, coherentPeriodsRule } from '../src/validate/commonRules.js';
import { centsField, inssField, localDateField } from '../src/validate/fields.js';
import type { Rule } from '../src/validate/rule.js';
import { CATEGORIES, CATEGORY_CODE } from './shared/codes.js';

const INSURERS = ['100', '200', '300', '400', '500', '600', '900'] as const;
const COVER_CODE = { activity: 'ACT', continued_insurance: 'CON' } as const;
const NOTHING: Cents = parseCents(0);

const requestRow = z.object({
  requestId: z.string(),
  inss: inssField,
  insurer: z.enum(INSURERS),
  requestedOn: localDateField,
  incapacityStart: localDateField,
  /** The activity or continued-insurance period covering the incapacity start, if any. */
  cover: z.object({ kind: z.enum(['activity', 'continued_insurance']), category: z.enum(CATEGORIES).nullable() }).nullable(),
  /** The activity and continued-insurance periods that could decide the answer (see SQL), incoherent ones included. */
  periods: z.array(z.object({ start: localDateField, end: localDateField.nullable() })),
  /** Due and allocated movements per quarter of the four before the incapacity's; quarters without contributions are absent. */
  quarters: z.array(z.object({ quarter: z.string(), due: centsField, movements: z.array(z.tuple([localDateField, centsField])) })),
});
type RequestRow = z.infer<typeof requestRow>;

/** One attestation: the fund's answer to one request of a mutual insurer. */
export interface IncapacityRecord {
  requestId: string;
  inss: Inss;
  insurer: (typeof INSURERS)[number];
  incapacityStart: LocalDate;
  cover: RequestRow['cover'];
  /** The four quarters before the quarter of the incapacity start, oldest first. */
  quarters: { quarter: string; due: Cents; paid: number; paidInFull: boolean; paidInFullDate: LocalDate | null }[];
}

const startNotAfterRequest: Rule<RequestRow> = {
  id: 'incapacity-start-after-request',
  check: (row) => (row.incapacityStart > row.requestedOn ? `the incapacity starts (${row.incapacityStart}) after the request (${row.requestedOn}); ask the insurer to correct its request` : null),
};

// A period that ends before it starts may be the one covering the incapacity start (left out of
// the cover, the answer would read "not insured") or one the four quarters were charged on: the
// request waits for the dossier's correction (shared rule; which periods: the SQL below).
const periodsCoherent = coherentPeriodsRule<RequestRow>((row) => row.periods);

// The activity period covering the incapacity start must have its category (shared rule).
const coverHasCategory = activityCategoryRule<RequestRow>((row) => (row.cover?.kind === 'activity' ? [row.cover] : []));

// The day's requests; the period covering the incapacity start (an activity before a continued
// insurance, then the latest start); per quarter of the four before the incapacity's quarter, the
// provisional and regularisation contributions and the payments (+) and refunds (−) allocated to
// them, value date ≤ as-of (flows.md, shared definitions); the activity and continued-insurance
// periods that could decide the answer: those reaching into the window from the first day of the
// four quarters to the incapacity start, an incoherent one (end before start) read in either order.
const SQL = `
WITH req AS (
  SELECT request_id, affiliate_id, insurer_code, requested_on, incapacity_start,
         date_trunc('quarter', incapacity_start) AS q_start,
         (date_trunc('quarter', incapacity_start) - interval '12 months')::date AS window_start
  FROM dossier.incapacity_requests
  WHERE requested_on >= :periodStart AND requested_on < :periodEnd
), contrib AS (
  SELECT req.request_id, c.contribution_id, c.quarter, c.amount_cents
  FROM req JOIN dossier.contributions c USING (affiliate_id)
  WHERE c.kind IN ('provisional', 'regularisation')
    AND c.quarter >= to_char(req.q_start - interval '12 months', 'YYYY-"Q"Q') COLLATE "C"
    AND c.quarter < to_char(req.q_start, 'YYYY-"Q"Q') COLLATE "C"
), due AS (
  SELECT request_id, quarter, sum(amount_cents) AS due FROM contrib GROUP BY request_id, quarter
), mov AS (
  SELECT c.request_id, c.quarter,
         json_agg(json_build_array(p.value_date, CASE WHEN p.kind = 'refund' THEN -p.amount_cents ELSE p.amount_cents END)
                  ORDER BY p.value_date, p.kind, p.payment_id COLLATE "C") AS movements
  FROM contrib c JOIN dossier.payments p USING (contribution_id)
  WHERE p.value_date <= :asOfDay
  GROUP BY c.request_id, c.quarter
), qs AS (
  SELECT request_id, json_agg(json_build_object('quarter', quarter, 'due', due, 'movements', coalesce(movements, '[]'::json)) ORDER BY quarter) AS quarters
  FROM due LEFT JOIN mov USING (request_id, quarter)
  GROUP BY request_id
)
SELECT json_build_object('requestId', req.request_id, 'inss', a.inss, 'insurer', req.insurer_code, 'requestedOn', req.requested_on,
                         'incapacityStart', req.incapacity_start, 'cover', cov.cover, 'periods', coalesce(per.periods, '[]'::json),
                         'quarters', coalesce(qs.quarters, '[]'::json))
FROM req
JOIN dossier.affiliates a USING (affiliate_id)
LEFT JOIN LATERAL (
  SELECT json_build_object('kind', p.kind, 'category', p.category) AS cover
  FROM dossier.activity_periods p
  WHERE p.affiliate_id = req.affiliate_id AND p.kind IN ('activity', 'continued_insurance')
    AND p.start_date <= req.incapacity_start AND (p.end_date IS NULL OR p.end_date >= req.incapacity_start)
  ORDER BY p.kind = 'activity' DESC, p.start_date DESC, p.category COLLATE "C" NULLS FIRST
  LIMIT 1
) cov ON true
LEFT JOIN LATERAL (
  SELECT json_agg(json_build_object('start', p.start_date, 'end', p.end_date) ORDER BY p.start_date, p.end_date) AS periods
  FROM dossier.activity_periods p
  WHERE p.affiliate_id = req.affiliate_id AND p.kind IN ('activity', 'continued_insurance')
    AND least(p.start_date, p.end_date) <= req.incapacity_start
    AND (p.end_date IS NULL OR greatest(p.start_date, p.end_date) >= req.window_start)
) per ON true
LEFT JOIN qs USING (request_id)
ORDER BY req.request_id COLLATE "C"`;

/** The four quarters before the incapacity's, oldest first, with their contribution state. */
function quarterStates(row: RequestRow): IncapacityRecord['quarters'] {
  const found = new Map(row.quarters.map((q) => [q.quarter, q]));
  const incapacityQuarter = periodContaining('quarter', row.incapacityStart);
  return [-4, -3, -2, -1].map((delta) => {
    const q = shiftPeriod(incapacityQuarter, delta);
    const state = found.get(formatPeriod(q));
    const due = state?.due ?? NOTHING;
    return { quarter: periodCode(q), due, ...toPaidState(due, state?.movements ?? []) };
  });
}

/**
 * What follows the engine's identification in an incapacity attestation. The category is the
 * covering period's, a continued insurance's included (flows.md: "if so, the category").
 */
function renderAttestation(rec: IncapacityRecord): string {
  const cover = rec.cover;
  const quarters = rec.quarters
    .map(
      (q) =>
        `<ContributionQuarter>${el('Quarter', q.quarter)}<Contribution>${el('Due', q.due)}${el('Paid', q.paid)}` +
        `${el('PaidInFull', q.paidInFull)}${optionalEl('PaidInFullDate', q.paidInFullDate)}</Contribution></ContributionQuarter>`,
    )
    .join('');
  return (
    `${el('RequestID', rec.requestId)}${el('INSS', rec.inss)}${el('InsurerCode', rec.insurer)}${el('IncapacityStartDate', rec.incapacityStart)}` +
    `${el('Insured', cover !== null)}${optionalEl('InsuranceKind', cover && COVER_CODE[cover.kind])}` +
    `${optionalEl('Category', cover?.category ? CATEGORY_CODE[cover.category] : null)}<ContributionQuarters>${quarters}</ContributionQuarters>`
  );
}

/** The attestations file for one insurer: BCSS envelope, root INCA. */
export const incapacityXml: XmlOutput<IncapacityRecord> = {
  kind: 'xml',
  schema: 'incapacity-attestations/v1.xsd',
  envelope: bcssEnvelope<IncapacityRecord>('INCA', '1', '001'),
  attestation: renderAttestation,
};

/** incapacity-attestations — mutual insurers, daily, on request: one file per insurer that asked. */
export const incapacityAttestations: Pipeline<RequestRow, IncapacityRecord> = {
  id: 'incapacity-attestations',
  purpose: 'INCA',
  title: 'Incapacity attestations for the mutual insurers',
  periodKind: 'day',
  // Every day at 06:00 Brussels, for the previous day (the last complete one).
  schedule: '0 6 * * *',
  // D + 8 calendar days (flows.md: the fund's choice).
  deadline: (period) => addDays(period.start, 8),
  extract: {
    sql: SQL,
    sourceKey: (raw) => String((raw as { requestId?: string | number }).requestId ?? '(no request id)'),
    // A request that reaches the dossier after its day was run: status and the report count it until a rerun answers it.
    keysSql: `SELECT request_id AS key FROM dossier.incapacity_requests WHERE requested_on >= :periodStart AND requested_on < :periodEnd`,
  },
  row: requestRow,
  rules: [startNotAfterRequest, periodsCoherent, coverHasCategory],
  recordKey: (row) => row.inss,
  toRecord: (row) => ({
    requestId: row.requestId,
    inss: row.inss,
    insurer: row.insurer,
    incapacityStart: row.incapacityStart,
    cover: row.cover,
    quarters: quarterStates(row),
  }),
  route: (rec) => ({ receiver: `OA${rec.insurer}` }),
  output: incapacityXml,
};
