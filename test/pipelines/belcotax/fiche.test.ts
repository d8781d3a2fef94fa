import { describe, expect, it } from 'vitest';
import { type FicheRecord, renderFiche } from '../../../pipelines/belcotax/fiche.js';
import { placeholderFund } from '../../../src/config/fundConfig.js';
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
