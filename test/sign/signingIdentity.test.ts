import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/errors/errors.js';
import { importFolder } from '../../src/import/importFolder.js';
import { loadSigning } from '../../src/sign/signingIdentity.js';
import { maillon } from '../helpers/cli.js';
import { REAL_FUND_ENV } from '../helpers/fund.js';
import { createTestPki, type TestPki } from '../helpers/pki.js';
import { ROOT, scratchDir } from '../helpers/runHarness.js';
import { createTestDatabase, type TestDatabase } from '../helpers/testDatabase.js';

/** A signing certificate and a key that do not belong together sign what no receiver can verify (issue 20). */
describe('the signing identity is checked at start', () => {
  let tmp: { dir: string; remove: () => Promise<void> };
  let pki: TestPki;
  let db: TestDatabase;

  beforeAll(async () => {
    tmp = await scratchDir('signing');
    pki = await createTestPki(path.join(tmp.dir, 'pki'));
    db = await createTestDatabase();
    await importFolder(db.pool, path.join(ROOT, 'fixtures/career/input'));
  });
  afterAll(async () => {
    await db?.drop();
    await tmp?.remove();
  });

  it('refuses a certificate and a key that do not belong together, naming both files', async () => {
    const err = await loadSigning({ certPath: pki.fundCert, keyPath: pki.strangerKey, layout: 'cr76', signTest: false }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toBe(
      `The signing identity does not hold together: the certificate ${pki.fundCert} (MAILLON_SIGN_CERT) and the key ${pki.strangerKey} (MAILLON_SIGN_KEY) do not belong together (their public keys differ), so no receiver could verify the signatures. Give the key of that certificate, or the certificate of that key.`,
    );
    await expect(loadSigning({ certPath: pki.fundCert, keyPath: pki.fundKey, layout: 'cr76', signTest: false })).resolves.toMatchObject({ layout: 'cr76' });
  });

  it('a production run with a mismatched pair stops before it starts (exit 2), and writes nothing', async () => {
    const env = {
      DATABASE_URL: db.url,
      MAILLON_HOME: tmp.dir,
      MAILLON_SENDER: '012345',
      MAILLON_ENV: 'R',
      ...REAL_FUND_ENV,
      MAILLON_SIGN_CERT: pki.fundCert,
      MAILLON_SIGN_KEY: pki.strangerKey,
    };
    const out = await maillon(['run', 'career', '--period', '2026-Q3', '--as-of', '2026-10-10T02:00:00+02:00'], env);
    expect(out.code).toBe(2);
    expect(out.stderr).toContain(`the certificate ${pki.fundCert} (MAILLON_SIGN_CERT) and the key ${pki.strangerKey} (MAILLON_SIGN_KEY) do not belong together`);
    expect((await db.pool.query('SELECT count(*)::int AS n FROM maillon.runs')).rows[0].n).toBe(0);
  });
});
