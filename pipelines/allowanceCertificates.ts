import { z } from 'zod';
import { chooseInsurer } from '../src/domain/insurer.js';
import type { Cents } from '../src/domain/cents.js';
import { type Inss, inssProblem } from '../src/domain/inss.js';
import { regionOf } from '../src/domain/region.js';
import type { Pipeline, Route, XmlOutput } from '../src/engine/pipeline.js';
import type { LocalDate } from '../src/period/localDate.js';
import { formatPeriod, lastDay, parsePeriod, periodAfter, periodContaining, periodKeyCode } from '../src/period/period.js';
import { bcssEnvelope } from '../src/render/envelope.js';
import { el, optionalEl } from '../src/render/xml.js';
import { centsField, inssField, localDateField, periodField } from '../src/validate/fields.js';
import type { Rule } from '../src/validate/rule.js';
import { AFFILIATION_REACHES_INTO_PERIOD, affiliationField, coherentAffiliationsRule } from './shared/insurerAffiliations.js';

/** Receiver ids of the allowance certificates. [our choice: the bodies' usual short names] */
export const ALLOWANCE_RECEIVERS = {
  voucherIssuer: 'SVISSUER',
  brussels: 'IRISCARE',
  wallonia: 'FAMIWAL',
  flanders: 'OPGROEIEN',
} as const;

const KIND_CODE = { bridging_right: 'BRG', maternity_vouchers: 'MAT', family_allowance: 'FAM' } as const;

// Last month for which the fund still certifies family allowances (regionalisation, flows.md).
const FAMILY_ALLOWANCE_LAST_MONTH = { brussels: parsePeriod('2019-12'), wallonia: parsePeriod('2018-12'), flanders: parsePeriod('2018-12') } as const;

const allowanceRow = z.object({
  allowanceId: z.string(),
  affiliateId: z.string(),
  inss: inssField,
  kind: z.enum(['bridging_right', 'maternity_vouchers', 'family_allowance']),
  month: periodField('month'),
  amount: centsField.nullable(),
  vouchers: z.number().int().nullable(),
  // Checked by the rule child-inss-check-digit, for family allowances only (it names no child otherwise).
  childInss: z.string().nullable(),
  paidOn: localDateField.nullable(),
  postalCode: z.string(),
  country: z.string(),
  insurers: z.array(affiliationField),
});
type AllowanceRow = z.infer<typeof allowanceRow>;

/** One allowance certificate. */
export interface AllowanceRecord {
  allowanceId: string;
  inss: Inss;
  /** The month's period key, `2026-07`. */
  month: string;
  kind: keyof typeof KIND_CODE;
  amount: Cents | null;
  vouchers: number | null;
  childInss: string | null;
  paidOn: LocalDate | null;
  receiver: Route;
}

const amountsPresent: Rule<AllowanceRow> = {
  id: 'allowance-amount-missing',
  check: (r) =>
    r.kind === 'maternity_vouchers'
      ? r.vouchers === null || r.vouchers <= 0
        ? 'a maternity-aid allowance has no number of vouchers'
        : null
      : r.amount === null
        ? `a ${r.kind.replace('_', ' ')} allowance has no amount`
        : null,
};

const childInssValid: Rule<AllowanceRow> = {
  id: 'child-inss-check-digit',
  check: (r) => (r.kind !== 'family_allowance' ? null : r.childInss === null ? 'a family allowance names no child' : inssProblem(r.childInss) ? "the child's INSS fails its check digits" : null),
};

// A bridging right goes to the insurer of the month's last day: an affiliation that ends before it
// starts and reaches into the month (its dates read in either order, see SQL) holds it back
// (shared rule). The other kinds are routed without the insurer.
const affiliationsCoherent = coherentAffiliationsRule<AllowanceRow>((r) => (r.kind === 'bridging_right' ? r : null));

// The month's allowances are sorted on their own (a subquery with ORDER BY is planned apart) and
// then joined row by row, which keeps their order: the first certificate leaves PostgreSQL at
// once and the rest stream while it builds them. Joined first and sorted last, every row was
// built before the first was sent, and maillon waited meanwhile.
const SQL = `
SELECT json_build_object(
  'allowanceId', al.allowance_id, 'affiliateId', a.affiliate_id, 'inss', a.inss, 'kind', al.kind, 'month', al.month,
  'amount', al.amount_cents, 'vouchers', al.vouchers, 'childInss', al.child_inss, 'paidOn', al.paid_on,
  'postalCode', a.postal_code, 'country', a.country,
  'insurers', coalesce((
    SELECT json_agg(json_build_object('insurer', m.insurer_code, 'from', m.valid_from, 'to', m.valid_to) ORDER BY m.valid_from, m.insurer_code)
    FROM dossier.mutuality_affiliations m
    WHERE m.affiliate_id = al.affiliate_id AND ${AFFILIATION_REACHES_INTO_PERIOD}
  ), '[]'::json))
FROM (SELECT * FROM dossier.allowances WHERE month = :periodKey ORDER BY allowance_id COLLATE "C") al
JOIN dossier.affiliates a USING (affiliate_id)
ORDER BY al.allowance_id COLLATE "C"`;

function routeOf(row: AllowanceRow, monthLastDay: ReturnType<typeof lastDay>): Route {
  if (row.kind === 'maternity_vouchers') return { receiver: ALLOWANCE_RECEIVERS.voucherIssuer };
  if (row.kind === 'bridging_right') {
    const insurer = chooseInsurer(row.insurers, monthLastDay);
    return insurer ? { receiver: `OA${insurer}` } : { quarantine: { rule: 'no-insurer', message: 'no mutual insurer affiliation overlaps the month: the bridging-right certificate has no receiver' } };
  }
  const region = regionOf(row.postalCode, row.country);
  if (region === null || region === 'abroad') {
    return { quarantine: { rule: 'family-allowance-no-region', message: 'the affiliate has no Belgian postal code: no family-allowance body can be chosen' } };
  }
  if (periodAfter(row.month, FAMILY_ALLOWANCE_LAST_MONTH[region])) {
    return {
      quarantine: {
        rule: 'family-allowance-regionalised',
        message: `family allowances for ${formatPeriod(row.month)} in ${region} are paid by the region since regionalisation (last month certified by the fund: ${formatPeriod(FAMILY_ALLOWANCE_LAST_MONTH[region])})`,
      },
    };
  }
  return { receiver: ALLOWANCE_RECEIVERS[region] };
}

/** What follows the engine's identification in an allowance certificate. */
function renderCertificate(rec: AllowanceRecord): string {
  return (
    `${el('INSS', rec.inss)}${el('Month', periodKeyCode(rec.month))}` +
    `${el('AllowanceKind', KIND_CODE[rec.kind])}${el('AllowanceReference', rec.allowanceId)}${optionalEl('Amount', rec.amount)}` +
    `${optionalEl('Vouchers', rec.vouchers)}${optionalEl('ChildINSS', rec.childInss)}${el('PaymentStatus', rec.paidOn ? 'PAI' : 'GRA')}` +
    `${optionalEl('PaidOn', rec.paidOn)}`
  );
}

/** The certificates file of one receiver: BCSS envelope, root ALLC. */
export const allowanceXml: XmlOutput<AllowanceRecord> = {
  kind: 'xml',
  schema: 'allowance-certificates/v1.xsd',
  envelope: bcssEnvelope<AllowanceRecord>('ALLC', '1', '001', { TotalAmount: (r) => r.amount ?? 0, TotalVouchers: (r) => r.vouchers ?? 0 }),
  attestation: renderCertificate,
};

/** allowance-certificates — monthly: one certificate per allowance of the month, routed by kind. */
export const allowanceCertificates: Pipeline<AllowanceRow, AllowanceRecord> = {
  id: 'allowance-certificates',
  purpose: 'ALLC',
  title: 'Allowance certificates (vouchers, bridging right, family allowances)',
  periodKind: 'month',
  schedule: '0 2 5 * *',
  // The 5th of the next month is when they go; the fund gives itself to the end of that month.
  deadline: (period) => lastDay(periodContaining('month', period.end)),
  extract: { sql: SQL, sourceKey: (raw) => String((raw as { allowanceId?: string | number }).allowanceId ?? '(no allowance id)') },
  row: allowanceRow,
  rules: [amountsPresent, childInssValid, affiliationsCoherent],
  recordKey: (row) => row.inss,
  toRecord: (row, { period }) => ({
    allowanceId: row.allowanceId,
    inss: row.inss,
    month: formatPeriod(row.month),
    kind: row.kind,
    amount: row.kind === 'maternity_vouchers' ? null : row.amount,
    vouchers: row.kind === 'maternity_vouchers' ? row.vouchers : null,
    childInss: row.kind === 'family_allowance' ? row.childInss : null,
    paidOn: row.paidOn,
    receiver: routeOf(row, lastDay(period)),
  }),
  route: (rec) => rec.receiver,
  output: allowanceXml,
};
