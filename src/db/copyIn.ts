import { once } from 'node:events';
import { finished } from 'node:stream/promises';
import { from as copyFrom } from 'pg-copy-streams';
import { createChunkBuffer } from '../system/chunkBuffer.js';
import type { PoolClient } from './database.js';

/** A COPY … FROM STDIN in progress: rows are buffered into large writes that respect backpressure. */
export interface CopyIn {
  /** Queues one line (already in COPY text format, ending with "\n"); returns a promise only when it flushes. */
  write(line: string): Promise<void> | undefined;
  /** Flushes and waits for the server to accept every row. */
  end(): Promise<void>;
  /** Abandons the COPY (CopyFail): the server keeps none of its rows; the connection can run the ROLLBACK next. */
  abort(reason: Error): Promise<void>;
}

const CHUNK = 256 * 1024;

/**
 * Starts `COPY … FROM STDIN` on a client (text format). Each line is encoded at once into a
 * 256 KB chunk (src/system/chunkBuffer.ts): gathering the lines as strings until a chunk was
 * full kept them alive long enough for V8 to move them to its old generation (a ledger line per
 * record: docs/decisions/0003-text-encoded-straight-into-buffers.md). A chunk is never reused:
 * the socket may still hold it.
 */
export function createCopyIn(client: PoolClient, sql: string): CopyIn {
  const stream = client.query(copyFrom(sql));
  let failure: Error | null = null;
  stream.on('error', (err: Error) => {
    failure = err;
  });
  // A function, so that each check reads the listener's latest value.
  const throwIfFailed = (): void => {
    if (failure) throw failure;
  };
  const chunks = createChunkBuffer(CHUNK, async (chunk) => {
    throwIfFailed();
    if (!stream.write(chunk)) await drainedOrFailed(stream);
    throwIfFailed();
  });
  return {
    write: chunks.write,
    async end() {
      await chunks.flush();
      throwIfFailed();
      stream.end();
      await finished(stream);
      throwIfFailed();
    },
    async abort(reason) {
      if (stream.destroyed) return;
      const closed = new Promise((resolve) => stream.once('close', resolve));
      stream.destroy(reason);
      await closed;
    },
  };
}

/**
 * Waits until the stream drains or fails. The listener that did not fire is removed: left
 * attached, one 'error' listener per wait piled up on the COPY (Node warned past ten, during a
 * national run's lineage).
 */
async function drainedOrFailed(stream: NodeJS.EventEmitter): Promise<void> {
  const done = new AbortController();
  try {
    await Promise.race([once(stream, 'drain', { signal: done.signal }), once(stream, 'error', { signal: done.signal })]);
  } finally {
    done.abort();
  }
}

const SPECIAL = /[\\\t\n\r]/g;
const NEEDS_ESCAPE = /[\\\t\n\r]/;
const ESCAPES: Record<string, string> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' };

/** Encodes one field for COPY text format; null becomes \N. A number needs no escape. */
export function copyField(value: string | number | null | undefined): string {
  if (value === null || value === undefined) return '\\N';
  if (typeof value === 'number') return String(value);
  return NEEDS_ESCAPE.test(value) ? value.replace(SPECIAL, (c) => ESCAPES[c]!) : value;
}

/**
 * Encodes one row for COPY text format, with its newline. Built by concatenation, without an
 * array of fields: a ledger line per record, so map and join were a visible share of a large
 * run's main thread (docs/decisions/0014-less-work-per-record.md).
 */
export function copyRow(fields: ReadonlyArray<string | number | null | undefined>): string {
  let line = copyField(fields[0]);
  for (let i = 1; i < fields.length; i++) line += `\t${copyField(fields[i])}`;
  return `${line}\n`;
}
