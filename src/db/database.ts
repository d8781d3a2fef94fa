import pg from 'pg';
import { DatabaseError } from '../errors/errors.js';

export type Pool = pg.Pool;
export type PoolClient = pg.PoolClient;

/** Creates a connection pool; `close()` ends it. BIGINT and NUMERIC come back as strings. */
export function createPool(url: string, max = 4): pg.Pool {
  const pool = new pg.Pool({ connectionString: url, max, application_name: 'maillon' });
  // An idle client that loses its server must not crash the process; the next query reports it.
  pool.on('error', () => undefined);
  return pool;
}

/**
 * Starts maillon's transactions: read committed whatever the database's default, so that a
 * statement after a lock sees what the lock's previous holder committed (the event chain and the
 * guarded transitions rely on it; a DBA's repeatable-read default would fork the chain).
 */
export const BEGIN = 'BEGIN ISOLATION LEVEL READ COMMITTED';

/** Runs `fn` inside one transaction on one connection; commits on success, rolls back on throw. */
export async function withTransaction<T>(pool: pg.Pool, fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await connect(pool);
  try {
    return await inTransaction(client, () => fn(client));
  } finally {
    client.release();
  }
}

/** Runs `fn` inside one transaction on a connection the caller holds; commits on success, rolls back on throw. */
export async function inTransaction<T>(client: pg.PoolClient, fn: () => Promise<T>): Promise<T> {
  await client.query(BEGIN);
  try {
    const result = await fn();
    await client.query('COMMIT');
    return result;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  }
}

/** Runs `fn` with one connection of the pool, released afterwards. */
export async function withConnection<T>(pool: pg.Pool, fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await connect(pool);
  try {
    return await fn(client);
  } finally {
    client.release();
  }
}

// Clients that already have an error listener (the pool reuses them).
const guarded = new WeakSet<pg.PoolClient>();

/** Takes one connection from the pool, turning a refusal into a DatabaseError; release it yourself. */
export async function connect(pool: pg.Pool): Promise<pg.PoolClient> {
  try {
    const client = await pool.connect();
    if (!guarded.has(client)) {
      // A server lost while the client is checked out is reported by its pending query or stream;
      // without a listener the same error would also crash the process as an unhandled event.
      client.on('error', () => undefined);
      guarded.add(client);
    }
    return client;
  } catch (err) {
    throw new DatabaseError(`Cannot connect to PostgreSQL (${describeTarget(pool)}): ${(err as Error).message}. Check DATABASE_URL / DOSSIER_DATABASE_URL and that the server runs.`, { cause: err });
  }
}

function describeTarget(pool: pg.Pool): string {
  const o = pool.options;
  if (o.connectionString) {
    try {
      const u = new URL(o.connectionString);
      return `${u.hostname || 'localhost'}:${u.port || 5432}${u.pathname}`;
    } catch {
      return '(unparseable URL)';
    }
  }
  return `${o.host ?? 'localhost'}:${o.port ?? 5432}/${o.database ?? ''}`;
}

/** A connection URL with its password hidden, for messages. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(unparseable URL)';
  }
}

/** Runs one statement on a connection of its own (CREATE/DROP DATABASE cannot run in a pool transaction). */
export async function runStatement(url: string, sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}
