import { z } from 'zod';
import type { LineCheck, Pipeline, RecordIdentity, XmlOutput } from '../src/engine/pipeline.js';
import { toLocalDate } from '../src/period/localDate.js';
import type { FileContext, XmlEnvelope } from '../src/render/envelope.js';
import { el } from '../src/render/xml.js';
import { inssRule } from '../src/validate/commonRules.js';
import type { Rule } from '../src/validate/rule.js';

const belcotaxRow = z.object({
  affiliateId: z.string(),
  inss: z.string(),
  lastName: z.string(),
  firstName: z.string(),
  street: z.string(),
  postalCode: z.string(),
  city: z.string(),
  country: z.string(),
  amount: z.number().int(),
  months: z.number().int(),
  missingAmounts: z.number().int(),
});
type BelcotaxRow = z.infer<typeof belcotaxRow>;

/** One fiche 281.18: the bridging-right allowance paid to a beneficiary in the income year. */
export interface FicheRecord {
  inss: string;
  lastName: string;
  firstName: string;
  street: string;
  postalCode: string;
  city: string;
  country: string;
  year: number;
  /** Gross taxable amount, cents. */
  gross: number;
  /** Withholding tax, cents: always 0 for the bridging right. */
  withholding: number;
  months: number;
}

interface Totals {
  records: number;
  sequenceSum: number;
  controlSum: number;
  withholding: number;
}

const amountsKnown: Rule<BelcotaxRow> = {
  id: 'allowance-amount-missing',
  check: (r) => (r.missingAmounts > 0 ? `${r.missingAmounts} paid bridging-right allowance(s) have no amount; complete them in the dossier` : null),
};

// Bridging-right allowances paid in the income year (and on or before the as-of day), per beneficiary.
const SQL = `
SELECT json_build_object('affiliateId', a.affiliate_id, 'inss', a.inss, 'lastName', a.last_name, 'firstName', a.first_name,
                         'street', a.street, 'postalCode', a.postal_code, 'city', a.city, 'country', a.country,
                         'amount', coalesce(sum(al.amount_cents), 0), 'months', count(*),
                         'missingAmounts', count(*) FILTER (WHERE al.amount_cents IS NULL))
FROM dossier.allowances al JOIN dossier.affiliates a USING (affiliate_id)
WHERE al.kind = 'bridging_right' AND al.paid_on >= :periodStart AND al.paid_on < :periodEnd AND al.paid_on <= :asOfDay
GROUP BY a.affiliate_id
ORDER BY a.affiliate_id COLLATE "C"`;

/** Control total of one fiche: the sum of its amount fields (gross + withholding), cents. */
export function ficheControlTotal(f: Pick<FicheRecord, 'gross' | 'withholding'>): number {
  return f.gross + f.withholding;
}

const ddmmyyyy = (iso: string): string => `${iso.slice(8, 10)}-${iso.slice(5, 7)}-${iso.slice(0, 4)}`;

function renderFiche(f: FicheRecord, id: RecordIdentity, fund: FileContext['fund']): string {
  const belgian = f.country === 'BE';
  return (
    `<Fiche28118>${el('f2002_inkomstenjaar', f.year)}${el('f2005_registratienummer', fund.companyNumber)}${el('f2008_typefiche', '28118')}` +
    `${el('f2009_volgnummer', id.position)}${el('f2011_nationaalnr', f.inss)}${el('f2013_naam', f.lastName)}${el('f2114_voornamen', f.firstName)}` +
    `${el('f2015_adres', f.street)}${belgian ? el('f2016_postcodebelgisch', f.postalCode) : el('f2112_buitenlandspostnummer', f.postalCode)}` +
    `${el('f2017_gemeente', f.city)}${el('f2018_landwoonplaats', f.country)}${el('f2028_typetraitement', 0)}${el('f2029_enkelopgave325', 0)}` +
    `${el('f18_2060_brutobedrag', f.gross)}${el('f18_2061_bedrijfsvoorheffing', f.withholding)}${el('f18_2062_aantalmaanden', f.months)}` +
    `${el('f2099_controletotaal', ficheControlTotal(f))}</Fiche28118>`
  );
}

/** The Belcotax tree: Verzendingen/Verzending/Aangiften/Aangifte/Opgaven/Opgave32518/Fiche28118, with control totals. */
function belcotaxEnvelope(): XmlEnvelope<FicheRecord, Totals> {
  return {
    start: (f) =>
      `<?xml version="1.0" encoding="UTF-8"?>\n<Verzendingen>\n<Verzending>\n` +
      `${el('v0002_inkomstenjaar', f.period.year)}\n${el('v0010_bestandtype', f.environment === 'R' ? 'BELCOTAX' : 'BELCOTST')}\n` +
      `${el('v0011_aanmaakdatum', ddmmyyyy(f.creationDate))}\n${el('v0014_naam', f.fund.name)}\n${el('v0024_registratienummer', f.fund.companyNumber)}\n` +
      `<Aangiften>\n<Aangifte>\n${el('a1002_inkomstenjaar', f.period.year)}\n${el('a1005_registratienummer', f.fund.companyNumber)}\n` +
      `${el('a1011_naam', f.fund.name)}\n<Opgaven>\n<Opgave32518>\n`,
    totals: () => ({ records: 0, sequenceSum: 0, controlSum: 0, withholding: 0 }),
    add(t, rec, position) {
      t.records++;
      t.sequenceSum += position;
      t.controlSum += ficheControlTotal(rec);
      t.withholding += rec.withholding;
    },
    end: (f, _records, t) =>
      `</Opgave32518>\n</Opgaven>\n${el('r8002_inkomstenjaar', f.period.year)}\n${el('r8005_registratienummer', f.fund.companyNumber)}\n` +
      `${el('r8010_aantalrecords', t.records)}\n${el('r8011_controletotaal', t.sequenceSum)}\n${el('r8012_controletotaal', t.controlSum)}\n` +
      `${el('r8013_totaalvoorheffingen', t.withholding)}\n</Aangifte>\n</Aangiften>\n${el('r9002_inkomstenjaar', f.period.year)}\n` +
      `${el('r9010_aantalrecords', t.records)}\n${el('r9011_controletotaal', t.sequenceSum)}\n${el('r9012_controletotaal', t.controlSum)}\n` +
      `${el('r9013_totaalvoorheffingen', t.withholding)}\n</Verzending>\n</Verzendingen>\n`,
  };
}

const TOTAL_TAGS = {
  r8010_aantalrecords: 'records', r9010_aantalrecords: 'records',
  r8011_controletotaal: 'sequenceSum', r9011_controletotaal: 'sequenceSum',
  r8012_controletotaal: 'controlSum', r9012_controletotaal: 'controlSum',
  r8013_totaalvoorheffingen: 'withholding', r9013_totaalvoorheffingen: 'withholding',
} as const;

// One expression per tag, made once: a new RegExp per field of every fiche was a cost per field.
const tagPatterns = new Map<string, RegExp>();
const num = (line: string, tag: string): number => {
  let re = tagPatterns.get(tag);
  if (!re) tagPatterns.set(tag, (re = new RegExp(`<${tag}>(-?\\d+)</${tag}>`)));
  return Number(re.exec(line)?.[1] ?? NaN);
};

/**
 * Recomputes the Belcotax control totals from a written file and compares them with the
 * declared ones (r80xx per declaration, r90xx per sending): number of fiches, sum of the
 * sequence numbers, sum of the fiches' control totals, total withholding; and each fiche's
 * own control total against its amounts. Returns what is wrong, or null.
 */
export function checkBelcotaxTotals(): LineCheck {
  const t: Totals = { records: 0, sequenceSum: 0, controlSum: 0, withholding: 0 };
  const problems: string[] = [];
  let declared = 0;
  return {
    line(text) {
      if (text.startsWith('<Fiche28118>')) {
        const seq = num(text, 'f2009_volgnummer');
        const gross = num(text, 'f18_2060_brutobedrag');
        const withholding = num(text, 'f18_2061_bedrijfsvoorheffing');
        const control = num(text, 'f2099_controletotaal');
        t.records++;
        if (seq !== t.records) problems.push(`fiche ${t.records} has sequence number ${seq}`);
        if (control !== gross + withholding) problems.push(`fiche ${seq}: control total ${control} ≠ ${gross} + ${withholding}`);
        t.sequenceSum += seq;
        t.controlSum += control;
        t.withholding += withholding;
        return;
      }
      const m = /^<(r[89]01[0-3]_[a-z]+)>/.exec(text);
      const key = m ? TOTAL_TAGS[m[1] as keyof typeof TOTAL_TAGS] : undefined;
      if (!m || !key) return;
      declared++;
      const value = num(text, m[1]!);
      if (value !== t[key]) problems.push(`${m[1]} declares ${value}, the fiches give ${t[key]}`);
    },
    end() {
      if (declared !== 8) problems.push(`expected 8 control totals (r8010–r8013, r9010–r9013), found ${declared}`);
      return problems.length ? problems.slice(0, 5).join('; ') : null;
    },
  };
}

/** The Belcotax-on-web file for SPF Finances. */
export const belcotaxXml: XmlOutput<FicheRecord> = {
  kind: 'xml',
  schema: 'belcotax-281-18/v1.xsd',
  envelope: belcotaxEnvelope(),
  record: (rec, id, file) => renderFiche(rec, id, file.fund),
  check: checkBelcotaxTotals,
};

/** belcotax-281-18 — SPF Finances (Belcotax-on-web), yearly: one fiche 281.18 per bridging-right beneficiary. */
export const belcotax28118: Pipeline<BelcotaxRow, FicheRecord> = {
  id: 'belcotax-281-18',
  purpose: 'B281',
  title: 'Belcotax fiches 281.18 (bridging right)',
  periodKind: 'year',
  schedule: '0 2 15 1 *',
  // Legal deadline: end of February of the following year (nothing accepted after 30 September of year+3).
  deadline: (period) => toLocalDate(period.year + 1, 2, new Date(Date.UTC(period.year + 1, 2, 0)).getUTCDate()),
  extract: { sql: SQL, sourceKey: (raw) => String((raw as { affiliateId?: unknown }).affiliateId ?? '(no affiliate id)') },
  row: belcotaxRow,
  rules: [inssRule((r) => r.inss), amountsKnown],
  recordKey: (row) => row.inss,
  toRecord: (row, { period }) => ({
    inss: row.inss, lastName: row.lastName, firstName: row.firstName, street: row.street, postalCode: row.postalCode,
    city: row.city, country: row.country, year: period.year, gross: row.amount, withholding: 0, months: row.months,
  }),
  route: () => ({ receiver: 'BELCOTAX' }),
  output: belcotaxXml,
  corrections: 'whole-file',
};
