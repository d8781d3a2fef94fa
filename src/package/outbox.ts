import fs from 'node:fs/promises';
import path from 'node:path';
import { OutboxError } from '../errors/errors.js';

/** Creates the outbox (and its temporary area on the same file system) with owner-only access. */
export async function prepareOutbox(outbox: string): Promise<string> {
  const tmp = path.join(outbox, '.tmp');
  try {
    await fs.mkdir(tmp, { recursive: true, mode: 0o700 });
    await fs.chmod(outbox, 0o700);
  } catch (err) {
    throw new OutboxError(`Cannot prepare the outbox ${outbox}: ${(err as Error).message}. Set MAILLON_OUTBOX to a writable folder.`, { cause: err });
  }
  return tmp;
}

/**
 * Publishes a finished temporary file under its final name in the outbox: hard link (which
 * never replaces an existing file), remove the temporary name, fsync the folder. Either the
 * complete file is visible under its name, or nothing is.
 */
export async function publishFile(tmpPath: string, outbox: string, name: string): Promise<string> {
  const finalPath = path.join(outbox, name);
  try {
    await fs.link(tmpPath, finalPath);
    await fs.unlink(tmpPath);
    const dir = await fs.open(outbox, 'r');
    try {
      await dir.sync();
    } finally {
      await dir.close();
    }
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    const why = e.code === 'EEXIST' ? 'a file with that name is already in the outbox' : e.message;
    throw new OutboxError(`Cannot publish ${name} in ${outbox}: ${why}.`, { cause: err });
  }
  return finalPath;
}

/** Removes a published file again (its ledger transaction did not commit). */
export async function unpublishFile(finalPath: string): Promise<void> {
  await fs.rm(finalPath, { force: true });
}
