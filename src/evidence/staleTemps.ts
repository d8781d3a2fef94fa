import fs from 'node:fs/promises';
import path from 'node:path';
import type { Clock } from '../clock/clock.js';

/** How old a temporary pack folder or zip must be to be another process's leftover, not its work in progress. */
export const STALE_AFTER_MS = 60 * 60 * 1000;

/**
 * Removes the temporary folders and files under `dir` whose name matches `name`, left by a pack
 * write or an export that was killed (SIGKILL, or a signal that ends the process at once) and last
 * changed more than STALE_AFTER_MS ago: full copies of the bytes sent, which no export and no
 * retention would ever reach. A folder made read-only before its rename is made writable first.
 * Returns what was removed.
 */
export async function sweepStaleTemps(dir: string, name: RegExp, clock: Clock): Promise<string[]> {
  let names: string[];
  try {
    names = (await fs.readdir(dir)).filter((n) => name.test(n));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  const removed: string[] = [];
  const before = clock.now().getTime() - STALE_AFTER_MS;
  for (const n of names) {
    const target = path.join(dir, n);
    const stat = await fs.lstat(target).catch(() => null);
    if (!stat || stat.mtimeMs > before) continue;
    if (stat.isDirectory()) await makeWritable(target);
    await fs.rm(target, { recursive: true, force: true });
    removed.push(target);
  }
  return removed;
}

/** Gives the owner back the right to change a folder and the folders under it (a pack is 0500), so that it can be removed. */
export async function makeWritable(dir: string): Promise<void> {
  await fs.chmod(dir, 0o700).catch(() => undefined);
  const entries = await fs.readdir(dir, { withFileTypes: true }).catch(() => []);
  for (const e of entries) if (e.isDirectory()) await makeWritable(path.join(dir, e.name));
}
