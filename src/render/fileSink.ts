import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import { OutboxError } from '../errors/errors.js';

/** A file being written: text is buffered into large writes and hashed on the way. */
export interface FileSink {
  readonly path: string;
  /** Buffers text; returns a promise only when the buffer is flushed (await it then). */
  write(text: string): Promise<void> | undefined;
  /** Flushes, fsyncs and closes; returns the size and sha256 of what was written. */
  close(): Promise<{ bytes: number; sha256: string }>;
  /** Closes and removes the file (after a failure). */
  discard(): Promise<void>;
}

const CHUNK = 256 * 1024;

/** Also receives every chunk written (a validator reading along); may ask to wait. */
export type SinkTee = (chunk: Buffer) => Promise<void> | undefined;

/** Creates (exclusively, mode 0600) a file to stream into. */
export async function createFileSink(filePath: string, tee?: SinkTee): Promise<FileSink> {
  const handle = await fs.open(filePath, 'wx', 0o600).catch((err: NodeJS.ErrnoException) => {
    throw new OutboxError(`Cannot create ${filePath}: ${err.message}. Check that the folder exists and is writable.`, { cause: err });
  });
  const hash = createHash('sha256');
  let parts: string[] = [];
  let size = 0;
  let bytes = 0;
  let closed = false;
  const flush = async (): Promise<void> => {
    if (size === 0) return;
    const buf = Buffer.from(parts.join(''), 'utf8');
    parts = [];
    size = 0;
    hash.update(buf);
    bytes += buf.length;
    try {
      const teeing = tee?.(buf);
      await handle.write(buf);
      if (teeing) await teeing;
    } catch (err) {
      throw new OutboxError(`Cannot write ${filePath}: ${(err as Error).message}. Free disk space or fix the outbox, then run again.`, { cause: err });
    }
  };
  return {
    path: filePath,
    write(text) {
      parts.push(text);
      size += text.length;
      return size >= CHUNK ? flush() : undefined;
    },
    async close() {
      await flush();
      try {
        await handle.sync();
      } catch (err) {
        throw new OutboxError(`Cannot flush ${filePath} to disk: ${(err as Error).message}.`, { cause: err });
      }
      await handle.close();
      closed = true;
      return { bytes, sha256: hash.digest('hex') };
    },
    async discard() {
      if (!closed) await handle.close().catch(() => undefined);
      closed = true;
      await fs.rm(filePath, { force: true });
    },
  };
}
