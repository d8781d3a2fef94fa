import { placeholderProblem } from '../../src/domain/fundIdentity.js';
import { ConfigError } from '../../src/errors/errors.js';
import type { FileContext, XmlEnvelope } from '../../src/render/envelope.js';
import { el } from '../../src/render/xml.js';
import { BELGIUM, ddmmyyyy, type FicheRecord, ficheControlTotal, languageCode, sendingType } from './fiche.js';

/** What the trailers total, accumulated fiche by fiche. */
export interface BelcotaxTotals {
  fiches: number;
  /** Sum of the f2009_volgnummer. */
  sequenceSum: number;
  /** Sum of the fiches' f18_2059_totaalcontrole, cents. */
  controlSum: number;
  /** Total withholding, cents. */
  withholding: number;
}

/** Logical files of the sending: its start and end records around the one declaration. */
const LOGICAL_FILES = 3;

/**
 * The trailers' values, in their order, from the totals (Belcotax's arithmetic, `shared/domain.md`
 * §6): the declaration counts its own header and trailer as records (fiches + 2), the sending
 * its header and trailer too (fiches + 4); sequence sums, control sums and withholding repeat.
 */
export function trailerValues(t: BelcotaxTotals): { declaration: [string, number][]; sending: [string, number][] } {
  return {
    declaration: [
      ['r8010_aantalrecords', t.fiches + 2],
      ['r8011_controletotaal', t.sequenceSum],
      ['r8012_controletotaal', t.controlSum],
      ['r8013_totaalvoorheffingen', t.withholding],
    ],
    sending: [
      ['r9010_aantallogbestanden', LOGICAL_FILES],
      ['r9011_totaalaantalrecords', t.fiches + 4],
      ['r9012_controletotaal', t.sequenceSum],
      ['r9013_controletotaal', t.controlSum],
      ['r9014_controletotaal', t.withholding],
    ],
  };
}

const lines = (...parts: string[]): string => parts.map((p) => `${p}\n`).join('');

/** The sending's header fields v0002 … v0028 (§6, in this order). */
function sendingHeader(f: FileContext): string[] {
  const fund = f.fund;
  return [
    el('v0002_inkomstenjaar', f.period.year),
    el('v0010_bestandtype', f.environment === 'R' ? 'BELCOTAX' : 'BELCOTST'),
    el('v0011_aanmaakdatum', ddmmyyyy(f.creationDate)),
    el('v0014_naam', fund.name),
    el('v0015_adres', fund.street),
    el('v0016_postcode', fund.postalCode),
    el('v0017_gemeente', fund.city),
    el('v0018_telefoonnummer', fund.phone),
    el('v0021_contactpersoon', fund.contact),
    el('v0022_taalcode', languageCode(fund.language)),
    el('v0023_emailadres', fund.email),
    el('v0024_nationaalnr', fund.companyNumber),
    el('v0025_typeenvoi', sendingType(f.version)),
    el('v0028_landwoonplaats', BELGIUM),
  ];
}

/** The declaration's header fields a1002 … a1020, then the French and German blocks when configured. */
function declarationHeader(f: FileContext): string[] {
  const { fund } = f;
  const out = [
    el('a1002_inkomstenjaar', f.period.year),
    el('a1005_registratienummer', fund.companyNumber),
    el('a1011_naamnl1', fund.name),
    el('a1013_adresnl', fund.street),
    el('a1014_postcodebelgisch', fund.postalCode),
    el('a1015_gemeente', fund.city),
    el('a1016_landwoonplaats', BELGIUM),
    el('a1020_taalcode', languageCode(fund.language)),
  ];
  if (fund.fr) out.push(el('a1027_naamfr1', fund.fr.name), el('a1029_adresfr', fund.fr.street), el('a1030_gemeentefr', fund.fr.city), el('a1031_taalfr', 2));
  if (fund.de) out.push(el('a1032_naamde1', fund.de.name), el('a1034_adresde', fund.de.street), el('a1035_gemeentede', fund.de.city), el('a1036_taalde', 3));
  return out;
}

/**
 * The Belcotax tree around the fiches: Verzendingen/Verzending/Aangiften/Aangifte/Opgaven/
 * Opgave32518/Fiche28118, one field per line, the trailers computed from the totals.
 * A production (R) file is refused while the fund's identity holds placeholders.
 */
export function belcotaxEnvelope(): XmlEnvelope<FicheRecord, BelcotaxTotals> {
  return {
    start(f) {
      const problem = f.environment === 'R' ? placeholderProblem(f.fund) : null;
      if (problem) throw new ConfigError(`${problem} The Belcotax file of ${f.period.year} was not written.`);
      return `<?xml version="1.0" encoding="UTF-8"?>\n${lines('<Verzendingen>', '<Verzending>', ...sendingHeader(f), '<Aangiften>', '<Aangifte>', ...declarationHeader(f), '<Opgaven>', '<Opgave32518>')}`;
    },
    totals: () => ({ fiches: 0, sequenceSum: 0, controlSum: 0, withholding: 0 }),
    add(t, rec, position) {
      t.fiches++;
      t.sequenceSum += position;
      t.controlSum += ficheControlTotal(rec);
      t.withholding += rec.withholding;
    },
    end(f, _records, t) {
      const year = f.period.year;
      const { declaration, sending } = trailerValues(t);
      return lines(
        '</Opgave32518>',
        '</Opgaven>',
        el('r8002_inkomstenjaar', year),
        el('r8005_registratienummer', f.fund.companyNumber),
        '<r8007_division></r8007_division>',
        ...declaration.map(([tag, value]) => el(tag, value)),
        '</Aangifte>',
        '</Aangiften>',
        el('r9002_inkomstenjaar', year),
        ...sending.map(([tag, value]) => el(tag, value)),
        '</Verzending>',
        '</Verzendingen>',
      );
    },
  };
}
