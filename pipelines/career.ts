import { z } from 'zod';
import { toPaidState } from '../src/domain/paidState.js';
import { REACHES_INTO_PERIOD } from './shared/activity.js';
import { CATEGORIES, CATEGORY_CODE } from './shared/codes.js';
import { CONTRIBUTION_CTES, CONTRIBUTION_FIELDS } from './shared/contributionState.js';
import type { Pipeline, XmlOutput } from '../src/engine/pipeline.js';
import { type LocalDate, maxDate, minDate } from '../src/period/localDate.js';
import { lastDay, type Period, periodCode, periodContaining } from '../src/period/period.js';
import { bcssEnvelope } from '../src/render/envelope.js';
import { el, optionalEl } from '../src/render/xml.js';
import type { Cents } from '../src/domain/cents.js';
import type { Inss } from '../src/domain/inss.js';
import { activityCategoryRule, coherentPeriodsRule } from '../src/validate/commonRules.js';
import { centsField, inssField, localDateField } from '../src/validate/fields.js';

const KIND_CODE = { activity: 'ACT', assimilation_sickness: 'ASI', continued_insurance: 'CON' } as const;

const careerRow = z.object({
  affiliateId: z.string(),
  inss: inssField,
  periods: z
    .array(
      z.object({
        kind: z.enum(['activity', 'assimilation_sickness', 'continued_insurance']),
        category: z.enum(CATEGORIES).nullable(),
        start: localDateField,
        end: localDateField.nullable(),
      }),
    )
    .min(1),
  due: centsField,
  movements: z.array(z.tuple([localDateField, centsField])),
});
type CareerRow = z.infer<typeof careerRow>;

/** One career record: a person's quarter as INASTI receives it. */
export interface CareerRecord {
  inss: Inss;
  quarter: string;
  periods: { kind: keyof typeof KIND_CODE; category: (typeof CATEGORIES)[number] | null; start: LocalDate; end: LocalDate }[];
  due: Cents;
  paid: Cents;
  paidInFull: boolean;
  paidInFullDate: LocalDate | null;
}

// Periods overlapping the quarter (an incoherent one in every quarter its dates span, so that
// period-incoherent quarantines the record before clip() could see it: REACHES_INTO_PERIOD);
// due = provisional + regularisation of the quarter; movements = payments (+) and refunds (−)
// allocated to those contributions, value date ≤ as-of.
const SQL = `
WITH per AS (
  SELECT affiliate_id,
         json_agg(json_build_object('kind', kind, 'category', category, 'start', start_date, 'end', end_date)
                  ORDER BY start_date, kind, category) AS periods
  FROM dossier.activity_periods
  WHERE ${REACHES_INTO_PERIOD}
  GROUP BY affiliate_id
), ${CONTRIBUTION_CTES}
SELECT json_build_object('affiliateId', a.affiliate_id, 'inss', a.inss, 'periods', per.periods, ${CONTRIBUTION_FIELDS})
FROM per
JOIN dossier.affiliates a USING (affiliate_id)
LEFT JOIN due USING (affiliate_id)
LEFT JOIN mov USING (affiliate_id)
ORDER BY a.affiliate_id COLLATE "C"`;

function clip(period: Period, last: LocalDate, start: LocalDate, end: LocalDate | null): { start: LocalDate; end: LocalDate } {
  return { start: maxDate(start, period.start), end: minDate(end ?? last, last) };
}

/** What follows the engine's identification in a career attestation. */
function renderRecord(rec: CareerRecord): string {
  const periods = rec.periods
    .map(
      (p) => `<CareerPeriod>${el('Kind', KIND_CODE[p.kind])}${optionalEl('Category', p.category && CATEGORY_CODE[p.category])}` + `${el('StartDate', p.start)}${el('EndDate', p.end)}</CareerPeriod>`,
    )
    .join('');
  return (
    `${el('INSS', rec.inss)}${el('Quarter', rec.quarter)}<CareerPeriods>${periods}</CareerPeriods>` +
    `<Contribution>${el('Due', rec.due)}${el('Paid', rec.paid)}${el('PaidInFull', rec.paidInFull)}${optionalEl('PaidInFullDate', rec.paidInFullDate)}</Contribution>`
  );
}

/** The career file: BCSS envelope, root CARR, one Attestation per affiliate. */
export const careerXml: XmlOutput<CareerRecord> = {
  kind: 'xml',
  schema: 'career/v1.xsd',
  envelope: bcssEnvelope('CARR', '1', '001'),
  attestation: renderRecord,
};

/** career — INASTI, quarterly: one record per affiliate with a period overlapping the quarter. */
export const career: Pipeline<CareerRow, CareerRecord> = {
  id: 'career',
  purpose: 'CARR',
  title: 'Career data for INASTI',
  periodKind: 'quarter',
  schedule: '0 2 10 1,4,7,10 *',
  // End of the month after the quarter.
  deadline: (period) => lastDay(periodContaining('month', period.end)),
  extract: {
    sql: SQL,
    sourceKey: (raw) => String((raw as { affiliateId?: string | number }).affiliateId ?? '(no affiliate id)'),
  },
  row: careerRow,
  rules: [coherentPeriodsRule((r) => r.periods), activityCategoryRule((r) => r.periods.filter((p) => p.kind === 'activity'))],
  recordKey: (row) => row.inss,
  toRecord(row, { period }) {
    const state = toPaidState(row.due, row.movements);
    const last = lastDay(period);
    return {
      inss: row.inss,
      quarter: periodCode(period),
      periods: row.periods.map((p) => ({ kind: p.kind, category: p.category, ...clip(period, last, p.start, p.end) })),
      due: row.due,
      ...state,
    };
  },
  route: () => ({ receiver: 'INASTI' }),
  output: careerXml,
};
