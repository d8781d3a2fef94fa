import fs from 'node:fs/promises';
import path from 'node:path';
import { OutboxError } from '../errors/errors.js';
import type { DocumentOutput, RecordContext } from './pipeline.js';

/** Writes one printable document per emitted record into a temporary folder, one at a time. */
export interface DocumentWriter {
  write(rec: unknown): Promise<void>;
  count(): number;
}

/** Creates the writer; files are 0600 and never replace an existing one. */
export function createDocumentWriter(out: DocumentOutput<unknown>, dir: string, ctx: RecordContext): DocumentWriter {
  let n = 0;
  return {
    async write(rec) {
      const name = out.name(rec);
      if (name.includes('/') || name.startsWith('.')) throw new OutboxError(`Refusing the document name "${name}": it must be a plain file name.`);
      await fs.writeFile(path.join(dir, name), out.render(rec, ctx), { mode: 0o600, flag: 'wx' });
      n++;
    },
    count: () => n,
  };
}
