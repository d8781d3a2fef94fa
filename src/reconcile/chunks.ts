import type { Writable } from 'node:stream';

/** Writes are gathered up to this size: few system calls, and memory bounded by it whatever the report's size. */
export const CHUNK_BYTES = 64 * 1024;

/**
 * Writes pieces to a stream in chunks of about CHUNK_BYTES, waiting for it to drain: what is held
 * is one chunk. A reader that goes away (`| head -1`: EPIPE, the stream destroyed) ends the
 * writing quietly; the rest is not read.
 */
export async function writeChunks(chunks: AsyncIterable<string>, out: Writable): Promise<void> {
  let pending = '';
  const flush = async (): Promise<void> => {
    const chunk = pending;
    pending = '';
    if (chunk.length > 0 && !out.destroyed && !out.write(chunk)) await drained(out);
  };
  for await (const piece of chunks) {
    if (out.destroyed) return;
    pending += piece;
    if (pending.length >= CHUNK_BYTES) await flush();
  }
  await flush();
}

/** Resolves when the stream can take more, or is closed or failed (its owner handles the error). */
function drained(out: Writable): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      out.off('drain', done).off('close', done).off('error', done);
      resolve();
    };
    out.on('drain', done).on('close', done).on('error', done);
  });
}

/** The whole text (for a report already in memory, and tests). */
export async function collectChunks(chunks: AsyncIterable<string>): Promise<string> {
  let text = '';
  for await (const piece of chunks) text += piece;
  return text;
}
