import type { Cents } from '../../src/domain/cents.js';
import type { Language } from '../../src/domain/fundIdentity.js';
import { type Inss, inssProblem } from '../../src/domain/inss.js';
import { OutboxError } from '../../src/errors/errors.js';
import { type FicheRecord, GROSS_TAG, WITHHOLDING_TAG } from './fiche.js';

// A fiche read back from the line it was sent as, so that a sending of corrections can cancel it
// (f2028_typetraitement 3) with the content SPF Finances holds: the engine renders it again with
// renderFiche, which gives it its new sequence number and its treatment, and counts it in the
// trailers like any fiche of the sending.

const LANGUAGES: Readonly<Record<string, Language>> = { '1': 'nl', '2': 'fr', '3': 'de' };
const ENTITIES: Readonly<Record<string, string>> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

/** The text of an element as el() wrote it: entities and character references turned back into characters. */
function unescape(text: string): string {
  return text.replace(/&(amp|lt|gt|quot|apos|#(\d+)|#x([0-9a-fA-F]+));/g, (_, name: string, dec?: string, hex?: string) =>
    dec !== undefined ? String.fromCodePoint(Number(dec)) : hex !== undefined ? String.fromCodePoint(parseInt(hex, 16)) : ENTITIES[name]!,
  );
}

/**
 * Reads back the fiche a `<Fiche28118>` line states (as `renderFiche` wrote it, in an earlier
 * sending): every field by its name, whatever their order. Throws OutboxError, naming the
 * missing field, for a line that is not such a fiche.
 */
export function readFiche(line: string): FicheRecord {
  const field = (tag: string): string | null => {
    const m = new RegExp(`<${tag}>([^<]*)</${tag}>`).exec(line);
    return m ? unescape(m[1]!) : null;
  };
  const refused = (what: string): OutboxError =>
    new OutboxError(`The earlier fiche ${field('f2010_referentie') ?? '(without a reference)'} ${what}, so maillon cannot send its cancellation: cancel it in Belcotax-on-web by hand.`);
  const required = (tag: string): string => {
    const v = field(tag);
    if (v === null) throw refused(`has no <${tag}>`);
    return v;
  };
  const int = (tag: string): number => {
    const v = required(tag);
    if (!/^-?\d+$/.test(v)) throw refused(`holds a <${tag}> that is not a whole number`);
    return Number(v);
  };
  const language = LANGUAGES[required('f2027_taalcode')];
  if (!language) throw refused('holds a language code maillon does not write (1, 2 or 3)');
  const inss = required('f2011_nationaalnr');
  if (inssProblem(inss) !== null) throw refused('holds a national number that is not a valid INSS');
  return {
    reference: required('f2010_referentie'),
    inss: inss as Inss,
    lastName: required('f2013_naam'),
    firstName: required('f2114_voornamen'),
    street: required('f2015_adres'),
    postalCode: field('f2016_postcodebelgisch') ?? required('f2112_buitenlandspostnummer'),
    city: required('f2017_gemeente'),
    country: required('f2018_landwoonplaats'),
    language,
    year: int('f2002_inkomstenjaar'),
    gross: int(GROSS_TAG) as Cents,
    withholding: int(WITHHOLDING_TAG) as Cents,
  };
}
