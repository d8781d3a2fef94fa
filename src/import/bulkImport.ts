import { existsSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { connect, inTransaction, type Pool, type PoolClient } from '../db/database.js';
import { CONTRACT, type TableSpec } from './contract.js';
import { copyFile } from './copyFile.js';
import { type Definition, ident, readDefinitions } from './dossierSchema.js';
import { minimumChecks } from './recordFormat.js';
import type { StagedFile } from './stageFile.js';
import { findSwapObstacles, readTableObjects, type TableObjects } from './tableObjects.js';

/** The bulk path found the folder not to conform, or could not be sure it does. */
export class BulkPathRefused extends Error {
  constructor(readonly reason: string) {
    super(reason);
  }
}

const NEW = '__new';
/** Session advisory lock key: one import at a time per dossier database. */
const IMPORT_LOCK = 7_362_001;
const WORKERS = 2;

/**
 * The bulk path of an import. Every dossier table is rebuilt beside the old one, under a
 * `__new` name no flow reads, by two database sessions at once (the machine's two cores): each
 * file goes unchanged into its new table through PostgreSQL's CSV reader while this process
 * checks every record against the contract (copyFile.ts), then the table's minimum values are
 * checked, its keys and indexes built and its statistics gathered; then the foreign keys are
 * validated, also two at a time. Only when everything holds are the old tables dropped and the
 * new ones renamed, in one short transaction: a flow sees the old data or the new, never a mix.
 * Imports are serialised by an advisory lock; a crashed import's `__new` tables are dropped by
 * the next one. What an administrator added to a table (tableObjects.ts: triggers, exclusion
 * constraints, grants, policies, comments, owner…) is made again on the new one; an object that
 * depends on a table (a view) or a publication of it makes the bulk path step aside before it
 * reads a file (findSwapObstacles).
 *
 * It never reports a break: on the first sign of one it throws BulkPathRefused (PostgreSQL's data
 * and integrity errors and a trigger's exception become one), leaves the dossier untouched, and the caller imports row by
 * row, which reports every break with its line. What is checked where
 * (test/import/bulkPath.test.ts breaks every column to prove it):
 * - the form of every field: the record format (recordFormat.ts, made of checkField's forms);
 * - days that do not exist (2023-02-30): PostgreSQL's date conversion;
 * - digits, enumerations, months, quarters, countries, amounts above 0, required fields: also
 *   the tables' CHECK and NOT NULL constraints, copied to the new tables;
 * - minimum values: one query per column after the load;
 * - duplicate keys and unknown references: the keys built after the load;
 * - identifiers longer than the indexes take (KEY_MAX_BYTES): the record format; a value too long
 *   for an index the contract does not know of fails its build (54000), which is refused too;
 * - what an administrator's own index, exclusion constraint or trigger refuses: the index built,
 *   the trigger fired on the load, as on the old table.
 */
export async function bulkImport(pool: Pool, folder: string, onBytes: (n: number) => void): Promise<StagedFile[]> {
  const main = await connect(pool);
  try {
    await main.query('SELECT pg_advisory_lock($1)', [IMPORT_LOCK]);
    try {
      await dropNewTables(main);
      const obstacles = await findSwapObstacles(main);
      if (obstacles.length > 0) throw new BulkPathRefused(obstacles.join('; '));
      const defs = await readDefinitions(main);
      const objects = await readTableObjects(main);
      try {
        return await rebuildAndSwap(pool, main, folder, defs, objects, onBytes);
      } finally {
        await dropNewTables(main).catch(() => undefined);
      }
    } finally {
      await main.query('SELECT pg_advisory_unlock($1)', [IMPORT_LOCK]).catch(() => undefined);
    }
  } finally {
    main.release();
  }
}

async function rebuildAndSwap(pool: Pool, main: PoolClient, folder: string, defs: Definition[], objects: ReadonlyMap<string, TableObjects>, onBytes: (n: number) => void): Promise<StagedFile[]> {
  const files = new Map<string, StagedFile>();
  // Largest files first, so that the two sessions finish together.
  const sized = await Promise.all(defs.map(async (d) => ({ d, size: await fileSize(path.join(folder, d.spec.file)) })));
  sized.sort((a, b) => b.size - a.size);
  await inParallel(
    pool,
    sized.map((s) => s.d),
    async (c, d) => {
      const file = path.join(folder, d.spec.file);
      const own = objects.get(d.spec.table)!;
      // Named as a whole too: a deferred constraint trigger refuses a row at the commit.
      await naming(
        d.spec,
        inTransaction(c, async () => {
          await c.query(`SET LOCAL DateStyle = 'ISO, YMD'`);
          await bulkSettings(c);
          await c.query(`CREATE TABLE ${newName(d.spec)} (LIKE dossier.${d.spec.table} INCLUDING DEFAULTS INCLUDING CONSTRAINTS)`);
          if (own.settings.length > 0) await c.query(`ALTER TABLE ${newName(d.spec)} ${own.settings.join(', ')}`);
          for (const t of own.triggers) for (const sql of newTrigger(t, d.spec)) await c.query(sql);
          if (existsSync(file)) {
            const copied = await naming(d.spec, copyFile(c, d.spec, file, onBytes, newName(d.spec)));
            if (copied.doubt !== null) throw new BulkPathRefused(`${d.spec.file}: ${copied.doubt}`);
            files.set(d.spec.file, { file: d.spec.file, rows: copied.rows, sha256: copied.sha256 });
            for (const { column, min } of minimumChecks(d.spec)) {
              const below = await c.query(`SELECT 1 FROM ${newName(d.spec)} WHERE ${column} < $1 LIMIT 1`, [min]);
              if (below.rowCount) throw new BulkPathRefused(`${d.spec.file}: a ${column} below ${min}`);
            }
          }
          for (const k of d.keys) await naming(d.spec, c.query(`ALTER TABLE ${newName(d.spec)} ADD CONSTRAINT ${ident(k.name + NEW)} ${k.def}`));
          for (const ix of d.indexes) await naming(d.spec, c.query(newIndexDef(ix, d.spec)));
          await c.query(`ANALYZE ${newName(d.spec)}`);
        }),
      );
    },
  );
  // Foreign keys: added unchecked (adding takes a lock that would make the two sessions wait for
  // each other), then validated two at a time (validating does not).
  // Largest checks first (rows on both sides), so that the two sessions finish together (the
  // payments' references to the contributions, the largest, came last and ran alone).
  const rowsOf = (table: string): number => files.get(CONTRACT.find((t) => t.table === table)?.file ?? '')?.rows ?? 0;
  const fks = defs.flatMap((d) => d.fks.map((fk) => ({ d, fk, rows: rowsOf(d.spec.table) + rowsOf(referencedTable(fk.def) ?? '') }))).sort((a, b) => b.rows - a.rows);
  await inTransaction(main, async () => {
    for (const { d, fk } of fks) await main.query(`ALTER TABLE ${newName(d.spec)} ADD CONSTRAINT ${ident(fk.name + NEW)} ${newFkDef(fk.def)} NOT VALID`);
  });
  await inParallel(pool, fks, async (c, { d, fk }) => {
    await inTransaction(c, async () => {
      if (!indexedReference(d, fk.def)) await c.query(`SET LOCAL maintenance_work_mem = '${SORT_MEMORY}'`);
      await naming(d.spec, c.query(`ALTER TABLE ${newName(d.spec)} VALIDATE CONSTRAINT ${ident(fk.name + NEW)}`));
    });
  });
  await inTransaction(main, async () => {
    for (const { d, fk } of fks) await main.query(`ALTER TABLE dossier.${d.spec.table} DROP CONSTRAINT ${ident(fk.name)}`);
    for (const d of defs) {
      // RESTRICT: findSwapObstacles found no view or other object depending on the table before the
      // build; one made since stops the swap (the row-by-row path empties the tables instead).
      await main.query(`DROP TABLE dossier.${d.spec.table}`).catch((err: unknown) => {
        if ((err as { code?: string }).code === '2BP01') throw new BulkPathRefused(`dossier.${d.spec.table} has dependent objects: ${(err as Error).message}`);
        throw err;
      });
      await main.query(`ALTER TABLE ${newName(d.spec)} RENAME TO ${d.spec.table}`);
      for (const k of [...d.keys, ...d.fks]) await main.query(`ALTER TABLE dossier.${d.spec.table} RENAME CONSTRAINT ${ident(k.name + NEW)} TO ${ident(k.name)}`);
      for (const ix of d.indexes) await main.query(`ALTER INDEX dossier.${ident(ix.name + NEW)} RENAME TO ${ident(ix.name)}`);
      for (const sql of objects.get(d.spec.table)!.afterSwap) await main.query(sql);
    }
    // The new tables come without the change counter's triggers (readTableObjects leaves them out:
    // on the load they would make the two sessions wait for each other), and no trigger sees a swap.
    await main.query('SELECT dossier.watch_changes()');
    await main.query('UPDATE dossier.changes SET version = version + 1');
  });
  return CONTRACT.flatMap((t) => files.get(t.file) ?? []);
}

/**
 * Memory for the sorts and hashes of the keys, indexes and reference checks, set for the
 * transaction only. PostgreSQL takes only what a sort needs; at most two sessions use it at once.
 * Enough for the largest key (the contributions') to sort in memory at national scale
 * (docs/decisions/0006-import-sort-memory-and-serial-builds.md).
 */
const SORT_MEMORY = '1GB';

/**
 * The settings of a table's load, keys and indexes (they lower the server's CPU per import:
 * docs/decisions/0006-import-sort-memory-and-serial-builds.md):
 * - SORT_MEMORY;
 * - no parallel workers for an index build: the two sessions already keep both cores busy, and
 *   the workers' start and the final merge cost CPU that one process sorting alone does not.
 */
async function bulkSettings(c: PoolClient): Promise<void> {
  await c.query(`SET LOCAL maintenance_work_mem = '${SORT_MEMORY}'`);
  await c.query(`SET LOCAL max_parallel_maintenance_workers = 0`);
}

const FK_COLUMNS = /^FOREIGN KEY \(([^)]+)\)/;

/**
 * True when one of the table's keys or indexes starts with the reference's columns. A reference
 * check runs with maintenance_work_mem as its work memory. Where such an index exists, PostgreSQL
 * merges it with the referenced key under the default memory but hashes the referenced keys once
 * given more, which is slower: that check keeps the default. Where none exists (the contributions'
 * and the payments' affiliates), it hashes the affiliates either way, and in one batch with
 * SORT_MEMORY (docs/decisions/0006-import-sort-memory-and-serial-builds.md).
 */
function indexedReference(d: Definition, fkDef: string): boolean {
  const columns = FK_COLUMNS.exec(fkDef)?.[1];
  if (columns === undefined) throw new Error(`unexpected foreign key definition: ${fkDef}`);
  return [...d.keys, ...d.indexes].some((k) => k.def.includes(`(${columns})`) || k.def.includes(`(${columns}, `));
}

/** Drops the `__new` tables of this import, or of one that crashed (under the import lock). */
async function dropNewTables(c: PoolClient): Promise<void> {
  const res = await c.query<{ t: string }>(`SELECT format('dossier.%I', tablename) AS t FROM pg_tables WHERE schemaname = 'dossier' AND tablename LIKE '%\\_\\_new'`);
  if (res.rows.length > 0) await c.query(`DROP TABLE IF EXISTS ${res.rows.map((r) => r.t).join(', ')} CASCADE`);
}

/** Runs `fn` on every item with two sessions at once; the first failure stops both and is thrown. */
async function inParallel<T>(pool: Pool, items: readonly T[], fn: (c: PoolClient, item: T) => Promise<void>): Promise<void> {
  let next = 0;
  let failure = null as { error: unknown } | null;
  const worker = async (): Promise<void> => {
    const c = await connect(pool);
    try {
      while (failure === null && next < items.length) {
        const item = items[next++]!;
        await fn(c, item).catch((err: unknown) => {
          failure ??= { error: err };
        });
      }
    } finally {
      c.release();
    }
  };
  await Promise.all(Array.from({ length: Math.min(WORKERS, items.length) }, worker));
  if (failure !== null) throw failure.error;
}

/** Turns PostgreSQL's refusals of a file's rows (isRefusal) into a refusal that names the file. */
async function naming<T>(spec: TableSpec, step: Promise<T>): Promise<T> {
  try {
    return await step;
  } catch (err) {
    if (isRefusal(err)) throw new BulkPathRefused(`${spec.file}: ${(err as Error).message}`);
    throw err;
  }
}

/**
 * True for PostgreSQL's data exceptions (class 22), integrity violations (class 23) and
 * program_limit_exceeded (54000): a value too long for an index entry ("index row size … exceeds
 * btree version 4 maximum 2704"), which the contract's checks should have named (KEY_MAX_BYTES)
 * unless an index was added that they do not know of.
 */
export function isDataError(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && (code.startsWith('22') || code.startsWith('23') || code === '54000');
}

/**
 * True for an error by which the dossier database refuses a row: a data error (isDataError: a
 * CHECK, a unique index, an index entry too long…) or a trigger's RAISE EXCEPTION (P0001).
 */
export function isRefusal(err: unknown): boolean {
  return isDataError(err) || (err as { code?: unknown } | null)?.code === 'P0001';
}

function newName(spec: Pick<TableSpec, 'table'>): string {
  return `dossier.${ident(spec.table + NEW)}`;
}

function newIndexDef(ix: { name: string; def: string }, spec: TableSpec): string {
  const def = ix.def.replace(/^CREATE (UNIQUE )?INDEX \S+ ON \S+ /, (_m, unique: string | undefined) => `CREATE ${unique ?? ''}INDEX ${ident(ix.name + NEW)} ON ${newName(spec)} `);
  if (def === ix.def) throw new Error(`unexpected index definition: ${ix.def}`);
  return def;
}

const TRIGGER_ENABLED: Record<string, string> = { D: 'DISABLE TRIGGER', R: 'ENABLE REPLICA TRIGGER', A: 'ENABLE ALWAYS TRIGGER' };

/** The statements that make a trigger of the table again on its new table, in the same state. */
function newTrigger(t: TableObjects['triggers'][number], spec: TableSpec): string[] {
  // The table is named as pg_get_triggerdef names it: qualified unless in the search path.
  const head = /^CREATE (CONSTRAINT )?TRIGGER ("(?:[^"]|"")*"|\S+) /.exec(t.def);
  const table = [` ON dossier.${spec.table} `, ` ON ${spec.table} `].find((on) => head && t.def.indexOf(on, head[0].length) >= 0);
  if (!head || table === undefined) throw new Error(`unexpected trigger definition: ${t.def}`);
  const on = t.def.indexOf(table, head[0].length);
  const def = `${t.def.slice(0, on)} ON ${newName(spec)} ${t.def.slice(on + table.length)}`;
  const state = TRIGGER_ENABLED[t.enabled];
  return state ? [def, `ALTER TABLE ${newName(spec)} ${state} ${ident(t.name)}`] : [def];
}

const REFERENCES = /REFERENCES dossier\.("?)(\w+)\1\(/;

/** The dossier table of the contract a foreign key references; null for another table (an administrator's: kept as it is). */
function referencedTable(def: string): string | null {
  const table = REFERENCES.exec(def)?.[2];
  return table !== undefined && CONTRACT.some((t) => t.table === table) ? table : null;
}

function newFkDef(def: string): string {
  const table = referencedTable(def);
  return table === null ? def : def.replace(REFERENCES, `REFERENCES ${newName({ table })}(`);
}

async function fileSize(file: string): Promise<number> {
  return stat(file).then(
    (s) => s.size,
    () => 0,
  );
}
