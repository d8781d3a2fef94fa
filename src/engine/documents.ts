import { createWriteStream } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import tar from 'tar-stream';
import { OutboxError } from '../errors/errors.js';
import type { DocumentOutput, RecordContext } from './pipeline.js';
import { createWorkerDocumentWriter } from './documentsInWorker.js';

/** Name of the archive that holds a run's printable documents, in the run's documents folder. */
export const DOCUMENTS_ARCHIVE = 'documents.tar';

/** Writes one printable document per emitted record, as entries of one tar archive. */
export interface DocumentWriter {
  /**
   * Adds a record's document; `json` is the record as JSON.stringify wrote it (the engine has it
   * already, for the record's hash). Returns a promise only when the caller must wait (await it).
   */
  write(rec: unknown, json: string): Promise<void> | undefined;
  /** Ends the archive and waits for it to be on disk; throws the first failure. */
  flush(): Promise<void>;
  count(): number;
  /** Abandons the archive after a failure (the caller removes the folder). */
  discard(): void;
}

/**
 * Creates the writer: in a worker thread when the documents' declaration says where it is
 * exported (rendering a page costs about as much as the rest of a record's processing, and the
 * worker gets the second core), else in this thread.
 */
export function createDocumentWriter(out: DocumentOutput<unknown>, dir: string, ctx: RecordContext, mtime: Date = new Date()): DocumentWriter {
  return out.source ? createWorkerDocumentWriter(out.source, dir, ctx, mtime) : createArchiveWriter(out, dir, ctx, mtime);
}

/**
 * Writes the archive in this thread. One file per document cost a file creation each (about 250 µs here, four
 * minutes for a million affiliates); one archive is a single sequential write. A POSIX tar
 * (ustar) is read by `tar -xf` on Linux and on Windows 10 and later, and by 7-Zip; an entry is
 * taken out alone with `tar -xf documents.tar A000000001.html`. Memory stays flat: each entry
 * waits for the archive stream to accept it. The archive is 0600 and never replaces a file.
 */
export function createArchiveWriter(out: DocumentOutput<unknown>, dir: string, ctx: RecordContext, mtime: Date): DocumentWriter {
  let n = 0;
  const pack = tar.pack({ highWaterMark: 1 << 20 });
  const file = path.join(dir, DOCUMENTS_ARCHIVE);
  const written = pipeline(pack, createWriteStream(file, { mode: 0o600, flags: 'wx', highWaterMark: 1 << 20 })).catch((err: unknown) => {
    throw new OutboxError(`Cannot write the printable documents ${file}: ${(err as Error).message}.`, { cause: err });
  });
  let failure: unknown = null;
  written.catch((err: unknown) => (failure ??= err));
  return {
    async write(rec) {
      if (failure) throw failure;
      const name = out.name(rec);
      if (name.includes('/') || name.startsWith('.')) throw new OutboxError(`Refusing the document name "${name}": it must be a plain file name.`);
      const body = Buffer.from(out.render(rec, ctx), 'utf8');
      await new Promise<void>((resolve, reject) => {
        pack.entry({ name, size: body.length, mode: 0o600, mtime }, body, (err) => (err ? reject(failure ?? err) : resolve()));
      });
      n++;
    },
    async flush() {
      if (failure) throw failure;
      pack.finalize();
      await written;
      const handle = await fs.open(file, 'r');
      try {
        await handle.sync();
      } finally {
        await handle.close();
      }
    },
    count: () => n,
    discard: () => {
      failure ??= new OutboxError('The printable documents were abandoned.');
      pack.destroy();
    },
  };
}
