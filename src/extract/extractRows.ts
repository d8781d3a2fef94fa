import { StringDecoder } from 'node:string_decoder';
import { pipeline } from 'node:stream/promises';
import { to as copyTo } from 'pg-copy-streams';
import split2 from 'split2';
import { connect, type Pool, type PoolClient } from '../db/database.js';

/**
 * Streams the rows of a query (or of several, in turn) that selects ONE json column, through COPY (…) TO STDOUT:
 * the server sends rows as fast as we take them and nothing accumulates in memory.
 * Runs in a REPEATABLE READ READ ONLY transaction so that a concurrent import cannot
 * change the data under the extraction; works on a read-only replica.
 */
export async function* extractRows(pool: Pool, sql: string | readonly string[]): AsyncGenerator<unknown> {
  for await (const batch of extractBatches(pool, sql)) yield* batch;
}

/**
 * The same rows, in batches of what has arrived (up to 1,000): a consumer that handles rows
 * synchronously pays one asynchronous step per batch instead of two per row. The loop runs in
 * this generator itself, not behind a second one: batches are often small (what the line
 * splitter holds), and each level of generators costs an asynchronous step per batch.
 */
export async function* extractBatches(pool: Pool, sql: string | readonly string[]): AsyncGenerator<unknown[]> {
  const client = await connect(pool);
  let completed = false;
  try {
    await client.query(SNAPSHOT);
    // Several queries are read one after the other in the same snapshot: they agree with each other.
    for (const one of typeof sql === 'string' ? [sql] : sql) {
      const source = client.query(copyTo(`COPY (${one}) TO STDOUT`));
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
    }
    await client.query('COMMIT');
    completed = true;
  } finally {
    release(client, completed);
  }
}

/**
 * The text PostgreSQL writes for `COPY (sql) TO STDOUT (options)`, decoded as it arrives, in the
 * same kind of read-only snapshot: for output PostgreSQL formats itself (the report's long lists
 * as CSV rows or JSON text), where no row needs to become a JavaScript object. The pieces are what
 * the socket delivered (tens of KiB), never a character cut in two.
 */
export async function* copyOutText(pool: Pool, sql: string, options: string): AsyncGenerator<string> {
  const client = await connect(pool);
  let completed = false;
  try {
    await client.query(SNAPSHOT);
    const decoder = new StringDecoder('utf8');
    for await (const chunk of client.query(copyTo(`COPY (${sql}) TO STDOUT (${options})`)) as AsyncIterable<Buffer>) {
      const text = decoder.write(chunk);
      if (text) yield text;
    }
    const rest = decoder.end();
    if (rest) yield rest;
    await client.query('COMMIT');
    completed = true;
  } finally {
    release(client, completed);
  }
}

const SNAPSHOT = 'BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY';

/**
 * A COPY cut short (error, or the consumer stopped) leaves the connection in an unknown state:
 * it is discarded rather than returned to the pool.
 */
function release(client: PoolClient, completed: boolean): void {
  client.release(completed ? undefined : new Error('extraction did not complete'));
}
