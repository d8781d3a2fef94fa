import type pg from 'pg';
import type { z } from 'zod';
import { DatabaseError } from '../errors/errors.js';

/** A pool, a checked-out client or a client: whatever can run one query. */
export type Queryable = Pick<pg.Pool | pg.PoolClient | pg.Client, 'query'>;

/**
 * A row a query returned does not have the shape the code reads: the ledger's schema and the code
 * disagree (a migration not applied, or a query changed without its schema). `query` is the
 * query's text on one line, `row` the row's position (from 0), `issues` zod's findings.
 */
export class RowShapeError extends DatabaseError {
  constructor(
    readonly query: string,
    readonly row: number,
    readonly issues: readonly { path: readonly PropertyKey[]; message: string }[],
  ) {
    const found = issues.map((i) => `${i.path.map(String).join('.') || '(row)'}: ${i.message}`).join('; ');
    super(
      `Row ${row} of the query "${query}" does not have the expected shape (${found}). Check that the ledger's migrations are applied (maillon migrate) and that this version of maillon matches the database.`,
    );
  }
}

/**
 * Runs one query and parses each row with `schema` (as slonik does): the rows come back typed, and
 * a row of another shape throws a RowShapeError naming the query, the row and the column. Rows are
 * all held in memory: for millions of rows stream them instead (src/extract/extractRows.ts).
 * pg returns BIGINT and NUMERIC as strings, timestamptz as Date, json/jsonb parsed.
 */
export async function queryRows<S extends z.ZodType>(db: Queryable, sql: string, params: readonly unknown[], schema: S): Promise<z.output<S>[]> {
  const result = await db.query<Record<string, unknown>>(sql, params as unknown[]);
  return result.rows.map((row, i) => parseRow(sql, i, row, schema));
}

/** The first row of the query, parsed with `schema`, or undefined when the query returns none. */
export async function queryFirst<S extends z.ZodType>(db: Queryable, sql: string, params: readonly unknown[], schema: S): Promise<z.output<S> | undefined> {
  const result = await db.query<Record<string, unknown>>(sql, params as unknown[]);
  const row = result.rows[0];
  return row === undefined ? undefined : parseRow(sql, 0, row, schema);
}

/** Parses one row already read (a cursor's, a RETURNING's), with the same error as queryRows. */
export function parseRow<S extends z.ZodType>(sql: string, index: number, row: unknown, schema: S): z.output<S> {
  const parsed = schema.safeParse(row);
  if (parsed.success) return parsed.data;
  throw new RowShapeError(oneLine(sql), index, parsed.error.issues);
}

function oneLine(sql: string): string {
  const text = sql.replace(/\s+/g, ' ').trim();
  return text.length > 160 ? `${text.slice(0, 157)}...` : text;
}
