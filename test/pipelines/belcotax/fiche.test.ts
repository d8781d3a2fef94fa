import { describe, expect, it } from 'vitest';
import { type FicheRecord, renderFiche, treatmentType } from '../../../pipelines/belcotax/fiche.js';
import { readFiche } from '../../../pipelines/belcotax/readFiche.js';
import { placeholderFund } from '../../../src/config/fundConfig.js';
import { OutboxError } from '../../../src/errors/errors.js';
import { parseCents, ZERO_CENTS } from '../../../src/domain/cents.js';
import { parseInss } from '../../../src/domain/inss.js';
import { parseLocalDate } from '../../../src/period/localDate.js';

// shared/domain.md §6, the fiche's common part, word for word: the order is read from this text.
const SECTION_6_COMMON_PART = `Fiche, common part: \`f2002_inkomstenjaar\`, \`f2005_registratienummer\`, \`f2007_division\`
  (empty), \`f2008_typefiche\` (\`28118\`), \`f2009_volgnummer\` (1..n), \`f2010_referentie\` (the
  debtor's own reference, so a correction can name the fiche), \`f2011_nationaalnr\` (INSS),
  \`f2013_naam\`, \`f2015_adres\`, exactly one of \`f2016_postcodebelgisch\` (Belgium) or
  \`f2112_buitenlandspostnummer\` (abroad), \`f2017_gemeente\`, \`f2018_landwoonplaats\`,
  \`f2027_taalcode\`, \`f2028_typetraitement\` (0 original), \`f2029_enkelopgave325\` (0),
  \`f2114_voornamen\`.`;
const SECTION_6_FIELDS = [...SECTION_6_COMMON_PART.matchAll(/`(f\d{4}_[a-z0-9]+)`/g)].map((m) => m[1]!);

const fiche = (country: string, postalCode: string): FicheRecord => ({
  reference: 'D02',
  inss: parseInss('85073003328'),
  lastName: 'Dubois',
  firstName: 'Claire',
  street: 'Rue de Rivoli 1',
  postalCode,
  city: country === '150' ? 'Brugge' : 'Paris',
  country,
  language: 'fr',
  year: 2024,
  gross: parseCents(342000),
  withholding: ZERO_CENTS,
});
const commonPart = (xml: string): string[] => [...xml.matchAll(/<(f\d{4}_[a-z0-9]+)>/g)].map((m) => m[1]!);
const identity = { attestationId: '2024000000001', status: 0, creationDate: parseLocalDate('2025-01-10'), position: 1 };

describe('a fiche 281.18, its common part in the order of shared/domain.md §6', () => {
  it('reads the seventeen field names of §6, the two postal codes side by side', () => {
    expect(SECTION_6_FIELDS).toHaveLength(17);
    expect(SECTION_6_FIELDS.slice(9, 11)).toEqual(['f2016_postcodebelgisch', 'f2112_buitenlandspostnummer']);
  });

  it('writes the foreign postal code f2112 in the place of f2016, between f2015_adres and f2017_gemeente', () => {
    const xml = renderFiche(fiche('00111', '75001'), identity, placeholderFund(), 0);
    expect(commonPart(xml)).toEqual(SECTION_6_FIELDS.filter((f) => f !== 'f2016_postcodebelgisch'));
  });

  it('writes the Belgian postal code f2016 in its place, without f2112', () => {
    const xml = renderFiche(fiche('150', '8000'), identity, placeholderFund(), 0);
    expect(commonPart(xml)).toEqual(SECTION_6_FIELDS.filter((f) => f !== 'f2112_buitenlandspostnummer'));
  });
});

describe('a fiche read back from the line it was sent as (its cancellation)', () => {
  it('gives the fiche that was rendered, text with markup, line breaks and non-ASCII characters included, in Belgium and abroad', () => {
    const abroad = { ...fiche('00111', '75001'), lastName: 'Lenoir <Jr> & "fils"', street: "Rue de l'Église 1\nboîte 5\tétage 2", firstName: 'Noël' };
    for (const f of [abroad, fiche('150', '8000')]) expect(readFiche(renderFiche(f, identity, placeholderFund(), 0))).toEqual(f);
  });

  it('renders again as a cancellation (f2028 3) with the same content but its new sequence number', () => {
    const sent = renderFiche(fiche('150', '8000'), identity, placeholderFund(), 0);
    const cancelled = renderFiche(readFiche(sent), { ...identity, status: 1, position: 7 }, placeholderFund(), 1);
    expect(cancelled).toBe(sent.replace('<f2009_volgnummer>1<', '<f2009_volgnummer>7<').replace('<f2028_typetraitement>0<', '<f2028_typetraitement>3<'));
  });

  it('refuses a line that is not a whole fiche, naming the field and the reference (no INSS)', () => {
    const sent = renderFiche(fiche('150', '8000'), identity, placeholderFund(), 0);
    const broken = sent.replace(/<f2017_gemeente>[^<]*<\/f2017_gemeente>/, '');
    expect(() => readFiche(broken)).toThrow(OutboxError);
    expect(() => readFiche(broken)).toThrow(/The earlier fiche D02 has no <f2017_gemeente>, so maillon cannot send its cancellation/);
    expect(() => readFiche(sent.replace('85073003328', '85073003329'))).toThrow(/holds a national number that is not a valid INSS/);
  });
});

describe('f2028_typetraitement', () => {
  it('is 0 in an original sending; in a correction 2 for an addition, 1 for a modification, 3 for a cancellation', () => {
    expect([0, 1, 2].map((status) => treatmentType(0, status))).toEqual([0, 0, 0]);
    expect([0, 2, 1].map((status) => treatmentType(1, status))).toEqual([2, 1, 3]);
  });
});
