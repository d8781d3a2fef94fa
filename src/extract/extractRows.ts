import { StringDecoder } from 'node:string_decoder';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { to as copyTo } from 'pg-copy-streams';
import split2 from 'split2';
import { connect, type Pool } from '../db/database.js';

/**
 * Streams the rows of a query that selects ONE json column, through COPY (…) TO STDOUT:
 * the server sends rows as fast as we take them and nothing accumulates in memory.
 * Runs in a REPEATABLE READ READ ONLY transaction so that a concurrent import cannot
 * change the data under the extraction; works on a read-only replica.
 */
export async function* extractRows(pool: Pool, sql: string): AsyncGenerator<unknown> {
  for await (const batch of extractBatches(pool, sql)) yield* batch;
}

/**
 * The same rows, in batches of what has arrived (up to 1,000): a consumer that handles rows
 * synchronously pays one asynchronous step per batch instead of two per row.
 */
export function extractBatches(pool: Pool, sql: string): AsyncGenerator<unknown[]> {
  return readOnlyCopy(pool, `COPY (${sql}) TO STDOUT`, async function* (source) {
    // COPY text format doubles every backslash; JSON text holds no tab and no raw newline. COPY
    // ends its lines with "\n" alone: split on that string, not on split2's default /\r?\n/.
    const lines = split2('\n', (line: string) => (line.length === 0 ? undefined : (JSON.parse(line.includes('\\') ? line.replace(/\\\\/g, '\\') : line) as unknown)));
    const flowing = pipeline(source, lines);
    flowing.catch(() => undefined);
    for await (const first of lines) {
      const batch: unknown[] = [first];
      let more: unknown;
      while (batch.length < 1000 && (more = lines.read()) !== null) batch.push(more);
      yield batch;
    }
    await flowing;
  });
}

/**
 * The text PostgreSQL writes for `COPY (sql) TO STDOUT (options)`, decoded as it arrives, in the
 * same kind of read-only snapshot: for output PostgreSQL formats itself (the report's long lists
 * as CSV rows or JSON text), where no row needs to become a JavaScript object. The pieces are what
 * the socket delivered (tens of KiB), never a character cut in two.
 */
export function copyOutText(pool: Pool, sql: string, options: string): AsyncGenerator<string> {
  return readOnlyCopy(pool, `COPY (${sql}) TO STDOUT (${options})`, async function* (source) {
    const decoder = new StringDecoder('utf8');
    for await (const chunk of source as AsyncIterable<Buffer>) {
      const text = decoder.write(chunk);
      if (text) yield text;
    }
    const rest = decoder.end();
    if (rest) yield rest;
  });
}

/** Runs a COPY … TO STDOUT in a read-only snapshot and yields what `consume` makes of it. */
async function* readOnlyCopy<T>(pool: Pool, copy: string, consume: (source: Readable) => AsyncIterable<T>): AsyncGenerator<T> {
  const client = await connect(pool);
  let completed = false;
  try {
    await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    yield* consume(client.query(copyTo(copy)));
    await client.query('COMMIT');
    completed = true;
  } finally {
    // A COPY cut short (error, or the consumer stopped) leaves the connection in an unknown
    // state: discard it rather than return it to the pool.
    client.release(completed ? undefined : new Error('extraction did not complete'));
  }
}
