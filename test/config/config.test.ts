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
  it('limits a zipped reply once unzipped by MAILLON_MAX_UNZIPPED_BYTES (1 GiB unless set), apart from MAILLON_MAX_REPLY_BYTES', () => {
    expect(loadConfig({}, '/')).toMatchObject({ maxReplyBytes: 52428800, maxUnzippedBytes: 1073741824 });
    expect(loadConfig({ MAILLON_MAX_UNZIPPED_BYTES: '2147483648' }, '/').maxUnzippedBytes).toBe(2147483648);
    for (const bad of ['lots', '100', '1.5e3x']) {
      expect(() => loadConfig({ MAILLON_MAX_UNZIPPED_BYTES: bad }, '/')).toThrow(ConfigError);
      expect(() => loadConfig({ MAILLON_MAX_UNZIPPED_BYTES: bad }, '/')).toThrow(/MAILLON_MAX_UNZIPPED_BYTES/);
    }
  });
});
