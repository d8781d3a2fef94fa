import type { PoolClient } from '../db/database.js';
import { ident, readDefinitions } from './dossierSchema.js';
import { readTableObjects } from './tableObjects.js';

/**
 * Runs a bulk load into the dossier schema the way PostgreSQL's "Populating a Database"
 * advises: drop its foreign keys, primary keys and indexes, load, re-create them, with their comments (each built or
 * checked in one pass instead of row by row: a duplicate key or an unknown reference fails
 * here), then ANALYZE. All inside the caller's transaction: a failure leaves the schema exactly
 * as it was.
 */
export async function withBulkLoad(client: PoolClient, fn: () => Promise<void>): Promise<void> {
  const defs = await readDefinitions(client);
  const objects = await readTableObjects(client);
  const table = (t: string): string => `dossier.${ident(t)}`;
  for (const d of defs) for (const fk of d.fks) await client.query(`ALTER TABLE ${table(d.spec.table)} DROP CONSTRAINT ${ident(fk.name)}`);
  for (const d of defs) for (const k of d.keys) await client.query(`ALTER TABLE ${table(d.spec.table)} DROP CONSTRAINT ${ident(k.name)}`);
  for (const d of defs) for (const ix of d.indexes) await client.query(`DROP INDEX ${table(ix.name)}`);
  await fn();
  for (const d of defs) for (const k of d.keys) await client.query(`ALTER TABLE ${table(d.spec.table)} ADD CONSTRAINT ${ident(k.name)} ${k.def}`);
  for (const d of defs) for (const ix of d.indexes) await client.query(ix.def);
  for (const d of defs) for (const fk of d.fks) await client.query(`ALTER TABLE ${table(d.spec.table)} ADD CONSTRAINT ${ident(fk.name)} ${fk.def}`);
  for (const d of defs) for (const sql of objects.get(d.spec.table)!.comments) await client.query(sql);
  for (const d of defs) await client.query(`ANALYZE ${table(d.spec.table)}`);
}
