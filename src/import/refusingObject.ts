import type { PoolClient } from '../db/database.js';

/** The fields of a PostgreSQL error that name what refused a row (node-postgres' DatabaseError). */
export interface DatabaseRefusal {
  code: string;
  message: string;
  schema?: string;
  table?: string;
  constraint?: string;
  /** The error's context: for an error raised in a trigger, the function it was raised in. */
  where?: string;
}

/** Why the dossier database refused a row, said without any of its values: the column(s) and a sentence. */
export interface RefusalReason {
  /** The columns the refusing object reads, joined by `+`; `(row)` when they are not known. */
  column: string;
  reason: string;
}

/**
 * Names the object of the dossier database that refused a row the contract allows (an index,
 * a constraint or a trigger a database administrator added to a dossier table), its columns,
 * and what it found, from the error's fields and the catalog. Never the error's message or
 * detail: they can hold the row's values (personal data). `known` keeps the objects already looked
 * up, so that a thousand rows one index refuses cost one look-up.
 */
export async function describeRefusal(c: PoolClient, table: string, err: DatabaseRefusal, known: Map<string, Promise<RefusingObject | null>>): Promise<RefusalReason> {
  const schema = err.schema ?? 'dossier';
  const relation = `${schema}.${err.table ?? table}`;
  const key = JSON.stringify([relation, err.constraint ?? null, err.constraint === undefined ? (err.where ?? '') : null]);
  let found = known.get(key);
  if (!found) {
    found = err.constraint !== undefined ? constraintOrIndex(c, schema, err.table ?? table, err.constraint) : trigger(c, schema, err.table ?? table, err.where ?? '');
    known.set(key, found);
  }
  const object = await found;
  const named = object ? (object.kind === 'index' ? `index ${schema}.${object.name}` : `${object.kind} ${object.name} on ${relation}`) : `the table ${relation}`;
  const ask = object ? `ask the dossier database's administrator about this ${object.kind}` : `ask the dossier database's administrator`;
  return {
    column: object && object.columns.length > 0 ? object.columns.join('+') : '(row)',
    reason: `refused by ${named} of the dossier database (${problem(err)}); the contract allows the row: ${ask}, or correct the row in the source system`,
  };
}

/** An object of the dossier database that refused a row (see describeRefusal's `known`: looked up once per import). */
export interface RefusingObject {
  kind: string;
  name: string;
  columns: string[];
}

const CONSTRAINT_KINDS: Record<string, string> = { c: 'check constraint', u: 'unique constraint', p: 'primary key', f: 'foreign key', x: 'exclusion constraint' };

/** A constraint of the table by that name, else an index of the schema (a unique index not made by a constraint). */
async function constraintOrIndex(c: PoolClient, schema: string, table: string, name: string): Promise<RefusingObject | null> {
  const res = await c.query<{ classid: string; oid: string; contype: string | null }>(
    `SELECT 'pg_constraint'::regclass::oid AS classid, con.oid, con.contype::text AS contype
       FROM pg_constraint con WHERE con.conrelid = to_regclass(format('%I.%I', $1::text, $2::text)) AND con.conname = $3
     UNION ALL
     SELECT 'pg_class'::regclass::oid, i.oid, NULL
       FROM pg_class i WHERE i.relnamespace = to_regnamespace($1) AND i.relname = $3 AND i.relkind = 'i'
     LIMIT 1`,
    [schema, table, name],
  );
  const row = res.rows[0];
  if (!row) return null;
  // An index or a constraint depends on each column it reads, expressions included.
  const cols = await c.query<{ attname: string }>(
    `SELECT a.attname FROM pg_depend d JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid
     WHERE d.classid = $1 AND d.objid = $2 AND d.refclassid = 'pg_class'::regclass AND d.refobjsubid > 0
     GROUP BY a.attnum, a.attname ORDER BY a.attnum`,
    [row.classid, row.oid],
  );
  return { kind: row.contype === null ? 'index' : (CONSTRAINT_KINDS[row.contype] ?? 'constraint'), name, columns: cols.rows.map((r) => r.attname) };
}

/** The table's own trigger whose function raised the error (its name is in the error's context). */
async function trigger(c: PoolClient, schema: string, table: string, where: string): Promise<RefusingObject | null> {
  const res = await c.query<{ tgname: string }>(
    `SELECT t.tgname FROM pg_trigger t JOIN pg_proc p ON p.oid = t.tgfoid
     WHERE t.tgrelid = to_regclass(format('%I.%I', $1::text, $2::text)) AND NOT t.tgisinternal AND strpos($3, p.proname || '(') > 0
     ORDER BY t.tgname LIMIT 1`,
    [schema, table, where],
  );
  const row = res.rows[0];
  return row ? { kind: 'trigger', name: row.tgname, columns: [] } : null;
}

const INDEX_ROW = /^index row size (\d+) exceeds .* maximum (\d+)/;

/** What the object found, from the error's code (and, for an index entry, its sizes). */
function problem(err: DatabaseRefusal): string {
  const bytes = (n: string): string => Number(n).toLocaleString('en-US');
  const entry = err.code === '54000' ? INDEX_ROW.exec(err.message) : null;
  if (entry) return `value too long for an index entry: ${bytes(entry[1]!)} bytes, at most ${bytes(entry[2]!)}`;
  switch (err.code) {
    case '23505':
      return 'a duplicate of an earlier row';
    case '23P01':
      return 'in conflict with an earlier row';
    case '23514':
      return 'the row does not satisfy it';
    case '23503':
      return 'a reference to a row that does not exist';
    case '23502':
      return 'a value it requires is empty';
    case '22001':
      return 'a value longer than its type allows';
    case '22003':
      return 'a number out of its range';
    case '22012':
      return 'a division by zero';
    case 'P0001':
      return 'it raised an error';
    default:
      return err.code.startsWith('22') ? `a value it cannot take, PostgreSQL error ${err.code}` : `PostgreSQL error ${err.code}`;
  }
}
