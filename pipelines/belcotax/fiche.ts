import type { RecordIdentity } from '../../src/engine/pipeline.js';
import type { Cents } from '../../src/domain/cents.js';
import type { Inss } from '../../src/domain/inss.js';
import type { FundIdentity, Language } from '../../src/domain/fundIdentity.js';
import { el } from '../../src/render/xml.js';

/** One fiche 281.18: the bridging-right allowance paid to a beneficiary in the income year. */
export interface FicheRecord {
  /**
   * f2010_referentie: the affiliate's dossier number (affiliate_id). Unique in the declaration
   * (one fiche per affiliate and year) and the same in every rerun of the year, so a correction
   * names the fiche it corrects.
   */
  reference: string;
  inss: Inss;
  lastName: string;
  firstName: string;
  street: string;
  postalCode: string;
  city: string;
  /** NIS code of the country of residence (`150` Belgium, `00111` France…). */
  country: string;
  language: Language;
  year: number;
  /** Gross taxable amount. */
  gross: Cents;
  /** Withholding tax: always 0 for the bridging right. */
  withholding: Cents;
}

/** Belgium's NIS code: the fund's country, and the one that takes a Belgian postal code. */
export const BELGIUM = '150';

/** Belcotax's language codes: 1 Dutch, 2 French, 3 German. */
export function languageCode(language: Language): 1 | 2 | 3 {
  return language === 'nl' ? 1 : language === 'fr' ? 2 : 3;
}

/** v0025_typeenvoi: 0 an original sending, 1 a sending of grouped corrections (a rerun of a year already sent). */
export function sendingType(version: number): 0 | 1 {
  return version === 0 ? 0 : 1;
}

/**
 * f2028_typetraitement: 0 in an original sending; in a correction, 1 (modification) for a fiche
 * sent before, re-sent under the same reference (engine status 2), 2 (addition) for a fiche new
 * to the year (status 0), and 3 (cancellation) for a fiche sent before that the year no longer
 * has (status 1: gone from the dossier; a fiche quarantined now is not sent, SPF keeps it).
 */
export function treatmentType(version: number, status: number): 0 | 1 | 2 | 3 {
  if (version === 0) return 0;
  return status === 0 ? 2 : status === 1 ? 3 : 1;
}

/** The amount field that holds the bridging right. */
export const GROSS_TAG = 'f18_2066_anderegebeurtenissen';

/** The amount field that holds the withholding (totalled in r8013 and r9014). */
export const WITHHOLDING_TAG = 'f18_2070_bedrijfsvoorheffing';

/**
 * The fiche's amount fields in zone order, all in cents; their sum is f18_2059_totaalcontrole
 * (Belcotax: the total of zones 2.060 to 2.088). The bridging right, an allowance for a temporary
 * loss of income, is zone 2.066 ("other events"); the withholding is zone 2.070.
 */
export const AMOUNT_FIELDS = [
  { tag: GROSS_TAG, of: (f: FicheRecord): number => f.gross },
  { tag: WITHHOLDING_TAG, of: (f: FicheRecord): number => f.withholding },
] as const;

/** Control total of one fiche: the sum of its amount fields, cents. */
export function ficheControlTotal(f: FicheRecord): number {
  let sum = 0;
  for (const a of AMOUNT_FIELDS) sum += a.of(f);
  return sum;
}

/** DD-MM-YYYY, as Belcotax writes dates, from YYYY-MM-DD. */
export const ddmmyyyy = (iso: string): string => `${iso.slice(8, 10)}-${iso.slice(5, 7)}-${iso.slice(0, 4)}`;

/**
 * One `<Fiche28118>` on one line: the common part (f2002 … f2114, in the order of domain.md §6,
 * with exactly one of the Belgian postal code f2016 and the foreign one f2112, in the same place),
 * then the fiche's own fields (f18_2059 and the amounts).
 */
export function renderFiche(f: FicheRecord, id: RecordIdentity, fund: FundIdentity, version: number): string {
  const belgian = f.country === BELGIUM;
  let amounts = '';
  for (const a of AMOUNT_FIELDS) amounts += el(a.tag, a.of(f));
  return (
    `<Fiche28118>${el('f2002_inkomstenjaar', f.year)}${el('f2005_registratienummer', fund.companyNumber)}<f2007_division></f2007_division>` +
    `${el('f2008_typefiche', '28118')}${el('f2009_volgnummer', id.position)}${el('f2010_referentie', f.reference)}` +
    `${el('f2011_nationaalnr', f.inss)}${el('f2013_naam', f.lastName)}${el('f2015_adres', f.street)}` +
    `${belgian ? el('f2016_postcodebelgisch', f.postalCode) : el('f2112_buitenlandspostnummer', f.postalCode)}${el('f2017_gemeente', f.city)}${el('f2018_landwoonplaats', f.country)}` +
    `${el('f2027_taalcode', languageCode(f.language))}${el('f2028_typetraitement', treatmentType(version, id.status))}` +
    `${el('f2029_enkelopgave325', 0)}${el('f2114_voornamen', f.firstName)}` +
    `${el('f18_2059_totaalcontrole', ficheControlTotal(f))}${amounts}</Fiche28118>`
  );
}
