import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Postgrator from 'postgrator';
import type { Pool } from './database.js';
import { withConnection } from './database.js';

const here = path.dirname(fileURLToPath(import.meta.url));

/** The two migration sets: the dossier schema and maillon's ledger schema. */
export type MigrationSet = 'dossier' | 'ledger';

const SCHEMA: Record<MigrationSet, string> = { dossier: 'dossier', ledger: 'maillon' };
// One advisory lock per set, so that concurrent starts migrate once.
const LOCK: Record<MigrationSet, number> = { dossier: 0x6d61_0001, ledger: 0x6d61_0002 };

/** Brings one schema to the latest version; idempotent and safe to call concurrently. Returns the versions applied. */
export async function migrate(pool: Pool, set: MigrationSet): Promise<number[]> {
  return withConnection(pool, async (client) => {
    await client.query('SELECT pg_advisory_lock($1)', [LOCK[set]]);
    try {
      await client.query(`CREATE SCHEMA IF NOT EXISTS ${SCHEMA[set]}`);
      const db = await client.query<{ db: string }>('SELECT current_database() AS db');
      const postgrator = new Postgrator({
        migrationPattern: path.join(here, 'migrations', set, '*.sql'),
        driver: 'pg',
        database: db.rows[0]!.db,
        schemaTable: `${SCHEMA[set]}.schemaversion`,
        currentSchema: SCHEMA[set],
        execQuery: (query: string) => client.query(query),
      });
      const applied = await postgrator.migrate();
      await client.query('RESET search_path');
      return applied.map((m) => m.version);
    } finally {
      await client.query('SELECT pg_advisory_unlock($1)', [LOCK[set]]);
    }
  });
}
