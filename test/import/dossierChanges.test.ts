import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readDossierVersion } from '../../src/engine/heldPlan.js';
import { importFolder } from '../../src/import/importFolder.js';
import { ROOT } from '../helpers/runHarness.js';
import { createTestDatabase, type TestDatabase } from '../helpers/testDatabase.js';

const FULL = path.join(ROOT, 'fixtures/dossier-2024');

/**
 * The dossier's change counter (dossier migration 007), which a held rerun reads before its
 * extraction and after its confirmation: every way the dossier changes moves it.
 */
describe("the dossier's change counter", () => {
  let db: TestDatabase;
  let dir: string;
  beforeAll(async () => {
    db = await createTestDatabase();
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'maillon-changes-'));
  });
  afterAll(async () => {
    await db.drop();
    await fs.rm(dir, { recursive: true, force: true });
  });

  const version = async (): Promise<bigint> => BigInt((await readDossierVersion(db.pool))!);

  it('moves with a bulk import, with every statement after it on the swapped tables, and with a row-by-row import', async () => {
    const v0 = await version();
    const bulk = await importFolder(db.pool, FULL);
    expect(bulk.method).toBe('bulk');
    const v1 = await version();
    expect(v1).toBeGreaterThan(v0);
    // The swapped-in tables carry the triggers again.
    await db.pool.query(`UPDATE dossier.affiliates SET last_name = last_name || '' WHERE affiliate_id = (SELECT min(affiliate_id) FROM dossier.affiliates)`);
    const v2 = await version();
    expect(v2).toBeGreaterThan(v1);
    await db.pool.query('DELETE FROM dossier.incapacity_requests WHERE false');
    const v3 = await version();
    expect(v3).toBeGreaterThan(v2);
    // An empty line makes the import take the row-by-row path (TRUNCATE, then INSERT).
    const withBlank = path.join(dir, 'blank');
    await fs.cp(FULL, withBlank, { recursive: true });
    await fs.appendFile(path.join(withBlank, 'payments.csv'), '\n');
    const rows = await importFolder(db.pool, withBlank);
    expect(rows.method).toBe('row-by-row');
    expect(await version()).toBeGreaterThan(v3);
  });

  it('stays still while the dossier is only read', async () => {
    const before = await version();
    await db.pool.query('SELECT count(*) FROM dossier.affiliates');
    expect(await version()).toBe(before);
  });

  it('reads as unknown (null) on a dossier without the counter, which a held rerun takes as changed', async () => {
    await db.pool.query('ALTER TABLE dossier.changes RENAME TO changes_gone');
    try {
      expect(await readDossierVersion(db.pool)).toBeNull();
    } finally {
      await db.pool.query('ALTER TABLE dossier.changes_gone RENAME TO changes');
    }
  });
});
