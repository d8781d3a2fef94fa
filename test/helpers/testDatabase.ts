import { randomBytes } from 'node:crypto';
import { inject } from 'vitest';
import { createPool, type Pool, runStatement } from '../../src/db/database.js';

/** A database of its own for one test file, cloned from the migrated template. */
export interface TestDatabase {
  url: string;
  name: string;
  pool: Pool;
  /** Drops the database; kept instead when MAILLON_KEEP_TEST_DB is set, for inspection. */
  drop(): Promise<void>;
}

/** Clones the migrated template into a fresh database. */
export async function createTestDatabase(): Promise<TestDatabase> {
  const adminUrl = inject('adminUrl');
  const name = `maillon_t_${randomBytes(5).toString('hex')}`;
  await runStatement(adminUrl, `CREATE DATABASE ${name} TEMPLATE ${inject('templateDatabase')}`);
  const u = new URL(adminUrl);
  u.pathname = `/${name}`;
  const url = u.toString();
  const pool = createPool(url, 6);
  return {
    url,
    name,
    pool,
    async drop() {
      await pool.end();
      if (process.env['MAILLON_KEEP_TEST_DB']) return;
      await runStatement(adminUrl, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    },
  };
}
