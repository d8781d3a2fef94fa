import { z } from 'zod';
import { chooseInsurer } from '../src/domain/insurer.js';
import { toPaidState } from '../src/domain/paidState.js';
import type { Pipeline, XmlOutput } from '../src/engine/pipeline.js';
import type { LocalDate } from '../src/period/localDate.js';
import { lastDay, periodCode, periodContaining } from '../src/period/period.js';
import { bcssEnvelope } from '../src/render/envelope.js';
import { el, optionalEl } from '../src/render/xml.js';
import type { Cents } from '../src/domain/cents.js';
import type { Inss } from '../src/domain/inss.js';
import { activityCategoryRule, coherentPeriodsRule } from '../src/validate/commonRules.js';
import { centsField, inssField, localDateField } from '../src/validate/fields.js';
import { CATEGORY_CODE, CATEGORIES } from './shared/codes.js';
import { ACTIVITY_CTE, activitySpanField, categoryAtEnd } from './shared/activity.js';
import { AFFILIATION_REACHES_INTO_PERIOD, affiliationField, coherentAffiliationsRule } from './shared/insurerAffiliations.js';
import { CONTRIBUTION_CTES, CONTRIBUTION_FIELDS } from './shared/contributionState.js';

const slipRow = z.object({
  affiliateId: z.string(),
  inss: inssField,
  activities: z.array(activitySpanField).min(1),
  insurers: z.array(affiliationField),
  due: centsField,
  movements: z.array(z.tuple([localDateField, centsField])),
});
type SlipRow = z.infer<typeof slipRow>;

/** One contribution slip: what a mutual insurer needs to open rights for a quarter. */
export interface SlipRecord {
  inss: Inss;
  quarter: string;
  insurer: string | null;
  category: (typeof CATEGORIES)[number];
  due: Cents;
  paid: Cents;
  paidInFull: boolean;
  paidInFullDate: LocalDate | null;
}

// Activity periods (not assimilations) overlapping the quarter, insurer affiliations overlapping it
// (an incoherent one of either kind in every quarter its dates span, read in either order).
const SQL = `
WITH ${ACTIVITY_CTE}, ins AS (
  SELECT m.affiliate_id, json_agg(json_build_object('insurer', m.insurer_code, 'from', m.valid_from, 'to', m.valid_to)
                                  ORDER BY m.valid_from, m.insurer_code) AS insurers
  FROM dossier.mutuality_affiliations m
  WHERE ${AFFILIATION_REACHES_INTO_PERIOD}
  GROUP BY m.affiliate_id
), ${CONTRIBUTION_CTES}
SELECT json_build_object('affiliateId', a.affiliate_id, 'inss', a.inss, 'activities', act.activities,
                         'insurers', coalesce(ins.insurers, '[]'::json), ${CONTRIBUTION_FIELDS})
FROM act
JOIN dossier.affiliates a USING (affiliate_id)
LEFT JOIN ins USING (affiliate_id)
LEFT JOIN due USING (affiliate_id)
LEFT JOIN mov USING (affiliate_id)
ORDER BY a.affiliate_id COLLATE "C"`;

/** What follows the engine's identification in a slip. */
function renderSlip(rec: SlipRecord): string {
  return (
    `${el('INSS', rec.inss)}${el('Quarter', rec.quarter)}${el('InsurerCode', rec.insurer!)}${el('Category', CATEGORY_CODE[rec.category])}` +
    `<Contribution>${el('Due', rec.due)}${el('Paid', rec.paid)}${el('PaidInFull', rec.paidInFull)}${optionalEl('PaidInFullDate', rec.paidInFullDate)}</Contribution>`
  );
}

/** The slips file for one insurer: BCSS envelope, root BONC, control sums of due and paid. */
export const slipsXml: XmlOutput<SlipRecord> = {
  kind: 'xml',
  schema: 'contribution-slips/v1.xsd',
  envelope: bcssEnvelope<SlipRecord>('BONC', '1', '001', { TotalDue: (r) => r.due, TotalPaid: (r) => r.paid }),
  attestation: renderSlip,
};

/** contribution-slips — mutual insurers, quarterly: one file per insurer code. */
export const contributionSlips: Pipeline<SlipRow, SlipRecord> = {
  id: 'contribution-slips',
  purpose: 'BONC',
  title: 'Contribution slips for the mutual insurers',
  periodKind: 'quarter',
  schedule: '0 2 15 1,4,7,10 *',
  deadline: (period) => lastDay(periodContaining('month', period.end)),
  extract: { sql: SQL, sourceKey: (raw) => String((raw as { affiliateId?: string | number }).affiliateId ?? '(no affiliate id)') },
  row: slipRow,
  rules: [coherentPeriodsRule((r) => r.activities), coherentAffiliationsRule((r) => r), activityCategoryRule((r) => r.activities)],
  recordKey: (row) => row.inss,
  toRecord(row, { period }) {
    const last = lastDay(period);
    return {
      inss: row.inss,
      quarter: periodCode(period),
      insurer: chooseInsurer(row.insurers, last),
      category: categoryAtEnd(row.activities, last)!,
      due: row.due,
      ...toPaidState(row.due, row.movements),
    };
  },
  route: (rec) =>
    rec.insurer
      ? { receiver: `OA${rec.insurer}` }
      : { quarantine: { rule: 'no-insurer', message: 'no mutual insurer affiliation overlaps the quarter: send a paper slip (the paper-slip exception)' } },
  output: slipsXml,
};
