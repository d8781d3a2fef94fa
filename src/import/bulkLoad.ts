import type { PoolClient } from '../db/database.js';

/**
 * Runs a bulk load into the dossier schema the way PostgreSQL's "Populating a Database"
 * advises: drop its foreign keys, primary keys and indexes, load, re-create them (each built or
 * checked in one pass instead of row by row: a duplicate key or an unknown reference fails
 * here), then ANALYZE. All inside the caller's transaction: a failure leaves the schema exactly
 * as it was.
 */
export async function withBulkLoad(client: PoolClient, fn: () => Promise<void>): Promise<void> {
  const constraints = await client.query<{ tbl: string; name: string; def: string; contype: string }>(
    `SELECT conrelid::regclass::text AS tbl, quote_ident(conname) AS name, pg_get_constraintdef(oid) AS def, contype::text
     FROM pg_constraint WHERE contype IN ('f', 'p', 'u') AND connamespace = 'dossier'::regnamespace
       AND conrelid <> 'dossier.schemaversion'::regclass ORDER BY conname`,
  );
  const fks = constraints.rows.filter((c) => c.contype === 'f');
  const keys = constraints.rows.filter((c) => c.contype !== 'f');
  const indexes = await client.query<{ name: string; def: string }>(
    `SELECT i.indexrelid::regclass::text AS name, pg_get_indexdef(i.indexrelid) AS def
     FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid
     WHERE c.relnamespace = 'dossier'::regnamespace AND NOT i.indisprimary AND NOT i.indisunique ORDER BY 1`,
  );
  for (const fk of fks) await client.query(`ALTER TABLE ${fk.tbl} DROP CONSTRAINT ${fk.name}`);
  for (const k of keys) await client.query(`ALTER TABLE ${k.tbl} DROP CONSTRAINT ${k.name}`);
  for (const ix of indexes.rows) await client.query(`DROP INDEX ${ix.name}`);
  await fn();
  for (const k of keys) await client.query(`ALTER TABLE ${k.tbl} ADD CONSTRAINT ${k.name} ${k.def}`);
  for (const ix of indexes.rows) await client.query(ix.def);
  for (const fk of fks) await client.query(`ALTER TABLE ${fk.tbl} ADD CONSTRAINT ${fk.name} ${fk.def}`);
  const tables = await client.query<{ t: string }>(`SELECT format('%I.%I', schemaname, tablename) AS t FROM pg_tables WHERE schemaname = 'dossier' AND tablename <> 'schemaversion'`);
  for (const t of tables.rows) await client.query(`ANALYZE ${t.t}`);
}
