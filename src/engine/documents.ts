import fs from 'node:fs/promises';
import path from 'node:path';
import { OutboxError } from '../errors/errors.js';
import type { DocumentOutput, RecordContext } from './pipeline.js';

/** Writes one printable document per emitted record into a temporary folder. */
export interface DocumentWriter {
  write(rec: unknown): Promise<void>;
  /** Waits for every write in flight; throws the first failure. */
  flush(): Promise<void>;
  count(): number;
}

// Creating a file costs a few system calls: keep several in flight, but a bounded number.
const IN_FLIGHT = 16;

/** Creates the writer; files are 0600 and never replace an existing one. */
export function createDocumentWriter(out: DocumentOutput<unknown>, dir: string, ctx: RecordContext): DocumentWriter {
  let n = 0;
  const pending = new Set<Promise<void>>();
  let failure: unknown = null;
  return {
    async write(rec) {
      if (failure) throw failure;
      const name = out.name(rec);
      if (name.includes('/') || name.startsWith('.')) throw new OutboxError(`Refusing the document name "${name}": it must be a plain file name.`);
      const p: Promise<void> = fs
        .writeFile(path.join(dir, name), out.render(rec, ctx), { mode: 0o600, flag: 'wx' })
        .then(() => {
          n++;
        })
        .catch((err: unknown) => {
          failure ??= new OutboxError(`Cannot write the document ${name}: ${(err as Error).message}.`, { cause: err });
        })
        .finally(() => pending.delete(p));
      pending.add(p);
      if (pending.size >= IN_FLIGHT) await Promise.race(pending);
    },
    async flush() {
      await Promise.all(pending);
      if (failure) throw failure;
    },
    count: () => n,
  };
}
