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
 * never replaces an existing file), then remove the temporary name. Either the complete file is
 * visible under its name, or nothing is. The names are durable once `syncOutbox` has run: the
 * caller calls it once for all the files it published, before its ledger records them.
 */
export async function publishFile(tmpPath: string, outbox: string, name: string): Promise<string> {
  const finalPath = path.join(outbox, name);
  try {
    await fs.link(tmpPath, finalPath);
    await fs.unlink(tmpPath);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    const why = e.code === 'EEXIST' ? 'a file with that name is already in the outbox' : e.message;
    throw new OutboxError(`Cannot publish ${name} in ${outbox}: ${why}.`, { cause: err });
  }
  return finalPath;
}

/**
 * Makes the names published in the outbox durable (fsync of the folder): one call covers every
 * file linked before it, so a run with eight submissions pays for one instead of eight.
 */
export async function syncOutbox(outbox: string): Promise<void> {
  try {
    const dir = await fs.open(outbox, 'r');
    try {
      await dir.sync();
    } finally {
      await dir.close();
    }
  } catch (err) {
    throw new OutboxError(`Cannot flush the outbox ${outbox} to disk: ${(err as Error).message}.`, { cause: err });
  }
}

/** Removes a published file again (its ledger transaction did not commit). */
export async function unpublishFile(finalPath: string): Promise<void> {
  await fs.rm(finalPath, { force: true });
}
