import type { PoolClient } from '../db/database.js';
import { CONTRACT, type TableSpec } from './contract.js';

/** What a bulk load drops and builds again on a dossier table of the contract. */
export interface Definition {
  spec: TableSpec;
  /** Primary and unique keys, exclusion constraints: name and `pg_get_constraintdef`. */
  keys: { name: string; def: string }[];
  /**
   * Other indexes, unique ones an administrator created without a constraint included (a new
   * table made LIKE the old one has none of its indexes): name and `pg_get_indexdef`.
   */
  indexes: { name: string; def: string }[];
  /** Foreign keys of this table. */
  fks: { name: string; def: string }[];
}

/** The keys, indexes and foreign keys of every dossier table of the contract. */
export async function readDefinitions(c: PoolClient): Promise<Definition[]> {
  const cons = await c.query<{ tbl: string; name: string; def: string; contype: string }>(
    `SELECT cl.relname AS tbl, con.conname AS name, pg_get_constraintdef(con.oid) AS def, con.contype::text
     FROM pg_constraint con JOIN pg_class cl ON cl.oid = con.conrelid
     WHERE con.contype IN ('p', 'u', 'x', 'f') AND con.connamespace = 'dossier'::regnamespace ORDER BY con.conname`,
  );
  const idx = await c.query<{ tbl: string; name: string; def: string }>(
    `SELECT t.relname AS tbl, i.relname AS name, pg_get_indexdef(x.indexrelid) AS def
     FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid
     WHERE t.relnamespace = 'dossier'::regnamespace
       AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conrelid = x.indrelid AND k.conindid = x.indexrelid AND k.contype IN ('p', 'u', 'x'))
     ORDER BY i.relname`,
  );
  return CONTRACT.map((spec) => ({
    spec,
    keys: cons.rows.filter((r) => r.tbl === spec.table && r.contype !== 'f'),
    fks: cons.rows.filter((r) => r.tbl === spec.table && r.contype === 'f'),
    indexes: idx.rows.filter((r) => r.tbl === spec.table),
  }));
}

/** A quoted SQL identifier. */
export function ident(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}
