/**
 * Belgian NIS (INS) country codes by ISO 3166-1 alpha-2 code, as Belcotax-on-web reads a country
 * of residence (zones 1.16, 2.18: five digits). Belgium is `150`, as `shared/domain.md` §6 says
 * (the brochure also accepts 0 for Belgium). The other codes are those of the Belcotax technical
 * documentation (annex "codes pays / landcodes"), as the Belgian payroll of Odoo transcribes them
 * (`l10n_be_hr_payroll`, COUNTRY_CODES); §6 names FR 00111, LU 00113, DE 00103, NL 00129,
 * US 00402, and they agree. An ISO code not listed (Jersey `JE`, Antarctica `AQ`, a user-assigned
 * `XX`…) has no code here: its fiche is quarantined (`country-without-nis-code`). See docs/belcotax.md.
 */
const NIS_BY_ISO: Readonly<Record<string, string>> = {
  AD: '00102', AE: '00260', AF: '00251', AG: '00403', AI: '00490', AL: '00101', AM: '00249', AO: '00341',
  AR: '00511', AS: '00690', AT: '00105', AU: '00611', AZ: '00250', BA: '00149', BB: '00423', BD: '00237',
  BE: '150', BF: '00308', BG: '00106', BH: '00268', BI: '00303', BJ: '00310', BM: '00485', BN: '00224',
  BO: '00512', BR: '00513', BS: '00425', BT: '00223', BW: '00302', BY: '00142', BZ: '00430', CA: '00401',
  CD: '00306', CF: '00305', CG: '00307', CH: '00127', CI: '00309', CK: '00687', CL: '00514', CM: '00304',
  CN: '00218', CO: '00515', CR: '00411', CU: '00412', CV: '00339', CY: '00107', CZ: '00140', DE: '00103',
  DJ: '00345', DK: '00108', DM: '00480', DO: '00427', DZ: '00351', EC: '00516', EE: '00136', EG: '00352',
  EH: '00388', ER: '00349', ES: '00109', ET: '00311', FI: '00110', FJ: '00617', FK: '00580', FM: '00602',
  FR: '00111', GA: '00312', GB: '00112', GD: '00426', GE: '00253', GF: '00581', GH: '00314', GI: '00180',
  GL: '00498', GM: '00313', GN: '00315', GP: '00496', GQ: '00337', GR: '00114', GT: '00413', GU: '00681',
  GW: '00338', GY: '00521', HK: '00234', HN: '00414', HR: '00146', HT: '00419', HU: '00115', ID: '00208',
  IE: '00116', IL: '00256', IN: '00207', IQ: '00254', IR: '00255', IS: '00117', IT: '00128', JM: '00415',
  JO: '00257', JP: '00209', KE: '00336', KG: '00226', KH: '00216', KI: '00622', KM: '00343', KN: '00431',
  KP: '00219', KR: '00206', KW: '00264', KY: '00492', KZ: '00225', LA: '00210', LB: '00258', LC: '00428',
  LI: '00118', LK: '00203', LR: '00318', LS: '00301', LT: '00137', LU: '00113', LV: '00135', LY: '00353',
  MA: '00354', MC: '00120', MD: '00144', ME: '00151', MG: '00324', MH: '00603', MK: '00148', ML: '00319',
  MM: '00201', MN: '00221', MO: '00281', MQ: '00497', MR: '00355', MS: '00493', MT: '00119', MU: '00317',
  MV: '00222', MW: '00358', MX: '00416', MY: '00212', MZ: '00340', NA: '00384', NC: '00683', NE: '00321',
  NG: '00322', NI: '00417', NL: '00129', NO: '00121', NP: '00213', NR: '00615', NU: '00604', NZ: '00613',
  OM: '00266', PA: '00418', PE: '00518', PF: '00684', PG: '00619', PH: '00214', PK: '00259', PL: '00122',
  PM: '00495', PN: '00692', PR: '00487', PS: '00271', PT: '00123', PW: '00679', PY: '00517', QA: '00267',
  RE: '00387', RO: '00124', RS: '00152', RU: '00145', RW: '00327', SA: '00252', SB: '00623', SC: '00342',
  SD: '00356', SE: '00126', SG: '00205', SH: '00389', SI: '00147', SK: '00141', SL: '00328', SM: '00125',
  SN: '00320', SO: '00329', SR: '00522', SS: '00365', SV: '00421', SY: '00261', SZ: '00347', TC: '00488',
  TD: '00333', TG: '00334', TH: '00235', TJ: '00228', TL: '00282', TM: '00229', TN: '00357', TO: '00616',
  TR: '00262', TT: '00422', TV: '00621', TW: '00204', TZ: '00332', UA: '00143', UG: '00323', US: '00402',
  UY: '00519', UZ: '00227', VA: '00133', VC: '00429', VE: '00520', VG: '00479', VI: '00478', VN: '00220',
  VU: '00624', WF: '00689', WS: '00614', XK: '00153', YE: '00270', ZA: '00325', ZM: '00335', ZW: '00344',
};

/** The NIS country code of an ISO 3166-1 alpha-2 code (`BE` → `150`, `FR` → `00111`), or null when the table has none. */
export function nisCountryCode(iso: string): string | null {
  return Object.hasOwn(NIS_BY_ISO, iso) ? NIS_BY_ISO[iso]! : null;
}

/** The ISO codes the table covers, in alphabetical order (for tests and documentation). */
export function nisCountries(): readonly string[] {
  return Object.keys(NIS_BY_ISO).sort();
}
