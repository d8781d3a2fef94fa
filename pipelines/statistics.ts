import { z } from 'zod';
import { type Cents, ZERO_CENTS } from '../src/domain/cents.js';
import { regionOf } from '../src/domain/region.js';
import type { CsvTable, CsvTablesOutput, Pipeline } from '../src/engine/pipeline.js';
import { type LocalDate } from '../src/period/localDate.js';
import { lastDay, periodContaining } from '../src/period/period.js';
import { activityCategoryRule, coherentPeriodsRule, companyNumberRule } from '../src/validate/commonRules.js';
import { centsField, inssField, localDateField } from '../src/validate/fields.js';
import type { Rule } from '../src/validate/rule.js';
import { ACTIVITY_CTE, activitySpanField, categoryAtEnd } from './shared/activity.js';

const statisticsRow = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('affiliate'),
    key: z.string(),
    inss: inssField,
    birthDate: localDateField,
    sex: z.enum(['M', 'F', 'X']),
    postalCode: z.string(),
    country: z.string(),
    activities: z.array(activitySpanField).min(1),
  }),
  z.object({ type: z.literal('contribution'), key: z.string(), inss: inssField, kind: z.string(), charged: centsField, collected: centsField }),
  z.object({ type: z.literal('allowance'), key: z.string(), inss: inssField, kind: z.string(), amount: centsField.nullable(), vouchers: z.number().int().nullable() }),
  z.object({ type: z.literal('company'), key: z.string(), companyNumber: z.string(), charged: centsField, paid: centsField }),
]);
type StatisticsRow = z.infer<typeof statisticsRow>;

/** One source record reduced to what the aggregates need. */
export type StatisticsRecord =
  | { table: 'affiliates'; category: string; sex: string; ageBand: string; region: string }
  | { table: 'contributions'; kind: string; charged: Cents; collected: Cents }
  | { table: 'allowances'; kind: string; amount: Cents; vouchers: number }
  | { table: 'companies'; charged: Cents; paid: Cents };

/** Age bands at the quarter's last day. */
export const AGE_BANDS = [
  [25, '<25'],
  [35, '25-34'],
  [45, '35-44'],
  [55, '45-54'],
  [65, '55-64'],
  [Infinity, '65+'],
] as const;

/** Age in whole years on a day. */
export function ageOn(birthDate: LocalDate, day: LocalDate): number {
  const years = Number(day.slice(0, 4)) - Number(birthDate.slice(0, 4));
  return day.slice(5) >= birthDate.slice(5) ? years : years - 1;
}

const ageBand = (age: number): string => AGE_BANDS.find(([limit]) => age < limit)![1];

const regionOk: Rule<StatisticsRow> = {
  id: 'postal-code-unknown',
  check: (r) => (r.type === 'affiliate' && regionOf(r.postalCode, r.country) === null ? 'a Belgian address without a 4-digit postal code: no region' : null),
};

const NONE: readonly never[] = [];
const RULES: readonly Rule<StatisticsRow>[] = [
  coherentPeriodsRule((r) => (r.type === 'affiliate' ? r.activities : NONE)),
  activityCategoryRule((r) => (r.type === 'affiliate' ? r.activities : NONE)),
  regionOk,
  companyNumberRule((r) => (r.type === 'company' ? [r.companyNumber] : NONE)),
];

// Four kinds of source records, each with its own key: affiliates with an activity overlapping the
// quarter, contributions of the quarter (collected as of the as-of day), allowances of the
// quarter's months, companies liable for the quarter's year. In the byte order of their source
// keys (`type:key`), as the engine requires: affiliates (t = 1), allowances (2), companies (3),
// contributions (4), each kind by its key.
const SQL = `
WITH ${ACTIVITY_CTE}, collected AS (
  SELECT contribution_id, sum(CASE WHEN kind = 'refund' THEN -amount_cents ELSE amount_cents END) AS cents
  FROM dossier.payments WHERE contribution_id IS NOT NULL AND value_date <= :asOfDay GROUP BY contribution_id
)
SELECT j FROM (
  SELECT 1 AS t, a.affiliate_id AS k, json_build_object('type', 'affiliate', 'key', a.affiliate_id, 'inss', a.inss,
         'birthDate', a.birth_date, 'sex', a.sex, 'postalCode', a.postal_code, 'country', a.country, 'activities', act.activities) AS j
  FROM act JOIN dossier.affiliates a USING (affiliate_id)
  UNION ALL
  SELECT 4, c.contribution_id, json_build_object('type', 'contribution', 'key', c.contribution_id, 'inss', a.inss, 'kind', c.kind,
         'charged', c.amount_cents, 'collected', coalesce(col.cents, 0))
  FROM dossier.contributions c JOIN dossier.affiliates a USING (affiliate_id) LEFT JOIN collected col USING (contribution_id)
  WHERE c.quarter = :periodKey
  UNION ALL
  SELECT 2, al.allowance_id, json_build_object('type', 'allowance', 'key', al.allowance_id, 'inss', a.inss, 'kind', al.kind,
         'amount', al.amount_cents, 'vouchers', al.vouchers)
  FROM dossier.allowances al JOIN dossier.affiliates a USING (affiliate_id)
  WHERE al.month >= to_char(:periodStart::date, 'YYYY-MM') AND al.month < to_char(:periodEnd::date, 'YYYY-MM')
  UNION ALL
  SELECT 3, co.company_number, json_build_object('type', 'company', 'key', co.company_number, 'companyNumber', co.company_number,
         'charged', co.amount_cents, 'paid', co.paid_cents)
  FROM dossier.companies co WHERE co.year = :year
) u ORDER BY t, k COLLATE "C"`;

const TABLES: readonly CsvTable[] = [
  { name: 'affiliates', columns: [{ name: 'category' }, { name: 'sex' }, { name: 'age_band' }, { name: 'region' }, { name: 'affiliates', sum: true }] },
  {
    name: 'contributions',
    columns: [{ name: 'kind' }, { name: 'contributions', sum: true }, { name: 'charged_cents', sum: true }, { name: 'collected_cents', sum: true }, { name: 'outstanding_cents', sum: true }],
  },
  { name: 'allowances', columns: [{ name: 'kind' }, { name: 'allowances', sum: true }, { name: 'amount_cents', sum: true }, { name: 'vouchers', sum: true }] },
  {
    name: 'companies',
    columns: [
      { name: 'companies', sum: true },
      { name: 'charged_cents', sum: true },
      { name: 'paid_cents', sum: true },
    ],
  },
];

type Cells = Record<string, Map<string, number[]>>;

function bump(cells: Cells, table: string, key: string, values: number[]): void {
  const map = cells[table]!;
  const cur = map.get(key);
  if (cur) values.forEach((v, i) => (cur[i]! += v));
  else map.set(key, [...values]);
}

/** The aggregated tables and their manifest. */
export const statisticsCsv: CsvTablesOutput<StatisticsRecord, Cells> = {
  kind: 'csvTables',
  tables: TABLES,
  state: () => Object.fromEntries(TABLES.map((t) => [t.name, new Map<string, number[]>()])),
  add(cells, r) {
    if (r.table === 'affiliates') bump(cells, r.table, [r.category, r.sex, r.ageBand, r.region].join('\t'), [1]);
    else if (r.table === 'contributions') bump(cells, r.table, r.kind, [1, r.charged, r.collected, r.charged - r.collected]);
    else if (r.table === 'allowances') bump(cells, r.table, r.kind, [1, r.amount, r.vouchers]);
    else bump(cells, r.table, '', [1, r.charged, r.paid]);
    return r.table;
  },
  rows(cells, table) {
    const map = cells[table]!;
    if (table === 'companies' && map.size === 0) return [[0, 0, 0]];
    return [...map.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([key, values]) => [...(key === '' ? [] : key.split('\t')), ...values]);
  },
};

/** statistics — FPS Social Security, quarterly: aggregates in CSV tables with a manifest. */
export const statistics: Pipeline<StatisticsRow, StatisticsRecord> = {
  id: 'statistics',
  purpose: 'STAT',
  title: 'Statistics for the FPS Social Security',
  periodKind: 'quarter',
  schedule: '0 2 20 1,4,7,10 *',
  deadline: (period) => lastDay(periodContaining('month', period.end)),
  extract: {
    sql: SQL,
    sourceKey: (raw) => {
      const r = raw as { type?: string; key?: string | number };
      return `${String(r.type ?? '?')}:${String(r.key ?? '?')}`;
    },
  },
  row: statisticsRow,
  rules: RULES,
  recordKey: (row) => (row.type === 'company' ? null : row.inss),
  toRecord(row, { period }) {
    const last = lastDay(period);
    switch (row.type) {
      case 'affiliate':
        return {
          table: 'affiliates',
          category: categoryAtEnd(row.activities, last)!,
          sex: row.sex,
          ageBand: ageBand(ageOn(row.birthDate, last)),
          region: regionOf(row.postalCode, row.country)!,
        };
      case 'contribution':
        return { table: 'contributions', kind: row.kind, charged: row.charged, collected: row.collected };
      case 'allowance':
        return { table: 'allowances', kind: row.kind, amount: row.amount ?? ZERO_CENTS, vouchers: row.vouchers ?? 0 };
      case 'company':
        return { table: 'companies', charged: row.charged, paid: row.paid };
    }
  },
  route: () => ({ receiver: 'FPSSS' }),
  output: statisticsCsv,
  corrections: 'whole-file',
};
