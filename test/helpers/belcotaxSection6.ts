/** The Belcotax file checked against `shared/domain.md` §6 (tree, fields in order, values, arithmetic), for the Belcotax tests. */
import fs from 'node:fs/promises';
import { XMLParser } from 'fast-xml-parser';
import { expect } from 'vitest';
import type { Pool } from '../../src/db/database.js';
import type { FundIdentity } from '../../src/domain/fundIdentity.js';
import type { RunResult } from '../../src/engine/runPipeline.js';

// shared/domain.md §6, field by field and in order.
const SENDING = [
  'v0002_inkomstenjaar',
  'v0010_bestandtype',
  'v0011_aanmaakdatum',
  'v0014_naam',
  'v0015_adres',
  'v0016_postcode',
  'v0017_gemeente',
  'v0018_telefoonnummer',
  'v0021_contactpersoon',
  'v0022_taalcode',
  'v0023_emailadres',
  'v0024_nationaalnr',
  'v0025_typeenvoi',
  'v0028_landwoonplaats',
];
const DECLARATION = ['a1002_inkomstenjaar', 'a1005_registratienummer', 'a1011_naamnl1', 'a1013_adresnl', 'a1014_postcodebelgisch', 'a1015_gemeente', 'a1016_landwoonplaats', 'a1020_taalcode'];
const FRENCH = ['a1027_naamfr1', 'a1029_adresfr', 'a1030_gemeentefr', 'a1031_taalfr'];
const GERMAN = ['a1032_naamde1', 'a1034_adresde', 'a1035_gemeentede', 'a1036_taalde'];
const COMMON_HEAD = ['f2002_inkomstenjaar', 'f2005_registratienummer', 'f2007_division', 'f2008_typefiche', 'f2009_volgnummer', 'f2010_referentie', 'f2011_nationaalnr', 'f2013_naam', 'f2015_adres'];
const COMMON_TAIL = ['f2017_gemeente', 'f2018_landwoonplaats', 'f2027_taalcode', 'f2028_typetraitement', 'f2029_enkelopgave325'];
// Exactly one of the Belgian and the foreign postal code, in the same place (after f2015_adres).
const FICHE_BELGIUM = [...COMMON_HEAD, 'f2016_postcodebelgisch', ...COMMON_TAIL, 'f2114_voornamen'];
const FICHE_ABROAD = [...COMMON_HEAD, 'f2112_buitenlandspostnummer', ...COMMON_TAIL, 'f2114_voornamen'];
const FICHE_OWN = ['f18_2059_totaalcontrole', 'f18_2066_anderegebeurtenissen', 'f18_2070_bedrijfsvoorheffing'];
const DECLARATION_TRAILER = ['r8002_inkomstenjaar', 'r8005_registratienummer', 'r8007_division', 'r8010_aantalrecords', 'r8011_controletotaal', 'r8012_controletotaal', 'r8013_totaalvoorheffingen'];
const SENDING_TRAILER = ['r9002_inkomstenjaar', 'r9010_aantallogbestanden', 'r9011_totaalaantalrecords', 'r9012_controletotaal', 'r9013_controletotaal', 'r9014_controletotaal'];
// The NIS codes §6 names; the table covers more, generated data uses these and JE (no code).
const NIS = { BE: '150', FR: '00111', LU: '00113', DE: '00103', NL: '00129', US: '00402' } as Record<string, string>;
const LANGUAGE = { nl: '1', fr: '2', de: '3' } as Record<string, string>;

type Node = [string, string | Node[]];
const parser = new XMLParser({ preserveOrder: true, parseTagValue: false });
/** An element's children as [name, text or children], in document order. */
const kids = (raw: any[]): Node[] =>
  raw
    .filter((n) => !('#text' in n))
    .map((n) => {
      const name = Object.keys(n).find((k) => k !== ':@')!;
      const inner = n[name] as any[];
      const text = inner.length === 0 ? '' : inner.length === 1 && '#text' in inner[0] ? String(inner[0]['#text']) : null;
      return [name, text ?? kids(inner)];
    });
const names = (nodes: Node[]): string[] => nodes.map(([n]) => n);
const values = (nodes: Node[]): Record<string, any> => Object.fromEntries(nodes);

export interface Expected {
  year: number;
  fund: FundIdentity;
  version: number;
  /** Per affiliate emitted, from the dossier: the fields its fiche must carry. */
  dossier: Map<string, { inss: string; last_name: string; first_name: string; street: string; postal_code: string; city: string; country: string; language: string; amount: string }>;
}

/** Checks a written Belcotax file against §6: the tree, every field in order, the values, the arithmetic. */
export async function expectSection6(file: string, x: Expected): Promise<{ fiches: Record<string, any>[] }> {
  const root = kids(parser.parse(await fs.readFile(file, 'utf8')));
  expect(names(root)).toEqual(['?xml', 'Verzendingen']);
  const verzendingen = root[1]![1] as Node[];
  expect(names(verzendingen)).toEqual(['Verzending']);
  const sending = verzendingen[0]![1] as Node[];
  expect(names(sending)).toEqual([...SENDING, 'Aangiften', ...SENDING_TRAILER]);
  const v = values(sending);
  const f = x.fund;
  expect([
    v.v0002_inkomstenjaar,
    v.v0010_bestandtype,
    v.v0014_naam,
    v.v0015_adres,
    v.v0016_postcode,
    v.v0017_gemeente,
    v.v0018_telefoonnummer,
    v.v0021_contactpersoon,
    v.v0022_taalcode,
    v.v0023_emailadres,
    v.v0024_nationaalnr,
    v.v0025_typeenvoi,
    v.v0028_landwoonplaats,
  ]).toEqual([String(x.year), 'BELCOTST', f.name, f.street, f.postalCode, f.city, f.phone, f.contact, LANGUAGE[f.language], f.email, f.companyNumber, x.version === 0 ? '0' : '1', '150']);
  expect(v.v0011_aanmaakdatum).toMatch(/^\d{2}-\d{2}-\d{4}$/);
  expect(names(v.Aangiften)).toEqual(['Aangifte']);
  const declaration = v.Aangiften[0][1] as Node[];
  expect(names(declaration)).toEqual([...DECLARATION, ...(f.fr ? FRENCH : []), ...(f.de ? GERMAN : []), 'Opgaven', ...DECLARATION_TRAILER]);
  const a = values(declaration);
  expect([a.a1002_inkomstenjaar, a.a1005_registratienummer, a.a1011_naamnl1, a.a1013_adresnl, a.a1014_postcodebelgisch, a.a1015_gemeente, a.a1016_landwoonplaats, a.a1020_taalcode]).toEqual([
    String(x.year),
    f.companyNumber,
    f.name,
    f.street,
    f.postalCode,
    f.city,
    '150',
    LANGUAGE[f.language],
  ]);
  if (f.fr) expect([a.a1027_naamfr1, a.a1029_adresfr, a.a1030_gemeentefr, a.a1031_taalfr]).toEqual([f.fr.name, f.fr.street, f.fr.city, '2']);
  if (f.de) expect([a.a1032_naamde1, a.a1034_adresde, a.a1035_gemeentede, a.a1036_taalde]).toEqual([f.de.name, f.de.street, f.de.city, '3']);
  expect(names(a.Opgaven)).toEqual(['Opgave32518']);
  const ficheNodes = a.Opgaven[0][1] as Node[];
  expect(new Set(names(ficheNodes))).toEqual(new Set(['Fiche28118']));

  const fiches = ficheNodes.map(([, children], i) => {
    const c = children as Node[];
    const fi = values(c);
    const d = x.dossier.get(fi.f2010_referentie);
    expect(d, `fiche ${i + 1}: reference ${fi.f2010_referentie} is an affiliate the run emitted`).toBeDefined();
    const belgian = d!.country === 'BE';
    expect(names(c), `fiche ${i + 1}`).toEqual([...(belgian ? FICHE_BELGIUM : FICHE_ABROAD), ...FICHE_OWN]);
    expect([
      fi.f2002_inkomstenjaar,
      fi.f2005_registratienummer,
      fi.f2007_division,
      fi.f2008_typefiche,
      fi.f2009_volgnummer,
      fi.f2011_nationaalnr,
      fi.f2013_naam,
      fi.f2015_adres,
      belgian ? fi.f2016_postcodebelgisch : fi.f2112_buitenlandspostnummer,
      fi.f2017_gemeente,
      fi.f2018_landwoonplaats,
      fi.f2027_taalcode,
      fi.f2029_enkelopgave325,
      fi.f2114_voornamen,
      fi.f18_2066_anderegebeurtenissen,
      fi.f18_2070_bedrijfsvoorheffing,
    ]).toEqual([
      String(x.year),
      f.companyNumber,
      '',
      '28118',
      String(i + 1),
      d!.inss,
      d!.last_name,
      d!.street,
      d!.postal_code,
      d!.city,
      NIS[d!.country],
      LANGUAGE[d!.language],
      '0',
      d!.first_name,
      d!.amount,
      '0',
    ]);
    expect(Number(fi.f18_2059_totaalcontrole)).toBe(Number(fi.f18_2066_anderegebeurtenissen) + Number(fi.f18_2070_bedrijfsvoorheffing));
    expect(x.version === 0 ? ['0'] : ['1', '2']).toContain(fi.f2028_typetraitement);
    return fi;
  });
  expect(new Set(fiches.map((fi) => fi.f2010_referentie)).size).toBe(fiches.length);
  expect(fiches.map((fi) => fi.f2010_referentie).sort()).toEqual([...x.dossier.keys()].sort());

  // The trailers, with Belcotax's arithmetic.
  const sum = (tag: string): number => fiches.reduce((n, fi) => n + Number(fi[tag]), 0);
  const n = fiches.length;
  const r8 = [a.r8002_inkomstenjaar, a.r8005_registratienummer, a.r8007_division, a.r8010_aantalrecords, a.r8011_controletotaal, a.r8012_controletotaal, a.r8013_totaalvoorheffingen];
  expect(r8).toEqual([String(x.year), f.companyNumber, '', String(n + 2), String((n * (n + 1)) / 2), String(sum('f18_2059_totaalcontrole')), String(sum('f18_2070_bedrijfsvoorheffing'))]);
  expect(Number(a.r8011_controletotaal)).toBe(sum('f2009_volgnummer'));
  const r9 = [v.r9002_inkomstenjaar, v.r9010_aantallogbestanden, v.r9011_totaalaantalrecords, v.r9012_controletotaal, v.r9013_controletotaal, v.r9014_controletotaal];
  expect(r9).toEqual([String(x.year), '3', String(n + 4), a.r8011_controletotaal, a.r8012_controletotaal, a.r8013_totaalvoorheffingen]);
  return { fiches };
}

/** What the dossier says each emitted affiliate's fiche carries, computed apart from the flow's query. */
export async function dossierOf(pool: Pool, run: RunResult, year: number, asOfDay: string): Promise<Expected['dossier']> {
  const res = await pool.query(
    `SELECT a.affiliate_id, a.inss, a.last_name, a.first_name, a.street, a.postal_code, a.city, a.country, a.language,
            (SELECT sum(amount_cents) FROM dossier.allowances al WHERE al.affiliate_id = a.affiliate_id AND al.kind = 'bridging_right'
               AND al.paid_on BETWEEN make_date($2, 1, 1) AND least(make_date($2, 12, 31), $3::date))::text AS amount
     FROM dossier.affiliates a
     WHERE a.affiliate_id IN (SELECT source_key FROM maillon.record_outcomes WHERE run_id = $1 AND outcome = 'emitted')`,
    [run.runId, year, asOfDay],
  );
  return new Map(res.rows.map((r) => [r.affiliate_id, r]));
}
