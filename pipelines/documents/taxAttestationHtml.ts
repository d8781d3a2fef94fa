import type { DocumentOutput, RecordContext } from '../../src/engine/pipeline.js';
import { escapeHtml as esc } from '../../src/render/xml.js';
import type { TaxRecord } from '../taxAttestations.js';

const LOCALE = { fr: 'fr-BE', nl: 'nl-BE', de: 'de-BE' } as const;

const TEXT = {
  fr: {
    title: (y: number) => `Attestation fiscale — cotisations sociales payées en ${y}`,
    intro: (y: number) =>
      `La Caisse nationale auxiliaire atteste que les cotisations sociales de travailleur indépendant suivantes ont été payées en ${y}, remboursements déduits. Les majorations de retard ne sont pas déductibles et n'y sont pas comprises.`,
    quarter: 'Trimestre',
    amount: 'Montant',
    total: 'Total déductible',
    inss: 'Numéro de registre national',
    footer: 'Ces montants ont été communiqués au SPF Finances pour la déclaration préremplie.',
  },
  nl: {
    title: (y: number) => `Fiscaal attest — sociale bijdragen betaald in ${y}`,
    intro: (y: number) =>
      `De Nationale Hulpkas verklaart dat de volgende sociale bijdragen als zelfstandige in ${y} betaald werden, terugbetalingen afgetrokken. Verhogingen wegens laattijdige betaling zijn niet aftrekbaar en niet inbegrepen.`,
    quarter: 'Kwartaal',
    amount: 'Bedrag',
    total: 'Totaal aftrekbaar',
    inss: 'Rijksregisternummer',
    footer: 'Deze bedragen werden aan de FOD Financiën meegedeeld voor de vooraf ingevulde aangifte.',
  },
  de: {
    title: (y: number) => `Steuerbescheinigung — im Jahr ${y} gezahlte Sozialbeiträge`,
    intro: (y: number) =>
      `Die Nationale Hilfskasse bescheinigt, dass die folgenden Sozialbeiträge als Selbständiger im Jahr ${y} gezahlt wurden, abzüglich Erstattungen. Verzugszuschläge sind nicht abzugsfähig und nicht enthalten.`,
    quarter: 'Quartal',
    amount: 'Betrag',
    total: 'Abzugsfähiger Gesamtbetrag',
    inss: 'Nationalregisternummer',
    footer: 'Diese Beträge wurden dem FÖD Finanzen für die vorausgefüllte Erklärung mitgeteilt.',
  },
} as const;

// Building an Intl formatter is costly: one per language, made once.
const MONEY = {
  fr: new Intl.NumberFormat(LOCALE.fr, { style: 'currency', currency: 'EUR' }),
  nl: new Intl.NumberFormat(LOCALE.nl, { style: 'currency', currency: 'EUR' }),
  de: new Intl.NumberFormat(LOCALE.de, { style: 'currency', currency: 'EUR' }),
};

// Formatting is costly too (a third of a page's rendering), and amounts repeat a lot from one
// affiliate to the next (the same quarterly contribution): remember the latest ones.
const FORMATTED = { fr: new Map<number, string>(), nl: new Map<number, string>(), de: new Map<number, string>() };
const REMEMBERED = 20_000;

/** Formats cents as euros in the affiliate's language (for people only; files keep cents). */
export function formatMoney(cents: number, language: keyof typeof LOCALE): string {
  const seen = FORMATTED[language];
  let text = seen.get(cents);
  if (text === undefined) {
    text = MONEY[language].format(cents / 100);
    if (seen.size >= REMEMBERED) seen.clear();
    seen.set(cents, text);
  }
  return text;
}

type FixedTexts = Record<'title' | 'intro' | 'inss' | 'quarter' | 'amount' | 'total' | 'footer', string>;
const FIXED = new Map<string, FixedTexts>();

/** The texts that depend only on the language and the year, escaped once. */
function fixedTexts(language: keyof typeof TEXT, year: number): FixedTexts {
  const key = `${language}:${year}`;
  let fixed = FIXED.get(key);
  if (!fixed) {
    const t = TEXT[language];
    fixed = {
      title: esc(t.title(year)),
      intro: esc(t.intro(year)),
      inss: esc(t.inss),
      quarter: esc(t.quarter),
      amount: esc(t.amount),
      total: esc(t.total),
      footer: esc(t.footer),
    };
    FIXED.set(key, fixed);
  }
  return fixed;
}

/** The printable attestation of one affiliate: a self-contained HTML page in their language. */
export function renderTaxAttestationHtml(rec: TaxRecord, _ctx: RecordContext): string {
  const t = fixedTexts(rec.language, rec.year);
  const rows = rec.quarters.map((q) => `<tr><td>${esc(q.quarter)}</td><td class="amount" data-amount-cents="${q.amount}">${esc(formatMoney(q.amount, rec.language))}</td></tr>`).join('\n');
  return `<!DOCTYPE html>
<html lang="${rec.language}">
<head>
<meta charset="utf-8">
<title>${t.title}</title>
<style>
  body { font-family: "DejaVu Sans", Arial, sans-serif; margin: 2cm; color: #000; }
  h1 { font-size: 16pt; } table { border-collapse: collapse; margin-top: 1em; }
  td, th { border: 1px solid #444; padding: 4px 10px; } .amount { text-align: right; }
  @page { size: A4; margin: 2cm; } @media print { body { margin: 0; } }
</style>
</head>
<body>
<p class="sender">Caisse nationale auxiliaire / Nationale Hulpkas / Nationale Hilfskasse</p>
<address>${esc(`${rec.firstName} ${rec.lastName}`)}<br>${esc(rec.street)}<br>${esc(`${rec.postalCode} ${rec.city}`)}<br>${esc(rec.country)}</address>
<h1>${t.title}</h1>
<p>${t.inss}: <span class="inss">${esc(rec.inss)}</span></p>
<p>${t.intro}</p>
<table>
<thead><tr><th>${t.quarter}</th><th>${t.amount}</th></tr></thead>
<tbody>
${rows}
</tbody>
<tfoot><tr><th>${t.total}</th><th class="amount total" data-amount-cents="${rec.amount}">${esc(formatMoney(rec.amount, rec.language))}</th></tr></tfoot>
</table>
<p>${t.footer}</p>
</body>
</html>
`;
}

/** The printable attestations of the tax-attestations flow: one `<affiliate>.html` each. */
export const taxAttestationDocuments: DocumentOutput<TaxRecord> = {
  name: (rec) => `${rec.affiliateId}.html`,
  render: renderTaxAttestationHtml,
  source: { module: import.meta.url, exportName: 'taxAttestationDocuments' },
};
