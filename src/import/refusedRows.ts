import type { PoolClient } from '../db/database.js';
import type { ContractBreak } from '../errors/errors.js';
import { isRefusal } from './bulkImport.js';
import { CONTRACT, type TableSpec } from './contract.js';
import { ident } from './dossierSchema.js';
import { type DatabaseRefusal, describeRefusal, type RefusingObject } from './refusingObject.js';
import { stagingTable } from './stageFile.js';

/** Rows per INSERT in a table known to hold a row the database refuses; a failing chunk is bisected. */
const CHUNK = 10_000;

/**
 * Finds the staged rows that follow the contract but that the dossier database refuses: an index,
 * a constraint or a trigger a database administrator added to a dossier table. Each is passed to
 * `onBreak` at its file:line, naming the object (describeRefusal), and the number found is
 * returned. It runs in the import's transaction, which the caller then rolls back: the dossier
 * tables are emptied and loaded again with every index, key, constraint and trigger in place, so
 * that a refusal happens at the refused row's own INSERT, but without the contract's references
 * (checkIntegrity checked them on the staged rows; a refused affiliate would otherwise have each
 * of its contributions refused too). A table goes in one INSERT; one that fails goes again CHUNK
 * rows at a time, each under a savepoint, and a failing chunk is bisected down to its refused rows:
 * about 2·log2(CHUNK) INSERTs per refused row, the staged rows never read into memory.
 */
export async function findRefusedRows(client: PoolClient, staged: ReadonlySet<string>, onBreak: (b: ContractBreak) => void): Promise<number> {
  await client.query(`TRUNCATE ${CONTRACT.map((t) => `dossier.${t.table}`).join(', ')}`);
  await dropContractReferences(client);
  const known = new Map<string, Promise<RefusingObject | null>>();
  let found = 0;
  for (const spec of CONTRACT) {
    if (!staged.has(spec.table)) continue;
    if ((await tryInsert(client, spec)) === null) continue;
    await client.query(`CREATE INDEX ON ${stagingTable(spec)} (line)`);
    const bisect = async (lines: readonly number[], from: number, to: number): Promise<void> => {
      const err = await tryInsert(client, spec, [lines[from]!, lines[to - 1]!]);
      if (err === null) return;
      if (to - from === 1) {
        found++;
        onBreak({ file: spec.file, line: lines[from]!, ...(await describeRefusal(client, spec.table, err, known)) });
        return;
      }
      const mid = (from + to) >> 1;
      await bisect(lines, from, mid);
      await bisect(lines, mid, to);
    };
    for (let after = 0; ;) {
      const chunk = await client.query<{ line: number }>(`SELECT line FROM ${stagingTable(spec)} WHERE line > $1 ORDER BY line LIMIT ${CHUNK}`, [after]);
      if (chunk.rows.length === 0) break;
      const lines = chunk.rows.map((r) => r.line);
      await bisect(lines, 0, lines.length);
      after = lines[lines.length - 1]!;
    }
  }
  return found;
}

/** Inserts the staged rows (those of the lines from…to, or all) under a savepoint; the refusal, or null. */
async function tryInsert(client: PoolClient, spec: TableSpec, lines?: [number, number]): Promise<DatabaseRefusal | null> {
  const cols = spec.columns.map((c) => c.name).join(', ');
  await client.query('SAVEPOINT refused_rows');
  try {
    await client.query(`INSERT INTO dossier.${spec.table} (${cols}) SELECT ${cols} FROM ${stagingTable(spec)} ${lines ? 'WHERE line BETWEEN $1 AND $2' : ''} ORDER BY line`, lines ? [...lines] : []);
  } catch (err) {
    if (!isRefusal(err)) throw err;
    await client.query('ROLLBACK TO SAVEPOINT refused_rows');
    await client.query('RELEASE SAVEPOINT refused_rows');
    return err as DatabaseRefusal;
  }
  await client.query('RELEASE SAVEPOINT refused_rows');
  return null;
}

/** Drops the foreign keys that state the contract's references (ReferenceSpec), in the caller's transaction. */
async function dropContractReferences(client: PoolClient): Promise<void> {
  const fks = await client.query<{ tbl: string; name: string; col: string; ref_tbl: string; ref_col: string }>(
    `SELECT cl.relname AS tbl, con.conname AS name, a.attname AS col, rcl.relname AS ref_tbl, ra.attname AS ref_col
     FROM pg_constraint con JOIN pg_class cl ON cl.oid = con.conrelid JOIN pg_class rcl ON rcl.oid = con.confrelid
     JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = con.conkey[1]
     JOIN pg_attribute ra ON ra.attrelid = con.confrelid AND ra.attnum = con.confkey[1]
     WHERE con.contype = 'f' AND con.connamespace = 'dossier'::regnamespace AND rcl.relnamespace = 'dossier'::regnamespace AND cardinality(con.conkey) = 1`,
  );
  for (const fk of fks.rows) {
    const stated = CONTRACT.some((t) => t.table === fk.tbl && t.references.some((r) => r.column === fk.col && r.table === fk.ref_tbl && r.targetColumn === fk.ref_col));
    if (stated) await client.query(`ALTER TABLE dossier.${ident(fk.tbl)} DROP CONSTRAINT ${ident(fk.name)}`);
  }
}
