import { readdirSync } from 'node:fs';
import path from 'node:path';
import { DatabaseError } from '../errors/errors.js';
import { PACKAGE_ROOT } from '../system/packageRoot.js';
import type { Pool } from './database.js';
import { withConnection } from './database.js';

// The SQL files stay beside the sources; the compiled code reads them there too.
const here = path.join(PACKAGE_ROOT, 'src', 'db');

/** The two migration sets: the dossier schema and maillon's ledger schema. */
export type MigrationSet = 'dossier' | 'ledger';

const SCHEMA: Record<MigrationSet, string> = { dossier: 'dossier', ledger: 'maillon' };
// One advisory lock per set, so that concurrent starts migrate once.
const LOCK: Record<MigrationSet, number> = { dossier: 0x6d61_0001, ledger: 0x6d61_0002 };

/**
 * Brings one schema to the latest version (or to `target`); idempotent and safe to call concurrently. Returns the
 * versions applied. Each migration is one script, run as one transaction: when one fails, the
 * versions before it stay applied, nothing of it is, and the DatabaseError names it with
 * PostgreSQL's reason (a view of the fund's on a column that a migration changes, say).
 */
export async function migrate(pool: Pool, set: MigrationSet, target?: number): Promise<number[]> {
  return withConnection(pool, async (client) => {
    await client.query('SELECT pg_advisory_lock($1)', [LOCK[set]]);
    let current: { version: number; name: string } | null = null;
    try {
      await client.query(`CREATE SCHEMA IF NOT EXISTS ${SCHEMA[set]}`);
      const db = await client.query<{ db: string }>('SELECT current_database() AS db');
      // Loaded here: every command checks the schema versions (requireMigrated), only
      // `db migrate` and the embedded database migrate (loading it slows every process's start).
      const { default: Postgrator } = await import('postgrator');
      const postgrator = new Postgrator({
        migrationPattern: path.join(here, 'migrations', set, '*.sql'),
        driver: 'pg',
        database: db.rows[0]!.db,
        schemaTable: `${SCHEMA[set]}.schemaversion`,
        currentSchema: SCHEMA[set],
        execQuery: (query: string) => client.query(query),
      });
      postgrator.on('migration-started', (m: { version: number; name: string }) => {
        current = m;
      });
      // A target is for the tests that build a ledger as an earlier maillon left it.
      const applied = await postgrator.migrate(target === undefined ? 'max' : String(target));
      return applied.map((m) => m.version);
    } catch (err) {
      if (current === null) throw err;
      const { version, name } = current as { version: number; name: string };
      const detail = (err as { detail?: string }).detail;
      throw new DatabaseError(
        `The ${set} schema could not be brought to version ${version} (${name}): ${(err as Error).message}${detail ? ` (${detail})` : ''}. ` +
          `Nothing of version ${version} was applied. Change or remove what PostgreSQL names, then run "maillon db migrate" again.`,
        { cause: err },
      );
    } finally {
      await client.query('RESET search_path').catch(() => undefined);
      await client.query('SELECT pg_advisory_unlock($1)', [LOCK[set]]);
    }
  });
}

/** The latest version of a migration set, from its files. */
export function latestVersion(set: MigrationSet): number {
  const versions = readdirSync(path.join(here, 'migrations', set)).flatMap((f) => {
    const m = /^(\d+)\.do\./.exec(f);
    return m ? [Number(m[1])] : [];
  });
  return Math.max(0, ...versions);
}

/**
 * Refuses a schema that is missing or behind this maillon's migrations (maillon upgraded,
 * "maillon db migrate" not run yet): a flow would otherwise run on a schema it was not written for.
 */
export async function requireMigrated(pool: Pool, set: MigrationSet): Promise<void> {
  const needed = latestVersion(set);
  const res = await pool.query<{ v: number | null }>(`SELECT max(version::int) AS v FROM ${SCHEMA[set]}.schemaversion`).catch((err: { code?: string; message?: string }) => {
    if (err.code === '42P01' || err.code === '3F000') return { rows: [{ v: 0 }] };
    const url = set === 'ledger' ? 'DATABASE_URL' : 'DOSSIER_DATABASE_URL (or DATABASE_URL)';
    throw new DatabaseError(`Cannot read the version of the ${set} schema (${SCHEMA[set]}.schemaversion): ${err.message}. Check ${url} and its role.`, { cause: err });
  });
  const at = res.rows[0]?.v ?? 0;
  const where = set === 'ledger' ? 'against DATABASE_URL' : 'against DOSSIER_DATABASE_URL, or against its primary for a read-only replica';
  if (at === 0) throw new DatabaseError(`The ${set} schema is missing: run "maillon db migrate" once ${where}.`);
  if (at < needed) {
    throw new DatabaseError(`The ${set} schema is at version ${at} and this maillon needs version ${needed}: run "maillon db migrate" ${where}.`);
  }
}
