import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.js';
import { ConfigError } from '../../src/errors/errors.js';
import { maillon } from '../helpers/cli.js';
import { REAL_FUND_ENV } from '../helpers/fund.js';

/** The ConfigError message loadConfig throws for these variables (fails the test when it does not throw). */
function refusal(env: Record<string, string>): string {
  try {
    loadConfig(env, '/');
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message;
  }
  return expect.unreachable('the configuration was accepted');
}

describe('loadConfig', () => {
  it('applies the defaults: dossier = ledger database, outbox under MAILLON_HOME, environment T', () => {
    const c = loadConfig({ DATABASE_URL: 'postgres://u@h/db', MAILLON_HOME: '/var/lib/maillon' }, '/');
    expect(c).toMatchObject({ databaseUrl: 'postgres://u@h/db', dossierDatabaseUrl: 'postgres://u@h/db', outbox: '/var/lib/maillon/outbox', environment: 'T', sender: undefined });
  });
  it('keeps a separate dossier database', () => {
    const c = loadConfig({ DATABASE_URL: 'postgres://u@h/ledger', DOSSIER_DATABASE_URL: 'postgres://ro@replica/core' }, '/');
    expect(c.dossierDatabaseUrl).toBe('postgres://ro@replica/core');
  });
  it('names every invalid variable in one sentence', () => {
    try {
      loadConfig({ MAILLON_SENDER: '12', MAILLON_ENV: 'P', DATABASE_URL: 'mysql://x' }, '/');
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      const m = (err as Error).message;
      expect(m).toContain('MAILLON_SENDER');
      expect(m).toContain('MAILLON_ENV');
      expect(m).toContain('DATABASE_URL');
    }
  });
  it('limits a zipped reply once unzipped by MAILLON_MAX_UNZIPPED_BYTES (1 GiB unless set), apart from MAILLON_MAX_REPLY_BYTES', () => {
    expect(loadConfig({}, '/')).toMatchObject({ maxReplyBytes: 52428800, maxUnzippedBytes: 1073741824 });
    expect(loadConfig({ MAILLON_MAX_UNZIPPED_BYTES: '2147483648' }, '/').maxUnzippedBytes).toBe(2147483648);
    for (const bad of ['lots', '100', '1.5e3x']) {
      expect(() => loadConfig({ MAILLON_MAX_UNZIPPED_BYTES: bad }, '/')).toThrow(ConfigError);
      expect(() => loadConfig({ MAILLON_MAX_UNZIPPED_BYTES: bad }, '/')).toThrow(/MAILLON_MAX_UNZIPPED_BYTES/);
    }
  });

  it('names every bad setting at once, whatever check finds it: an invalid value, a test hook in production, the placeholders of the fund in production (review-cli finding 6)', async () => {
    const production = { MAILLON_ENV: 'R', MAILLON_SENDER: '12', MAILLON_NOW: '2026-12-01T00:00:00Z' };
    const message = refusal(production);
    expect(message).toContain('MAILLON_SENDER: must be the 6-digit sender number');
    expect(message).toContain('MAILLON_NOW is for tests only and may not be set for production (environment R)');
    expect(message).toMatch(/MAILLON_FUND_NAME, MAILLON_FUND_COMPANY_NUMBER, .*MAILLON_FUND_EMAIL still hold the documented placeholder/);
    // The same through the command: one refusal, exit 2, naming them all.
    const status = await maillon(['status'], production);
    expect(status.code).toBe(2);
    const line = /^maillon: (.*)$/m.exec(status.stderr)?.[1] ?? '';
    for (const name of ['MAILLON_SENDER', 'MAILLON_NOW', 'MAILLON_FUND_COMPANY_NUMBER', 'MAILLON_FUND_EMAIL']) expect(line).toContain(name);
  });

  it('names a refused value once: not also as a placeholder in production, nor as missing from its block', () => {
    const message = refusal({
      ...REAL_FUND_ENV,
      MAILLON_ENV: 'R',
      MAILLON_FUND_PHONE: '+32 2 555 12 34 5',
      MAILLON_FUND_NAME_FR: 'N'.repeat(29),
      MAILLON_FUND_STREET_FR: 'Rue',
      MAILLON_FUND_CITY_FR: 'Bruxelles',
    });
    expect(message).toBe(
      'The configuration is invalid: MAILLON_FUND_PHONE: must be a phone number of at most 12 characters (digits, +, spaces, . / ( ) -); MAILLON_FUND_NAME_FR: at most 28 characters (Belcotax a1027_naamfr1). Fix these environment variables and start again.',
    );
    // An invalid MAILLON_ENV is not read as R: no production rule is added to its refusal.
    expect(refusal({ MAILLON_ENV: 'P', MAILLON_NOW: '2026-12-01T00:00:00Z' })).toMatch(/^The configuration is invalid: MAILLON_ENV: [^.]*\. Fix these environment variables and start again\.$/);
  });
});
