import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import { OutboxError } from '../errors/errors.js';
import { type ChunkBuffer, createChunkBuffer } from '../system/chunkBuffer.js';

/** A file being written: bytes are gathered into large writes (`write`, `writeWith`) and hashed on the way. */
export interface FileSink extends Pick<ChunkBuffer, 'write' | 'writeWith' | 'length'> {
  readonly path: string;
  /** Flushes, fsyncs and closes; returns the size and the sha256 of what was written (null when not hashed). */
  close(): Promise<{ bytes: number; sha256: string | null }>;
  /** Closes and removes the file (after a failure). */
  discard(): Promise<void>;
}

/** Bytes per write. */
const CHUNK = 1024 * 1024;

/** Also receives every chunk written (a validator reading along); may ask to wait. */
export type SinkTee = (chunk: Buffer) => Promise<void> | undefined;

export interface SinkOptions {
  tee?: SinkTee;
  /** Default true: compute the sha256 of the file as it is written. */
  hash?: boolean;
}

/**
 * Creates (exclusively, mode 0600) a file to stream into. Text is encoded straight into a
 * 1 MiB buffer (src/system/chunkBuffer.ts): joining the pieces into one string first cost several
 * times as much CPU. A full buffer is handed to the file (and
 * the tee) and another one taken, so nothing written is ever overwritten while in flight. A
 * buffer whose bytes are written comes back for reuse: a new one for every MiB left hundreds of
 * dead buffers to the garbage collector between its full collections
 * (docs/decisions/0003-text-encoded-straight-into-buffers.md).
 */
export async function createFileSink(filePath: string, options: SinkOptions = {}): Promise<FileSink> {
  const handle = await fs.open(filePath, 'wx', 0o600).catch((err: NodeJS.ErrnoException) => {
    throw new OutboxError(`Cannot create ${filePath}: ${err.message}. Check that the folder exists and is writable.`, { cause: err });
  });
  const { tee } = options;
  const hash = options.hash === false ? null : createHash('sha256');
  // Buffers whose bytes are written, ready to be filled again.
  const spare: Buffer[] = [];
  let bytes = 0;
  let closed = false;
  /** Writes `chunk` (the start of `whole`); `whole` is reused once nothing refers to it any more. */
  const writeOut = async (chunk: Buffer, whole: Buffer | null): Promise<void> => {
    hash?.update(chunk);
    bytes += chunk.length;
    try {
      const teeing = tee?.(chunk);
      // A write may take only part of the chunk (a disk filling up): write the rest, and
      // let the next write report the error.
      for (let done = 0; done < chunk.length;) done += (await handle.write(chunk, done)).bytesWritten;
      if (teeing) await teeing;
      // A tee that did not ask to wait may still hold the chunk in its queue: not reused then.
      if (whole && (!tee || teeing) && spare.length < 2) spare.push(whole);
    } catch (err) {
      throw new OutboxError(`Cannot write ${filePath}: ${(err as Error).message}. Free disk space there (or fix the folder's permissions), then run again.`, { cause: err });
    }
  };
  const chunks = createChunkBuffer(CHUNK, writeOut, () => spare.pop() ?? Buffer.allocUnsafe(CHUNK));
  return {
    path: filePath,
    write: chunks.write,
    writeWith: chunks.writeWith,
    length: chunks.length,
    async close() {
      await chunks.flush();
      try {
        await handle.sync();
      } catch (err) {
        throw new OutboxError(`Cannot flush ${filePath} to disk: ${(err as Error).message}.`, { cause: err });
      }
      await handle.close();
      closed = true;
      return { bytes, sha256: hash ? hash.digest('hex') : null };
    },
    async discard() {
      if (!closed) await handle.close().catch(() => undefined);
      closed = true;
      await fs.rm(filePath, { force: true });
    },
  };
}
