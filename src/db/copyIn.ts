import { once } from 'node:events';
import { finished } from 'node:stream/promises';
import { from as copyFrom } from 'pg-copy-streams';
import type { PoolClient } from './database.js';

/** A COPY … FROM STDIN in progress: rows are buffered into large writes that respect backpressure. */
export interface CopyIn {
  /** Queues one line (already in COPY text format, ending with "\n"); returns a promise only when it flushes. */
  write(line: string): Promise<void> | undefined;
  /** Flushes and waits for the server to accept every row. */
  end(): Promise<void>;
}

const CHUNK = 256 * 1024;

/** Starts `COPY … FROM STDIN` on a client (text format). */
export function createCopyIn(client: PoolClient, sql: string): CopyIn {
  const stream = client.query(copyFrom(sql));
  let buffer: string[] = [];
  let size = 0;
  let failure: Error | null = null;
  stream.on('error', (err: Error) => {
    failure = err;
  });
  const flush = async (): Promise<void> => {
    if (failure) throw failure;
    if (size === 0) return;
    const chunk = buffer.join('');
    buffer = [];
    size = 0;
    if (!stream.write(chunk)) await Promise.race([once(stream, 'drain'), once(stream, 'error')]);
    if (failure) throw failure;
  };
  return {
    write(line) {
      buffer.push(line);
      size += line.length;
      return size >= CHUNK ? flush() : undefined;
    },
    async end() {
      await flush();
      stream.end();
      await finished(stream);
      if (failure) throw failure;
    },
  };
}

const SPECIAL = /[\\\t\n\r]/g;
const NEEDS_ESCAPE = /[\\\t\n\r]/;
const ESCAPES: Record<string, string> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' };

/** Encodes one field for COPY text format; null becomes \N. */
export function copyField(value: string | number | null | undefined): string {
  if (value === null || value === undefined) return '\\N';
  const s = String(value);
  return NEEDS_ESCAPE.test(s) ? s.replace(SPECIAL, (c) => ESCAPES[c]!) : s;
}

/** Encodes one row for COPY text format, with its newline. */
export function copyRow(fields: ReadonlyArray<string | number | null | undefined>): string {
  return `${fields.map(copyField).join('\t')}\n`;
}
