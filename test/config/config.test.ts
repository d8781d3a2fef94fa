import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.js';
import { ConfigError } from '../../src/errors/errors.js';

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
});
