import { randomBytes } from 'node:crypto';
import { constants, createWriteStream, type WriteStream } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { once } from 'node:events';
import { finished } from 'node:stream/promises';
import { OutboxError, UsageError } from '../errors/errors.js';

/**
 * Why a path the operator gave with a flag (`--out`) cannot be written, as a UsageError naming
 * it (exit 2), or null for another cause. Permission denied (or a read-only file system) is a
 * usage error too: the path is the operator's choice, nothing was done yet, and the remedy is
 * another path or the folder's permissions; exit 7 stays the signal of maillon's own outbox and
 * documents folder, which a scheduler reads as "deliveries are at risk".
 */
export function outputPathError(err: unknown, file: string, flag = '--out'): UsageError | null {
  const code = (err as NodeJS.ErrnoException | null)?.code;
  const options = { cause: err };
  switch (code) {
    case 'ENOENT':
      return new UsageError(`${flag} ${file}: the folder ${path.dirname(file)} does not exist. Create it, or give another ${flag}.`, options);
    case 'ENOTDIR':
      return new UsageError(`${flag} ${file}: a part of that path is a file, not a folder. Give another ${flag}.`, options);
    case 'EISDIR':
      return new UsageError(`${flag} ${file} is a folder: give the path of a file.`, options);
    case 'EACCES':
    case 'EPERM':
    case 'EROFS':
      return new UsageError(`${flag} ${file}: maillon may not write there (${code}: permission denied or read-only file system). Give another ${flag}, or fix the folder's permissions.`, options);
    default:
      return null;
  }
}

/**
 * Where an output file goes: `file` resolved, or the file a symbolic link there points to; null
 * for a character device or a pipe (`/dev/stdout`, `/dev/null`, a named pipe), written straight
 * to. A folder, a socket or a block device is refused: it is never replaced by a file.
 */
async function outputTarget(file: string, flag: string): Promise<string | null> {
  const resolved = path.resolve(file);
  try {
    const stat = await fs.stat(resolved);
    if (stat.isDirectory()) throw outputPathError(Object.assign(new Error('is a folder'), { code: 'EISDIR' }), file, flag)!;
    if (stat.isCharacterDevice() || stat.isFIFO()) return null;
    if (!stat.isFile()) throw new UsageError(`${flag} ${file} is not a regular file, a pipe or a terminal: give the path of a file, or leave ${flag} out to print to stdout.`);
    return await fs.realpath(resolved);
  } catch (err) {
    if (err instanceof UsageError) throw err;
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return resolved;
    throw outputPathError(err, file, flag) ?? err;
  }
}

/**
 * Writes an output file the operator named (`--out`) all or nothing, readable by its owner only
 * (0600): `write` fills a temporary file created beside it (exclusively, 0600), which is flushed
 * to disk and renamed to its name once complete. A file already there is replaced whole, never
 * truncated or left with its former mode; a failure leaves it as it was and removes the
 * temporary file. A bad path is a UsageError naming it; a write that fails (disk full) an
 * OutboxError (exit 7) saying nothing was left; an error of `write` itself is thrown as it is.
 */
export async function writeOutputFile(file: string, write: (out: WriteStream) => Promise<void>, flag = '--out'): Promise<void> {
  const target = await outputTarget(file, flag);
  if (target === null) return writeStraight(file, write, flag);
  const tmp = path.join(path.dirname(target), `.${path.basename(target)}.${randomBytes(4).toString('hex')}.tmp`);
  const out = createWriteStream(tmp, { flags: 'wx', mode: 0o600, flush: true });
  let written = false;
  try {
    try {
      await once(out, 'open');
    } catch (err) {
      throw outputPathError(err, file, flag) ?? err;
    }
    let streamError: unknown = null;
    out.on('error', (err) => (streamError ??= err));
    try {
      await write(out);
      if (!out.destroyed) out.end();
      await finished(out);
    } catch (err) {
      out.destroy();
      if (streamError === null) throw err;
    }
    if (streamError) {
      const reason = (streamError as Error).message;
      throw new OutboxError(`${file} could not be written: ${reason}. Nothing was left there (a file already at that path is unchanged): free disk space there, or give another ${flag}.`, {
        cause: streamError,
      });
    }
    try {
      await fs.rename(tmp, target);
    } catch (err) {
      throw outputPathError(err, file, flag) ?? err;
    }
    written = true;
  } finally {
    if (!written) {
      if (!out.closed) await finished(out).catch(() => undefined);
      await fs.rm(tmp, { force: true });
    }
  }
}

/** Writes to a pipe or a device (`--out /dev/stdout`): no temporary file, no mode to set. */
async function writeStraight(file: string, write: (out: WriteStream) => Promise<void>, flag: string): Promise<void> {
  const out = createWriteStream(file, { flags: 'w' });
  try {
    await once(out, 'open');
  } catch (err) {
    throw outputPathError(err, file, flag) ?? err;
  }
  let streamError: unknown = null;
  out.on('error', (err) => (streamError ??= err));
  try {
    await write(out);
    if (!out.destroyed) out.end();
    await finished(out);
  } catch (err) {
    out.destroy();
    if (streamError === null) throw err;
  }
  if (streamError) throw new OutboxError(`${file} could not be written: ${(streamError as Error).message}.`, { cause: streamError });
}

/**
 * Checks, before any work, that an output file can be created where the operator asked
 * (`evidence --out`): its folder exists, is a folder, and maillon may write in it. A UsageError
 * naming the path otherwise.
 */
export async function checkOutputFolder(file: string, flag = '--out'): Promise<void> {
  const folder = path.dirname(path.resolve(file));
  try {
    if (!(await fs.stat(folder)).isDirectory()) throw Object.assign(new Error('not a folder'), { code: 'ENOTDIR' });
    await fs.access(folder, constants.W_OK);
  } catch (err) {
    throw outputPathError(err, file, flag) ?? err;
  }
}

/**
 * Creates the folder an output goes to (`generate --out`), with its parents, or says why it
 * cannot be in a UsageError naming it: a file there or on the way, a place maillon may not write.
 * Checked on the nearest folder that exists (a recursive mkdir says ENOENT for a read-only one).
 */
export async function prepareOutputFolder(folder: string, flag = '--out'): Promise<void> {
  const notFolder = (err: unknown): UsageError => new UsageError(`${flag} ${folder}: that path, or a part of it, is a file, not a folder. Give another ${flag}.`, { cause: err });
  let existing = path.resolve(folder);
  try {
    for (;;) {
      const stat = await fs.stat(existing).catch((err: NodeJS.ErrnoException) => {
        if (err.code === 'ENOENT' && path.dirname(existing) !== existing) return null;
        throw err;
      });
      if (stat === null) existing = path.dirname(existing);
      else if (!stat.isDirectory()) throw notFolder(null);
      else break;
    }
    await fs.access(existing, constants.W_OK);
    await fs.mkdir(folder, { recursive: true });
  } catch (err) {
    if (err instanceof UsageError) throw err;
    if ((err as NodeJS.ErrnoException).code === 'ENOTDIR') throw notFolder(err);
    throw outputPathError(err, folder, flag) ?? err;
  }
}
