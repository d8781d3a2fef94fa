/** The fund's identity variables as production would set them (no placeholder left; a valid KBO number). */
export const REAL_FUND_ENV = {
  MAILLON_FUND_NAME: 'Caisse nationale auxiliaire',
  MAILLON_FUND_COMPANY_NUMBER: '0206732437',
  MAILLON_FUND_STREET: 'Rue des Tests 42',
  MAILLON_FUND_POSTAL_CODE: '1000',
  MAILLON_FUND_CITY: 'Bruxelles',
  MAILLON_FUND_PHONE: '+3225551234',
  MAILLON_FUND_CONTACT: 'Jeanne Exemple',
  MAILLON_FUND_LANGUAGE: 'fr',
  MAILLON_FUND_EMAIL: 'belcotax@caisse.test',
} as const;

/** The optional French and German blocks of the declaration. */
export const FUND_BLOCKS_ENV = {
  MAILLON_FUND_NAME_FR: 'Caisse nationale auxiliaire',
  MAILLON_FUND_STREET_FR: 'Rue des Tests 42',
  MAILLON_FUND_CITY_FR: 'Bruxelles',
  MAILLON_FUND_NAME_DE: 'Nationale Hilfskasse',
  MAILLON_FUND_STREET_DE: 'Teststraße 42',
  MAILLON_FUND_CITY_DE: 'Brüssel',
} as const;
