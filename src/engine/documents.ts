import path from 'node:path';
import { Header, Pax } from 'tar';
import { OutboxError } from '../errors/errors.js';
import { createFileSink } from '../render/fileSink.js';
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
export async function createDocumentWriter(out: DocumentOutput<unknown>, dir: string, ctx: RecordContext, mtime: Date): Promise<DocumentWriter> {
  return out.source ? createWorkerDocumentWriter(out.source, dir, ctx, mtime) : createArchiveWriter(out, dir, ctx, mtime);
}

/**
 * Writes the archive in this thread. One file per document cost a file creation each; one
 * archive is a single sequential write (docs/decisions/0011-printable-documents-one-tar-per-run.md).
 * A POSIX tar (ustar) is read by `tar -xf` on Linux and on Windows 10 and later, and by 7-Zip; an entry is
 * taken out alone with `tar -xf documents.tar A000000001.html`. Each entry's header is encoded by
 * node-tar's `Header`, right in the file's write buffer, the page behind it, then the zeros up to
 * the next 512-byte block (a stream object per entry, as tar-stream makes, costs several times
 * more per page). Memory stays flat: the buffer is written out when full and the caller waits
 * then. The archive is 0600 and never replaces a file.
 */
export async function createArchiveWriter(out: DocumentOutput<unknown>, dir: string, ctx: RecordContext, mtime: Date): Promise<DocumentWriter> {
  const file = path.join(dir, DOCUMENTS_ARCHIVE);
  const sink = await createFileSink(file, { hash: false });
  let n = 0;
  let failure = null as OutboxError | null;
  const failed = (err: unknown): never => {
    failure ??= err instanceof OutboxError ? err : new OutboxError(`Cannot write the printable documents ${file}: ${(err as Error).message}.`, { cause: err });
    throw failure;
  };
  // Every entry's header differs from the others only by the name and the size: one Header is
  // made and those two set before each encoding (cheaper than a new Header per entry).
  const header = new Header({ path: '', mode: 0o600, uid: 0, gid: 0, size: 0, mtime, type: 'File' });
  // One entry: [an extension header carrying a long or non-ASCII name], the header's block, the
  // page, zeros up to the next block.
  const entry =
    (name: string, page: string, extension: Buffer | null) =>
    (buf: Buffer, start: number): number => {
      let at = start;
      if (extension) at += extension.copy(buf, at);
      const size = buf.write(page, at + BLOCK);
      buf.fill(0, at, at + BLOCK);
      header.path = name;
      header.size = size;
      const needsExtension = header.encode(buf, at);
      if (needsExtension && !extension) throw new Error(`the tar header of ${name} needs an extension`);
      const end = at + BLOCK + roundUp(size);
      buf.fill(0, at + BLOCK + size, end);
      return end - start;
    };
  return {
    write(rec) {
      if (failure) throw failure;
      const name = out.name(rec);
      const refused = documentNameProblem(name);
      if (refused) throw new OutboxError(`Refusing the document name "${name}": ${refused}.`);
      const page = out.render(rec, ctx);
      // A ustar header holds 100 bytes of ASCII; anything else goes in a PAX extension header.
      const extension = SHORT_ASCII.test(name) ? null : new Pax({ path: name }).encode();
      // At most: the extension, the header's block, the page (3 bytes per UTF-16 unit), the padding.
      const most = (extension?.length ?? 0) + BLOCK + roundUp(page.length * 3);
      const flushing = sink.writeWith(most, entry(name, page, extension));
      n++;
      return flushing?.catch(failed);
    },
    async flush() {
      if (failure) throw failure;
      try {
        // The end of an archive: two blocks of zeros.
        await sink.writeWith(2 * BLOCK, (buf, at) => {
          buf.fill(0, at, at + 2 * BLOCK);
          return 2 * BLOCK;
        });
        await sink.close();
      } catch (err) {
        failed(err);
      }
    },
    count: () => n,
    discard: () => {
      failure ??= new OutboxError('The printable documents were abandoned.');
      void sink.discard();
    },
  };
}

/**
 * Why a document cannot be named so (an entry of the archive must be a plain file name), or null.
 * The engine asks before a record is written: such a record is quarantined (rule `document-name`).
 */
export function documentNameProblem(name: string): string | null {
  if (name === '' || name.includes('/') || name.startsWith('.') || CONTROL.test(name)) {
    return "the record's printable document would not have a plain file name (empty, with '/', a control character or a leading '.'): correct the identifier it is named after in the dossier";
  }
  return null;
}

const BLOCK = 512;
const roundUp = (bytes: number): number => Math.ceil(bytes / BLOCK) * BLOCK;
const SHORT_ASCII = /^[\x20-\x7e]{1,100}$/;
// eslint-disable-next-line no-control-regex
const CONTROL = /[\x00-\x1f\x7f]/;
