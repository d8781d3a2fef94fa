import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createPool } from '../../src/db/database.js';
import { latestVersion, migrate, requireMigrated } from '../../src/db/migrate.js';
import { DatabaseError } from '../../src/errors/errors.js';
import { maillon } from '../helpers/cli.js';
import { scratchDir } from '../helpers/runHarness.js';
import { createTestDatabase, type TestDatabase } from '../helpers/testDatabase.js';

/**
 * A fund's database that this maillon finds behind: the dossier at version 2, from before the
 * identifiers were declared COLLATE "C" (migration 3), with a view of the fund's on a column that
 * migration changes.
 */
describe('dossier migrations on a database that is behind', () => {
  let db: TestDatabase;
  let home: { dir: string; remove: () => Promise<void> };
  const collation = async (table: string, column: string): Promise<string | null> =>
    (await db.pool.query<{ c: string | null }>(`SELECT collation_name AS c FROM information_schema.columns WHERE table_schema = 'dossier' AND table_name = $1 AND column_name = $2`, [table, column]))
      .rows[0]!.c;
  const version = async (): Promise<number> => (await db.pool.query<{ v: number }>('SELECT max(version::int) AS v FROM dossier.schemaversion')).rows[0]!.v;

  beforeAll(async () => {
    home = await scratchDir('migrate');
  });
  afterAll(async () => home.remove());
  beforeEach(async () => {
    await db?.drop();
    db = await createTestDatabase();
    await db.pool.query('DELETE FROM dossier.schemaversion WHERE version::int >= 3');
    // What the later migrations made is not there yet at version 2.
    await db.pool.query('DROP TABLE dossier.incapacity_requests');
    await db.pool.query('DROP TABLE dossier.changes');
    await db.pool.query('DROP FUNCTION dossier.watch_changes(), dossier.count_change() CASCADE');
    await db.pool.query(`ALTER TABLE dossier.affiliates ALTER affiliate_id TYPE text COLLATE "default"`);
    await db.pool.query(`ALTER TABLE dossier.companies ALTER company_number TYPE text COLLATE "default"`);
    await db.pool.query('CREATE VIEW public.company_numbers AS SELECT company_number FROM dossier.companies');
  });
  afterAll(async () => db?.drop());

  it('names the migration that fails and why, applies nothing of it, and applies it once the obstacle is gone', async () => {
    const err = await migrate(db.pool, 'dossier').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DatabaseError);
    const message = (err as Error).message;
    expect(message).toContain('version 3 (byte-order-keys)');
    expect(message).toContain('cannot alter type of a column used by a view or rule');
    expect(message).toContain('view public.company_numbers');
    expect(message).toContain('maillon db migrate');
    // The migration's first statement (the affiliates) ran before the one that failed (the companies): undone.
    expect(await collation('affiliates', 'affiliate_id')).toBeNull();
    expect(await version()).toBe(2);

    await db.pool.query('DROP VIEW public.company_numbers');
    expect(await migrate(db.pool, 'dossier')).toEqual(Array.from({ length: latestVersion('dossier') - 2 }, (_, i) => i + 3));
    expect(await collation('affiliates', 'affiliate_id')).toBe('C');
    expect(await collation('companies', 'company_number')).toBe('C');
    expect(await version()).toBe(latestVersion('dossier'));
  });

  it('refuses to work on a schema behind its migrations, and says to migrate', async () => {
    await expect(requireMigrated(db.pool, 'ledger')).resolves.toBeUndefined();
    const err = await requireMigrated(db.pool, 'dossier').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DatabaseError);
    expect((err as Error).message).toContain(`at version 2 and this maillon needs version ${latestVersion('dossier')}`);
    const env = { DATABASE_URL: db.url, MAILLON_HOME: home.dir, MAILLON_SENDER: '012345', MAILLON_ENV: 'T' };
    const runs = await maillon(['runs'], env);
    expect(runs.code).toBe(6);
    expect(runs.stderr).toContain('The dossier schema is at version 2');
    expect(runs.stderr).toContain('maillon db migrate');
    const migrated = await maillon(['db', 'migrate'], env);
    expect(migrated.code).toBe(6);
    expect(migrated.stderr).toContain('view public.company_numbers');
  });

  it('says a schema is missing when it was never migrated', async () => {
    await db.pool.query('DROP SCHEMA dossier CASCADE');
    const err = await requireMigrated(db.pool, 'dossier').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DatabaseError);
    expect((err as Error).message).toContain('The dossier schema is missing: run "maillon db migrate" once');
  });

  it('says so when the role cannot read the schema version', async () => {
    const role = `maillon_noread_${process.pid}`;
    await db.pool.query(`CREATE ROLE ${role} LOGIN`);
    const u = new URL(db.url);
    u.username = role;
    const pool = createPool(u.toString(), 1);
    try {
      const err = await requireMigrated(pool, 'dossier').catch((e: unknown) => e);
      expect(err).toBeInstanceOf(DatabaseError);
      expect((err as Error).message).toContain('Cannot read the version of the dossier schema (dossier.schemaversion): permission denied');
      expect((err as Error).message).toContain('DOSSIER_DATABASE_URL');
    } finally {
      await pool.end();
      await db.pool.query(`DROP ROLE ${role}`);
    }
  });
});
