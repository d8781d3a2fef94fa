import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.js';
import { FUND_PLACEHOLDERS, fundIdentityFrom, placeholderFund } from '../../src/config/fundConfig.js';
import { ConfigError } from '../../src/errors/errors.js';
import { maillon } from '../helpers/cli.js';
import { FUND_BLOCKS_ENV, REAL_FUND_ENV } from '../helpers/fund.js';

/** The ConfigError message loadConfig throws for these variables (fails the test when it does not throw). */
function refusal(env: Record<string, string>): string {
  try {
    loadConfig(env, '/');
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).exitCode).toBe(2);
    return (err as Error).message;
  }
  return expect.unreachable('the configuration was accepted');
}

describe("the fund's identity in the configuration", () => {
  it('takes the documented placeholders in T and S, and lists them as such', () => {
    const fund = loadConfig({}, '/').fund;
    expect(fund).toEqual(placeholderFund());
    expect(fund).toMatchObject({ name: 'Caisse nationale auxiliaire', companyNumber: '0000000097', postalCode: '1000', language: 'fr', fr: null, de: null });
    expect(fund.placeholders).toEqual(Object.keys(FUND_PLACEHOLDERS));
    expect(loadConfig({ MAILLON_ENV: 'S' }, '/').fund.placeholders.length).toBe(9);
  });

  it('reads every variable, and the optional French and German blocks', () => {
    const fund = loadConfig({ ...REAL_FUND_ENV, ...FUND_BLOCKS_ENV, MAILLON_FUND_LANGUAGE: 'de' }, '/').fund;
    expect(fund).toEqual({
      name: 'Caisse nationale auxiliaire',
      companyNumber: '0206732437',
      street: 'Rue des Tests 42',
      postalCode: '1000',
      city: 'Bruxelles',
      phone: '+3225551234',
      contact: 'Jeanne Exemple',
      language: 'de',
      email: 'belcotax@caisse.test',
      fr: { name: 'Caisse nationale auxiliaire', street: 'Rue des Tests 42', city: 'Bruxelles' },
      de: { name: 'Nationale Hilfskasse', street: 'Teststraße 42', city: 'Brüssel' },
      placeholders: [],
    });
  });

  it('takes a 9-digit company number with its leading 0 added, and knows the placeholder in that form', () => {
    expect(loadConfig({ ...REAL_FUND_ENV, MAILLON_FUND_COMPANY_NUMBER: '403019261' }, '/').fund.companyNumber).toBe('0403019261');
    expect(refusal({ ...REAL_FUND_ENV, MAILLON_ENV: 'R', MAILLON_FUND_COMPANY_NUMBER: '000000097' })).toContain('and MAILLON_FUND_COMPANY_NUMBER still hold the documented placeholder');
    expect(refusal({ MAILLON_FUND_COMPANY_NUMBER: '431150351' })).toContain('MAILLON_FUND_COMPANY_NUMBER: 0431150351 is not a KBO/BCE number: its check digits do not match');
    expect(refusal({ MAILLON_FUND_COMPANY_NUMBER: '40301926' })).toContain('MAILLON_FUND_COMPANY_NUMBER: must be a KBO/BCE number of 10 digits, or 9 without the leading 0');
  });

  it('refuses every value Belcotax cannot take, naming its variable', () => {
    const message = refusal({
      MAILLON_FUND_NAME: 'N'.repeat(29),
      MAILLON_FUND_COMPANY_NUMBER: '0206732438',
      MAILLON_FUND_STREET: 'S'.repeat(33),
      MAILLON_FUND_POSTAL_CODE: '10000',
      MAILLON_FUND_CITY: 'C'.repeat(28),
      MAILLON_FUND_PHONE: '+32 2 555 12 34',
      MAILLON_FUND_CONTACT: 'P'.repeat(35),
      MAILLON_FUND_LANGUAGE: 'en',
      MAILLON_FUND_EMAIL: 'belcotax',
      MAILLON_FUND_NAME_DE: 'D'.repeat(29),
    });
    for (const name of ['NAME', 'COMPANY_NUMBER', 'STREET', 'POSTAL_CODE', 'CITY', 'PHONE', 'CONTACT', 'LANGUAGE', 'EMAIL', 'NAME_DE']) {
      expect(message).toContain(`MAILLON_FUND_${name}:`);
    }
    expect(message).toContain('MAILLON_FUND_PHONE: must be a phone number of at most 12 characters');
  });

  it('refuses a blank value (spaces or other whitespace only) of every text variable, in every environment, naming the variable (" " went into a signed R file)', () => {
    const blank = {
      MAILLON_FUND_NAME: '   ',
      MAILLON_FUND_STREET: ' ',
      MAILLON_FUND_CITY: '\t',
      MAILLON_FUND_PHONE: '  ',
      MAILLON_FUND_CONTACT: ' ',
      MAILLON_FUND_EMAIL: ' ',
      MAILLON_FUND_NAME_FR: '\u00a0',
      MAILLON_FUND_STREET_FR: 'Rue des Tests 42',
      MAILLON_FUND_CITY_FR: 'Bruxelles',
    };
    for (const env of [{}, { ...REAL_FUND_ENV, MAILLON_ENV: 'R' }]) {
      const message = refusal({ ...env, ...blank });
      expect(message).toMatch(/^The configuration is invalid: /);
      for (const name of ['NAME', 'STREET', 'CITY', 'PHONE', 'CONTACT', 'EMAIL', 'NAME_FR']) expect(message).toContain(`MAILLON_FUND_${name}: is blank (only spaces or other whitespace)`);
      // Said once, not also as a bad form.
      expect(message).not.toContain('must be an e-mail address');
    }
    expect(refusal({ MAILLON_FUND_NAME: ' ' })).toBe(
      "The configuration is invalid: MAILLON_FUND_NAME: is blank (only spaces or other whitespace), and Belcotax a1011_naamnl1 needs the fund's real value: set it, or leave the variable unset. Fix these environment variables and start again.",
    );
    expect(refusal({ MAILLON_FUND_CONTACT: ' \t ' })).toContain('MAILLON_FUND_CONTACT: is blank (only spaces or other whitespace), and Belcotax v0021_contactpersoon needs');
    // A real value keeps its spaces, as before; an empty one is not set (its placeholder in T and S).
    expect(loadConfig({ MAILLON_FUND_CONTACT: ' Jeanne Exemple ', MAILLON_FUND_NAME: '' }, '/').fund).toMatchObject({ contact: ' Jeanne Exemple ', name: 'Caisse nationale auxiliaire' });
  });

  it('refuses half a French or German block, naming what is missing', () => {
    const message = refusal({ MAILLON_FUND_NAME_FR: 'Caisse', MAILLON_FUND_CITY_DE: 'Brüssel' });
    expect(message).toContain('MAILLON_FUND_STREET_FR, MAILLON_FUND_CITY_FR: not set, while the French block is');
    expect(message).toContain('MAILLON_FUND_NAME_DE, MAILLON_FUND_STREET_DE: not set, while the German block is');
  });

  it('in production (R) requires every variable, and refuses the placeholders that cannot be real even when set', () => {
    expect(refusal({ MAILLON_ENV: 'R' })).toMatch(
      /^Production \(R\) needs the fund's real identity, and MAILLON_FUND_NAME, MAILLON_FUND_COMPANY_NUMBER, .*MAILLON_FUND_EMAIL still hold the documented placeholder/,
    );
    const partly = refusal({ ...REAL_FUND_ENV, MAILLON_ENV: 'R', MAILLON_FUND_COMPANY_NUMBER: '0000000097', MAILLON_FUND_EMAIL: 'belcotax@example.invalid' });
    expect(partly).toContain('and MAILLON_FUND_COMPANY_NUMBER, MAILLON_FUND_EMAIL still hold the documented placeholder');
    const { MAILLON_FUND_CITY: _city, ...withoutCity } = REAL_FUND_ENV;
    expect(refusal({ ...withoutCity, MAILLON_ENV: 'R' })).toContain('and MAILLON_FUND_CITY still hold');
    // A placeholder that may be the fund's real value (its name, Brussels, French) is accepted when set.
    const fund = loadConfig({ ...REAL_FUND_ENV, MAILLON_ENV: 'R', MAILLON_FUND_POSTAL_CODE: '1000', MAILLON_FUND_CITY: 'Bruxelles' }, '/').fund;
    expect(fund.placeholders).toEqual([]);
    expect(fundIdentityFrom(REAL_FUND_ENV, 'R').placeholders).toEqual([]);
  });

  it('stops the command at start with exit 2 and a sentence naming the variable', async () => {
    const bad = await maillon(['runs'], { MAILLON_FUND_PHONE: '+32 2 555 12 34 5' });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('MAILLON_FUND_PHONE: must be a phone number of at most 12 characters');
    const production = await maillon(['runs'], { MAILLON_ENV: 'R' });
    expect(production.code).toBe(2);
    expect(production.stderr).toContain('MAILLON_FUND_STREET');
    expect(production.stderr).toContain('placeholders are allowed in T and S only');
  });
});
